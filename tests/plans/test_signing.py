"""Signing an accepted offer in the portal: one transaction that checks everything first, then keeps the
agreement, its installments and PDF, the limit change, the case's move to follow-up and the hold."""

import hashlib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.db import DatabaseError, transaction

from cases.models import CardAccount, Case, CaseTransition
from compliance.models import AuditEvent, Hold
from config.errors import Conflict, DomainError
from plans.agreements import AgreementAltered, AgreementError, agreement_pdf_bytes, agreement_sign
from plans.codes import CodeError, CodeRefused, LinkNotLive, code_send
from plans.models import Agreement, Installment, Offer, OneTimeCode, PortalEvent, SignatureChanged
from tests.plans.signing_setup import (
    DAYTIME,
    Clock,
    ensure_code_template,
    link_for,
    offer_for,
    other_than,
    plan_case,
    sent_code,
)

pytestmark = pytest.mark.django_db
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SMS_GATEWAY = "negotiation.gateways.FileSmsGateway"
    settings.SMS_FILE_DIR = str(tmp_path / "sms")
    return settings.MEDIA_ROOT


@pytest.fixture
def clock():
    clock = Clock(DAYTIME)
    with mock.patch("django.utils.timezone.now", side_effect=clock):
        yield clock


@pytest.fixture
def case(db):
    ensure_code_template()
    return plan_case()


@pytest.fixture
def offer(case):
    return offer_for(case, new_limit=Decimal("3000.00"), new_limit_expires_on=DAYTIME.date() + timedelta(days=180))


@pytest.fixture
def other_offer(case):
    return offer_for(case, status=Offer.Status.OFFERED, months=12)


@pytest.fixture
def link(case):
    return link_for(case)


@pytest.fixture
def code(clock, link):
    return sent_code(code_send(link_id=link.pk, purpose=OneTimeCode.Purpose.SIGN))


def sign(offer, link, code, **overrides):
    arguments = {"offer_id": offer.pk, "link_id": link.pk, "signer_name": " 王芳 ", "consent": True, "code": code,
                 "ip": "203.0.113.9", "user_agent": BROWSER} | overrides
    return agreement_sign(**arguments)


def snapshot(case, media):
    """Everything a refused signature must leave as it was (the code's attempts aside)."""
    case.refresh_from_db()
    account = CardAccount.objects.get(pk=case.account_id)
    return {
        "status": case.status,
        "offers": sorted(Offer.objects.filter(case=case).values_list("pk", "status")),
        "agreements": Agreement.objects.count(),
        "installments": Installment.objects.count(),
        "holds": Hold.objects.filter(case=case).count(),
        "limit": (account.temporary_limit, account.temporary_limit_expires_on),
        "events": PortalEvent.objects.count(),
        "transitions": CaseTransition.objects.filter(case=case).count(),
        "used": OneTimeCode.objects.filter(used_at__isnull=False).count(),
        "files": sorted(str(path) for path in Path(media).rglob("*.pdf")),
    }


# --- A successful signature ----------------------------------------------------------------------------


def test_signing_moves_the_case_through_signed_agreement_to_follow_up(offer, link, code):
    sign(offer, link, code)

    assert Case.objects.get(pk=offer.case_id).status == "follow_up"
    assert list(CaseTransition.objects.filter(case_id=offer.case_id).order_by("pk").values_list("source", "target")) \
        == [("plan", "signed_agreement"), ("signed_agreement", "follow_up")]


def test_signing_creates_installments_equal_to_the_schedule(offer, link, code):
    agreement = sign(offer, link, code)

    rows = list(agreement.installments.order_by("number").values("number", "due_date", "amount", "principal",
                                                                   "interest", "fee"))
    assert [{key: str(value) for key, value in row.items()} for row in rows] == [
        {key: str(value) for key, value in line.items()} for line in offer.schedule
    ]
    assert sum(row["amount"] for row in rows) == offer.total_payable


def test_signing_marks_the_offer_signed_and_withdraws_the_other_open_offers(offer, other_offer, link, code):
    rejected = offer_for(offer.case, status=Offer.Status.REJECTED)

    sign(offer, link, code)

    assert dict(Offer.objects.values_list("pk", "status")) == {
        offer.pk: "signed", other_offer.pk: "withdrawn", rejected.pk: "rejected"
    }


