"""Retention: cardholders whose every case is closed are anonymised once their last activity is older than
the retention period (RETENTION_YEARS, never below the jurisdiction's minimum: CN 2, US 3 years); amounts
and the audit log stay."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from cases.models import CardAccount, Case, ContactPerson, Debtor, Payment
from compliance import audit
from compliance.models import AuditEvent
from compliance.services import ANONYMISED_NAME, debtors_anonymise_expired, retention_years
from compliance.tasks import anonymise_expired_records
from negotiation.models import Contact
from tests.factories import CardAccountFactory, DebtorFactory, case_in

pytestmark = pytest.mark.django_db

YEAR = timedelta(days=365)


@pytest.fixture(autouse=True)
def _five_years(settings):
    settings.RETENTION_YEARS = 5


def closed_case(years_ago: float, *, status: str = "closed", jurisdiction: str = "CN", debtor=None) -> Case:
    """A case opened and closed `years_ago` (the debtor's only activity unless a test adds some)."""
    debtor = debtor or DebtorFactory(jurisdiction=jurisdiction)
    moment = timezone.now() - years_ago * YEAR
    return case_in(
        status,
        account=CardAccountFactory(debtor=debtor),
        opened_at=moment - timedelta(days=30),
        closed_at=moment,
    )


def debtor_of(case: Case) -> Debtor:
    return Debtor.objects.get(pk=case.account.debtor_id)


def test_a_debtor_closed_longer_ago_than_the_retention_is_anonymised():
    case = closed_case(6)
    debtor = debtor_of(case)
    ContactPerson.objects.create(debtor=debtor, name="李强", mobile="13900000000", relation="guarantor")

    debtors_anonymise_expired()

    debtor.refresh_from_db()
    assert debtor.full_name == ANONYMISED_NAME
    assert (debtor.national_id, debtor.mobile, debtor.email, debtor.city) == ("", "", "", "")
    assert debtor.key == f"anon:{debtor.pk}"
    assert debtor.anonymised_at is not None
    assert debtor.do_not_contact is True
    assert not ContactPerson.objects.filter(debtor=debtor).exists()


def test_anonymising_keeps_the_amounts_and_the_cases():
    case = closed_case(6)
    before = CardAccount.objects.filter(pk=case.account_id).values().get()

    debtors_anonymise_expired()

    after = CardAccount.objects.filter(pk=case.account_id).values().get()
    assert after == before
    assert Case.objects.get(pk=case.pk).status == "closed"


def test_a_debtor_inside_the_configured_retention_is_kept():
    case = closed_case(4)

    debtors_anonymise_expired()

    assert debtor_of(case).anonymised_at is None


def test_the_cn_minimum_of_2_years_wins_over_a_shorter_configured_retention(settings):
    settings.RETENTION_YEARS = 1
    recent = closed_case(1.5)
    old = closed_case(2.5)

    debtors_anonymise_expired()

    assert debtor_of(recent).anonymised_at is None
    assert debtor_of(old).anonymised_at is not None


def test_the_us_minimum_of_3_years_wins_over_a_shorter_configured_retention(settings):
    settings.RETENTION_YEARS = 1
    recent = closed_case(2.5, jurisdiction="US")
    old = closed_case(3.5, jurisdiction="US")

    debtors_anonymise_expired()

    assert debtor_of(recent).anonymised_at is None
    assert debtor_of(old).anonymised_at is not None


def test_the_effective_retention_is_the_longer_of_the_configured_and_the_minimum():
    assert retention_years(jurisdiction="CN", configured=1) == 2
    assert retention_years(jurisdiction="US", configured=1) == 3
    assert retention_years(jurisdiction="CN", configured=5) == 5


def test_a_debtor_with_an_open_case_is_never_anonymised():
    old = closed_case(8)
    debtor = debtor_of(old)
    case_in("follow_up", account=CardAccountFactory(debtor=debtor), opened_at=timezone.now() - 8 * YEAR)

    debtors_anonymise_expired()

    assert debtor_of(old).anonymised_at is None


def test_a_resolved_case_counts_as_finished_like_a_closed_one():
    case = closed_case(6, status="resolved")

    debtors_anonymise_expired()

    assert debtor_of(case).anonymised_at is not None


def test_a_recent_payment_keeps_the_debtor():
    case = closed_case(6)
    Payment.objects.create(
        account=case.account,
        external_ref="PAY-1",
        amount=Decimal("100.00"),
        paid_at=timezone.now() - 2 * YEAR,
        days_past_due=400,
    )

    debtors_anonymise_expired()

    assert debtor_of(case).anonymised_at is None


def test_a_recent_contact_keeps_the_debtor():
    case = closed_case(6)
    Contact.objects.create(case=case, channel="phone", outcome="no_answer", at=timezone.now() - 4 * YEAR)

    debtors_anonymise_expired()

    assert debtor_of(case).anonymised_at is None


def _old_event(case: Case, years_ago: float) -> AuditEvent:
    with mock.patch("compliance.audit.timezone.now", return_value=timezone.now() - years_ago * YEAR):
        return audit.record(action="case.note", case_id=case.pk, changes={"note": "called the branch"})


def test_a_recent_audit_event_on_a_case_keeps_the_debtor():
    case = closed_case(6)
    _old_event(case, 1)

    debtors_anonymise_expired()

    assert debtor_of(case).anonymised_at is None


def test_anonymising_never_touches_the_audit_log():
    case = closed_case(7)
    _old_event(case, 6.5)
    before = list(AuditEvent.objects.order_by("pk").values_list("pk", "hash", "changes"))

    debtors_anonymise_expired()

    assert debtor_of(case).anonymised_at is not None
    after = list(AuditEvent.objects.order_by("pk").values_list("pk", "hash", "changes"))
    assert after[: len(before)] == before
    assert [event.action for event in AuditEvent.objects.filter(pk__gt=before[-1][0])] == ["retention.anonymise"]
    assert audit.first_broken_event() is None


def test_each_run_records_one_audit_event_with_its_counts():
    closed_case(6)
    closed_case(7)
    closed_case(1)

    debtors_anonymise_expired()

    event = AuditEvent.objects.get(action="retention.anonymise")
    assert event.changes["debtors"] == 2
    assert event.changes["jurisdictions"]["CN"]["years"] == 5
    assert event.changes["configured_years"] == 5


def test_running_twice_anonymises_nothing_more():
    case = closed_case(6)
    debtors_anonymise_expired()
    first = debtor_of(case).anonymised_at

    second_run = debtors_anonymise_expired()

    assert second_run["debtors"] == 0
    assert debtor_of(case).anonymised_at == first
    assert AuditEvent.objects.filter(action="retention.anonymise").count() == 2


def test_anonymising_works_through_every_chunk():
    cases = [closed_case(6) for _ in range(5)]

    result = debtors_anonymise_expired(chunk_size=2)

    assert result["debtors"] == 5
    assert all(debtor_of(case).anonymised_at is not None for case in cases)


def test_a_debtor_without_any_case_is_left_alone():
    debtor = DebtorFactory()
    Debtor.objects.filter(pk=debtor.pk).update(created_at=timezone.now() - 9 * YEAR)

    debtors_anonymise_expired()

    debtor.refresh_from_db()
    assert debtor.anonymised_at is None


def test_the_daily_task_anonymises_the_expired_debtors():
    case = closed_case(6)

    assert anonymise_expired_records.delay().get() == 1

    assert debtor_of(case).full_name == ANONYMISED_NAME
