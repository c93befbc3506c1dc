"""Authority limits: what a role may offer alone, the shipped defaults, and who edits them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseStatus
from compliance.models import AuditEvent
from config.errors import DomainError
from plans.models import AuthorityLimit, Offer, PlanKind
from plans.services import (
    ApprovalCode,
    OfferError,
    authority_limit_update,
    authority_limits_ensure_shipped,
    offer_create,
)
from tests.factories import case_in, verified

pytestmark = pytest.mark.django_db


def terms(**overrides) -> dict:
    base = {
        "kind": PlanKind.INSTALLMENTS,
        "method": "annuity",
        "months": 12,
        "first_due_date": timezone.localdate() + timedelta(days=30),
    }
    return {**base, **overrides}


@pytest.fixture
def case(team):
    case = case_in(CaseStatus.VERIFICATION, team=team)
    verified(case)
    return case


def codes(offer: Offer) -> set[str]:
    return {reason["code"] for reason in offer.approval_reasons}


def test_the_shipped_limits_exist_after_migrating():
    collector = AuthorityLimit.objects.get(role="collector")
    assert (collector.max_interest_waiver_pct, collector.max_fee_waiver_pct) == (Decimal("30"), Decimal("30"))
    assert (collector.max_months, collector.max_grace_months, collector.may_adjust_limit) == (24, 3, False)
    supervisor = AuthorityLimit.objects.get(role="supervisor")
    assert (supervisor.max_months, supervisor.max_grace_months, supervisor.may_adjust_limit) == (60, 12, True)


def test_ensuring_the_shipped_limits_never_overwrites_an_edited_one():
    AuthorityLimit.objects.filter(role="collector").update(max_months=12)
    authority_limits_ensure_shipped()
    assert AuthorityLimit.objects.get(role="collector").max_months == 12
    assert AuthorityLimit.objects.filter(role="collector").count() == 1


def test_an_offer_within_the_collectors_authority_is_ready(case, collector):
    offer = offer_create(case_id=case.pk, actor=collector, interest_waiver_pct=Decimal("30"), **terms(months=24))
    assert offer.status == Offer.Status.READY
    assert offer.approval_reasons == []


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"interest_waiver_pct": Decimal("50")}, ApprovalCode.INTEREST_WAIVER),
        ({"fee_waiver_pct": Decimal("31")}, ApprovalCode.FEE_WAIVER),
        ({"months": 25}, ApprovalCode.MONTHS),
        ({"kind": PlanKind.PAUSE, "grace_months": 4}, ApprovalCode.GRACE),
        ({"new_limit": Decimal("20000"), "new_limit_expires_on": timezone.localdate() + timedelta(days=90)},
         ApprovalCode.LIMIT_ADJUSTMENT),
    ],
)
def test_an_offer_beyond_the_collectors_authority_waits_for_approval_with_its_reason(case, collector, overrides, code):
    offer = offer_create(case_id=case.pk, actor=collector, **terms(**overrides))
    assert offer.status == Offer.Status.PENDING_APPROVAL
    assert codes(offer) == {code}
    assert all(reason["detail"] for reason in offer.approval_reasons)


def test_every_excess_is_listed(case, collector):
    offer = offer_create(
        case_id=case.pk, actor=collector, interest_waiver_pct=Decimal("50"), fee_waiver_pct=Decimal("50"),
        **terms(months=36),
    )
    assert codes(offer) == {ApprovalCode.INTEREST_WAIVER, ApprovalCode.FEE_WAIVER, ApprovalCode.MONTHS}


def test_a_long_deferral_counts_against_the_grace_authority(case, collector):
    offer = offer_create(
        case_id=case.pk, actor=collector,
        **terms(kind=PlanKind.DEFERRAL, first_due_date=timezone.localdate() + timedelta(days=200)),
    )
    assert codes(offer) == {ApprovalCode.GRACE}


def test_a_short_deferral_is_within_the_collectors_authority(case, collector):
    offer = offer_create(
        case_id=case.pk, actor=collector,
        **terms(kind=PlanKind.DEFERRAL, first_due_date=timezone.localdate() + timedelta(days=70)),
    )
    assert offer.status == Offer.Status.READY


def test_the_same_terms_are_within_a_supervisors_authority(case, supervisor):
    offer = offer_create(case_id=case.pk, actor=supervisor, interest_waiver_pct=Decimal("100"), **terms(months=48))
    assert offer.status == Offer.Status.READY


def test_a_role_without_a_limit_needs_approval_for_every_offer(case, collector):
    AuthorityLimit.objects.filter(role="collector").delete()
    offer = offer_create(case_id=case.pk, actor=collector, **terms())
    assert codes(offer) == {ApprovalCode.NO_AUTHORITY}


def test_a_lowered_limit_applies_to_the_next_offer(case, collector, supervisor):
    limit = AuthorityLimit.objects.get(role="collector")
    authority_limit_update(limit_id=limit.pk, actor=supervisor, max_months=6)
    offer = offer_create(case_id=case.pk, actor=collector, **terms(months=12))
    assert codes(offer) == {ApprovalCode.MONTHS}


def test_a_supervisor_changes_a_limit_and_it_is_audited(supervisor):
    limit = AuthorityLimit.objects.get(role="collector")
    authority_limit_update(limit_id=limit.pk, actor=supervisor, max_interest_waiver_pct=Decimal("40"))
    limit.refresh_from_db()
    assert limit.max_interest_waiver_pct == Decimal("40") and limit.updated_by == supervisor
    event = AuditEvent.objects.get(action="authority_limit.update")
    assert event.changes == {"max_interest_waiver_pct": ["30.00", "40"]}


def test_a_collector_cannot_change_a_limit(collector):
    limit = AuthorityLimit.objects.get(role="collector")
    with pytest.raises(PermissionDenied):
        authority_limit_update(limit_id=limit.pk, actor=collector, max_months=60)


def test_a_limit_beyond_the_sixty_month_ceiling_is_refused(supervisor):
    limit = AuthorityLimit.objects.get(role="collector")
    with pytest.raises(DomainError) as refused:
        authority_limit_update(limit_id=limit.pk, actor=supervisor, max_months=61)
    assert refused.value.code == OfferError.INVALID_LIMIT
    limit.refresh_from_db()
    assert limit.max_months == 24


def test_the_authority_page_saves_a_changed_row(client, supervisor):
    client.force_login(supervisor)
    limits = list(AuthorityLimit.objects.order_by("role"))
    data = {"form-TOTAL_FORMS": len(limits), "form-INITIAL_FORMS": len(limits)}
    for index, limit in enumerate(limits):
        data.update({
            f"form-{index}-id": limit.pk,
            f"form-{index}-max_interest_waiver_pct": limit.max_interest_waiver_pct,
            f"form-{index}-max_fee_waiver_pct": limit.max_fee_waiver_pct,
            f"form-{index}-max_months": 18 if limit.role == "collector" else limit.max_months,
            f"form-{index}-max_grace_months": limit.max_grace_months,
            f"form-{index}-may_adjust_limit": "on" if limit.may_adjust_limit else "",
        })
    response = client.post(reverse("plans:authority"), data)
    assert response.status_code == 302
    assert AuthorityLimit.objects.get(role="collector").max_months == 18
    assert AuditEvent.objects.filter(action="authority_limit.update").count() == 1


def test_the_authority_page_is_for_supervisors(client, collector):
    client.force_login(collector)
    assert client.get(reverse("plans:authority")).status_code == 403