def test_signing_applies_the_offers_temporary_limit(offer, link, code):
    sign(offer, link, code)

    account = CardAccount.objects.get(pk=offer.case.account_id)
    assert (account.temporary_limit, account.temporary_limit_expires_on) == (
        Decimal("3000.00"), DAYTIME.date() + timedelta(days=180)
    )


def test_signing_puts_the_agreement_in_force_hold(offer, link, code):
    sign(offer, link, code)

    assert Hold.objects.get(case_id=offer.case_id, lifted_at__isnull=True).kind == Hold.Kind.AGREEMENT_IN_FORCE


def test_the_agreement_keeps_the_signature_and_uses_the_code(offer, link, code):
    agreement = sign(offer, link, code)

    agreement.refresh_from_db()
    assert (agreement.signer_name, agreement.signed_at, agreement.signer_ip, agreement.signer_user_agent) == (
        "王芳", DAYTIME, "203.0.113.9", BROWSER
    )
    assert agreement.number == f"AG20261203-{offer.case_id:08d}-1"
    assert agreement.status == Agreement.Status.IN_FORCE
    assert OneTimeCode.objects.get(pk=agreement.code_id).used_at == DAYTIME


def test_the_pdf_is_kept_privately_and_its_sha256_matches_the_file(offer, link, code, private_media):
    agreement = sign(offer, link, code)

    path = Path(agreement.pdf.path)
    assert path.is_relative_to(Path(private_media) / "private" / "agreements")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == agreement.sha256
    assert agreement_pdf_bytes(agreement=agreement).startswith(b"%PDF-")


def test_a_pdf_changed_on_disk_is_refused_when_read(offer, link, code):
    agreement = sign(offer, link, code)
    Path(agreement.pdf.path).write_bytes(b"%PDF-1.7 something else")

    with pytest.raises(AgreementAltered):
        agreement_pdf_bytes(agreement=agreement)


def test_signing_is_recorded_as_a_portal_event_and_audited(offer, link, code):
    agreement = sign(offer, link, code)

    event = PortalEvent.objects.get(kind=PortalEvent.Kind.SIGNED)
    assert (event.link_id, event.case_id, event.ip, event.user_agent, event.at) == (
        link.pk, offer.case_id, "203.0.113.9", BROWSER, DAYTIME
    )
    audit = AuditEvent.objects.get(action="agreement.sign")
    assert (audit.target_id, audit.case_id, audit.actor_kind, audit.ip) == (
        str(agreement.pk), offer.case_id, "cardholder", "203.0.113.9"
    )
    assert audit.changes["sha256"] == agreement.sha256


def test_an_address_that_is_not_an_ip_is_kept_as_unknown(offer, link, code):
    assert sign(offer, link, code, ip="not-an-ip").signer_ip is None


# --- Refusals change nothing ------------------------------------------------------------------------------


def test_signing_twice_is_refused_as_already_signed_and_changes_nothing(offer, link, code, clock, private_media):
    sign(offer, link, code)
    clock.advance(minutes=2)
    second = sent_code(code_send(link_id=link.pk, purpose=OneTimeCode.Purpose.SIGN))
    before = snapshot(offer.case, private_media)

    with pytest.raises(Conflict) as refused:
        sign(offer, link, second)

    assert (refused.value.code, refused.value.http_status) == (AgreementError.ALREADY_SIGNED, 409)
    assert snapshot(offer.case, private_media) == before


@pytest.mark.parametrize("change", [
    {"principal_overdue": Decimal("7999.00")},
    {"interest_overdue": Decimal("650.00")},
    {"fees_overdue": Decimal("0.00")},
])
def test_an_offer_whose_balance_moved_is_refused_as_stale_and_nothing_changes(offer, link, code, private_media,
                                                                             change):
    CardAccount.objects.filter(pk=offer.case.account_id).update(**change)
    before = snapshot(offer.case, private_media)

    with pytest.raises(Conflict) as refused:
        sign(offer, link, code)

    assert (refused.value.code, refused.value.http_status) == (AgreementError.OFFER_STALE, 409)
    assert snapshot(offer.case, private_media) == before


