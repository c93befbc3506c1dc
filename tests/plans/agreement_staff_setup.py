"""A really signed agreement (PDF, SHA-256, installments) on a case of a given team, for the staff-side tests."""

import itertools
import uuid

from plans.agreements import agreement_sign
from plans.codes import code_send
from plans.models import Agreement, Offer, OneTimeCode
from tests.factories import make_national_id
from tests.plans.portal_support import make_link, make_offer, plan_case
from tests.plans.signing_setup import ensure_code_template, sent_code

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"
SIGNER_IP = "203.0.113.9"
_cardholders = itertools.count(500)


def private_media(settings, tmp_path) -> None:
    """Agreements under a temporary MEDIA_ROOT, codes through the file SMS gateway (where sent_code reads them)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SMS_GATEWAY = "negotiation.gateways.FileSmsGateway"
    settings.SMS_FILE_DIR = str(tmp_path / "sms")


def signed_agreement(*, team, collector, months: int = 3, case=None) -> Agreement:
    """Sign, through the portal's service, an accepted offer of `months` installments on a new case of `team`
    (or on `case`, which must be in plan)."""
    ensure_code_template()
    if case is None:
        case = plan_case(team=team, collector=collector, national_id=make_national_id(next(_cardholders)))
    offer = make_offer(case, created_by=collector, status=Offer.Status.ACCEPTED, months=months)
    link, _token = make_link(case, token=f"test-token-{uuid.uuid4().hex}")
    otp = code_send(link_id=link.pk, purpose=OneTimeCode.Purpose.SIGN)
    return agreement_sign(
        offer_id=offer.pk, link_id=link.pk, signer_name="王芳", consent=True, code=sent_code(otp), ip=SIGNER_IP,
        user_agent=BROWSER,
    )
