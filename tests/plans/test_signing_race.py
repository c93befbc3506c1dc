"""Two signatures of the same offer at the same moment (a double tap, two tabs): exactly one agreement.
Needs PostgreSQL: each thread has its own connection, and the row locks are what is exercised."""

import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection

from config.errors import DomainError
from plans.agreements import AgreementError, agreement_sign
from plans.codes import code_send
from plans.models import Agreement, Installment, OneTimeCode
from tests.plans.signing_setup import DAYTIME, Clock, ensure_code_template, link_for, offer_for, plan_case, sent_code

TIMEOUT = 30


def in_threads(*targets) -> list:
    """Start every target at once, each in its own thread and connection; what each returned or raised."""
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)

    def runner(index, target):
        try:
            barrier.wait(TIMEOUT)
            results[index] = target()
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "a thread is stuck: a lock was never released"
    return results


@pytest.mark.postgres
def test_two_simultaneous_signatures_of_one_offer_make_one_agreement(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SMS_FILE_DIR = str(tmp_path / "sms")
    clock = Clock(DAYTIME)
    with mock.patch("django.utils.timezone.now", side_effect=clock):
        ensure_code_template()
        case = plan_case()
        offer = offer_for(case, new_limit=Decimal("3000.00"))
        link = link_for(case)
        code = sent_code(code_send(link_id=link.pk, purpose=OneTimeCode.Purpose.SIGN))

        def signing():
            return agreement_sign(offer_id=offer.pk, link_id=link.pk, signer_name="王芳", consent=True, code=code,
                                  ip="203.0.113.9", user_agent="test")

        results = in_threads(signing, signing)

    signed = [result for result in results if isinstance(result, Agreement)]
    refused = [result for result in results if isinstance(result, DomainError)]
    assert (len(signed), len(refused)) == (1, 1), results
    assert refused[0].code == AgreementError.ALREADY_SIGNED
    assert Agreement.objects.count() == 1
    assert Installment.objects.count() == len(offer.schedule)
    assert sorted(path.name for path in (tmp_path / "media").rglob("*.pdf")) == [signed[0].pdf.name.rsplit("/")[-1]]