def test_an_offer_on_a_case_no_longer_in_plan_is_refused_as_stale(offer, link, code):
    Case.objects.filter(pk=offer.case_id).update(status="verification")

    with pytest.raises(Conflict) as refused:
        sign(offer, link, code)

    assert refused.value.code == AgreementError.OFFER_STALE


@pytest.mark.parametrize("overrides, error", [
    ({"signer_name": "王 芳"}, AgreementError.NAME_MISMATCH),
    ({"signer_name": "李伟"}, AgreementError.NAME_MISMATCH),
    ({"signer_name": ""}, AgreementError.NAME_MISMATCH),
    ({"consent": False}, AgreementError.CONSENT_REQUIRED),
])
def test_a_wrong_name_or_missing_consent_is_refused_and_nothing_changes(offer, link, code, private_media, overrides,
                                                                        error):
    before = snapshot(offer.case, private_media)

    with pytest.raises(DomainError) as refused:
        sign(offer, link, code, **overrides)

    assert refused.value.code == error
    assert snapshot(offer.case, private_media) == before
    assert OneTimeCode.objects.get().attempts == 0


def test_a_wrong_code_is_refused_nothing_changes_but_the_try_is_counted(offer, link, code, private_media):
    before = snapshot(offer.case, private_media)

    with pytest.raises(CodeRefused) as refused:
        sign(offer, link, other_than(code))

    assert refused.value.code == CodeError.WRONG
    assert snapshot(offer.case, private_media) == before
    assert OneTimeCode.objects.get().attempts == 1


def test_the_right_code_signs_after_a_wrong_one(offer, link, code):
    with pytest.raises(CodeRefused):
        sign(offer, link, other_than(code))

    assert sign(offer, link, code).code.attempts == 1


@pytest.mark.parametrize("status, error", [
    (Offer.Status.OFFERED, AgreementError.OFFER_NOT_ACCEPTED),
    (Offer.Status.PENDING_APPROVAL, AgreementError.OFFER_NOT_ACCEPTED),
    (Offer.Status.WITHDRAWN, AgreementError.OFFER_CLOSED),
    (Offer.Status.REJECTED, AgreementError.OFFER_CLOSED),
])
def test_only_an_accepted_offer_can_be_signed(case, link, code, status, error):
    offer = offer_for(case, status=status)

    with pytest.raises(Conflict) as refused:
        sign(offer, link, code)

    assert refused.value.code == error
    assert not Agreement.objects.exists()


def test_a_revoked_link_cannot_sign(offer, link, code):
    link.revoked_at = DAYTIME
    link.save()

    with pytest.raises(LinkNotLive):
        sign(offer, link, code)
    assert not Agreement.objects.exists()


def test_a_link_of_another_case_cannot_sign_this_offer(offer, code, clock):
    stranger = link_for(plan_case())

    with pytest.raises(DomainError) as refused:
        sign(offer, stranger, code)

    assert refused.value.code == AgreementError.LINK_OTHER_CASE
    assert not Agreement.objects.exists()


# --- Immutability ---------------------------------------------------------------------------------------------


def test_the_signature_of_a_signed_agreement_cannot_be_changed(offer, link, code):
    agreement = sign(offer, link, code)
    agreement.signer_name = "李伟"

    with pytest.raises(SignatureChanged) as refused:
        agreement.save()

    assert refused.value.fields == ["signer_name"]
    assert Agreement.objects.get().signer_name == "王芳"


def test_the_status_of_a_signed_agreement_may_change(offer, link, code):
    agreement = Agreement.objects.get(pk=sign(offer, link, code).pk)
    agreement.status, agreement.missed_count, agreement.ended_at = Agreement.Status.BREACHED, 2, DAYTIME

    agreement.save()

    assert Agreement.objects.get().status == Agreement.Status.BREACHED


@pytest.mark.postgres
def test_postgresql_refuses_a_changed_signature_even_behind_the_models_back(offer, link, code):
    agreement = sign(offer, link, code)

    with pytest.raises(DatabaseError), transaction.atomic():
        Agreement.objects.filter(pk=agreement.pk).update(sha256="0" * 64)
    Agreement.objects.filter(pk=agreement.pk).update(status=Agreement.Status.COMPLETED)

    assert Agreement.objects.values_list("sha256", "status").get() == (agreement.sha256, "completed")
