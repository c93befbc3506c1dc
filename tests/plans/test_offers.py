"""Offer creation: the balance snapshot, the case's move to plan, affordability in both settings modes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from cases.models import CaseStatus, CaseTransition
from compliance.models import AuditEvent
from config.errors import Conflict, DomainError
from plans.models import Offer, PlanKind
from plans.services import Balance, OfferError, OfferTerms, offer_create, offers_suggest, schedule_terms
from tests.factories import case_in, verified

pytestmark = pytest.mark.django_db


def terms(**overrides) -> dict:
    base = {
        "kind": PlanKind.INSTALLMENTS,
        "method": "annuity",
        "months": 12,
        "first_due_date": timezone.localdate() + timedelta(days=30),
        "annual_rate": Decimal("0"),
        "monthly_fee_rate": Decimal("0"),
        "interest_waiver_pct": Decimal("0"),
        "fee_waiver_pct": Decimal("0"),
        "grace_months": 0,
    }
    return {**base, **overrides}


@pytest.fixture
def case(team):
    case = case_in(CaseStatus.VERIFICATION, team=team)
    verified(case)
    return case


def test_an_offer_snapshots_the_overdue_balance_and_stores_its_schedule(case, collector):
    offer = offer_create(case_id=case.pk, actor=collector, **terms())
    assert (offer.principal, offer.interest, offer.fees) == (Decimal("8000.00"), Decimal("600.00"), Decimal("100.00"))
    assert offer.financed_amount == Decimal("8700.00")
    assert len(offer.schedule) == 12
    assert sum(Decimal(line["amount"]) for line in offer.schedule) == offer.total_payable
    assert offer.largest_installment == Decimal("725.00")
    assert offer.disposable_income == Decimal("4000.00")


def test_an_offer_in_verification_moves_the_case_to_plan(case, collector):
    offer_create(case_id=case.pk, actor=collector, **terms())
    case.refresh_from_db()
    assert case.status == CaseStatus.PLAN
    assert CaseTransition.objects.filter(case=case, name="propose_plan", actor=collector).exists()


def test_a_second_offer_in_plan_leaves_the_case_in_plan(case, collector):
    offer_create(case_id=case.pk, actor=collector, **terms())
    offer_create(case_id=case.pk, actor=collector, **terms(months=6))
    case.refresh_from_db()
    assert case.status == CaseStatus.PLAN
    assert case.offers.count() == 2


def test_an_offer_is_refused_in_notify_and_nothing_is_stored(team, collector):
    case = case_in(CaseStatus.NOTIFY, team=team)
    with pytest.raises(Conflict) as refused:
        offer_create(case_id=case.pk, actor=collector, **terms())
    assert refused.value.code == OfferError.CASE_STATE
    assert not Offer.objects.exists()


def test_an_offer_in_verification_without_a_verified_situation_is_refused(team, collector):
    case = case_in(CaseStatus.VERIFICATION, team=team)
    with pytest.raises(Conflict) as refused:
        offer_create(case_id=case.pk, actor=collector, **terms())
    assert refused.value.code == OfferError.NOT_VERIFIED
    case.refresh_from_db()
    assert case.status == CaseStatus.VERIFICATION


def test_an_offer_on_another_teams_case_is_refused(other_team, collector):
    case = case_in(CaseStatus.VERIFICATION, team=other_team)
    verified(case)
    with pytest.raises(PermissionDenied):
        offer_create(case_id=case.pk, actor=collector, **terms())


def test_creating_an_offer_is_audited(case, collector):
    offer = offer_create(case_id=case.pk, actor=collector, **terms())
    event = AuditEvent.objects.get(action="offer.create")
    assert event.target_id == str(offer.pk) and event.case_id == case.pk and event.actor == collector
    assert event.changes["status"] == Offer.Status.READY


def test_an_unaffordable_offer_is_blocked_when_the_setting_says_block(case, collector, settings):
    settings.PLAN_AFFORDABILITY = "block"
    with pytest.raises(DomainError) as refused:
        offer_create(case_id=case.pk, actor=collector, affordability_override="wants it", **terms(months=2))
    assert refused.value.code == OfferError.UNAFFORDABLE
    assert not Offer.objects.exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.VERIFICATION


def test_an_unaffordable_offer_needs_a_written_reason_when_the_setting_says_override(case, collector, settings):
    settings.PLAN_AFFORDABILITY = "override"
    with pytest.raises(DomainError) as refused:
        offer_create(case_id=case.pk, actor=collector, affordability_override="  ", **terms(months=2))
    assert refused.value.code == OfferError.OVERRIDE_REASON_REQUIRED
    assert not Offer.objects.exists()


def test_an_unaffordable_offer_with_a_reason_is_kept_and_flagged(case, collector, settings):
    settings.PLAN_AFFORDABILITY = "override"
    offer = offer_create(
        case_id=case.pk, actor=collector, affordability_override="A bonus is due next month.", **terms(months=2)
    )
    assert offer.unaffordable is True
    assert offer.largest_installment == Decimal("4350.00")
    assert offer.affordability_override == "A bonus is due next month."


def test_an_affordable_offer_is_not_flagged(case, collector, settings):
    settings.PLAN_AFFORDABILITY = "block"
    offer = offer_create(case_id=case.pk, actor=collector, **terms(months=3))
    assert offer.unaffordable is False and offer.affordability_override == ""


def test_a_plan_over_sixty_months_grace_included_is_refused(case, supervisor):
    with pytest.raises(DomainError) as refused:
        offer_create(case_id=case.pk, actor=supervisor, **terms(kind=PlanKind.PAUSE, months=58, grace_months=3))
    assert refused.value.code == OfferError.TOO_LONG


def test_a_waiver_lowers_the_financed_amount(case, collector):
    offer = offer_create(
        case_id=case.pk, actor=collector, **terms(interest_waiver_pct=Decimal("30"), fee_waiver_pct=Decimal("20"))
    )
    assert offer.total_waived == Decimal("200.00")
    assert offer.financed_amount == Decimal("8500.00")


def test_a_calculator_refusal_names_the_field(case, collector):
    with pytest.raises(DomainError) as refused:
        offer_create(case_id=case.pk, actor=collector, **terms(method="flat_fee", annual_rate=Decimal("0.1")))
    assert refused.value.details == {"field": "annual_rate"}


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"grace_months": 2}, "grace_months"),
        ({"kind": PlanKind.PAUSE, "grace_months": 0}, "grace_months"),
        ({"kind": PlanKind.DEFERRAL}, "first_due_date"),
        ({"kind": PlanKind.RESTRUCTURE, "annual_rate": Decimal("0")}, "annual_rate"),
        ({"kind": PlanKind.RESTRUCTURE, "method": "flat_fee", "annual_rate": Decimal("0")}, "annual_rate"),
    ],
)
def test_terms_that_do_not_fit_the_kind_are_refused(overrides, field):
    today = timezone.localdate()
    offer_terms = OfferTerms(**{**terms(), **overrides})
    with pytest.raises(DomainError) as refused:
        schedule_terms(terms=offer_terms, balance=Balance(Decimal("100"), Decimal("0"), Decimal("0")), today=today)
    assert refused.value.code == OfferError.KIND_TERMS
    assert refused.value.details == {"field": field}


def test_a_pause_moves_the_first_installment_after_the_grace_months(case, collector):
    first = timezone.localdate().replace(day=1) + timedelta(days=40)
    offer = offer_create(
        case_id=case.pk, actor=collector, **terms(kind=PlanKind.PAUSE, grace_months=2, first_due_date=first)
    )
    assert offer.schedule[0]["due_date"] > first.isoformat()
    assert offer.status == Offer.Status.READY


def test_a_limit_adjustment_needs_its_expiry(case, supervisor):
    with pytest.raises(DomainError) as refused:
        offer_create(case_id=case.pk, actor=supervisor, new_limit=Decimal("20000"), **terms())
    assert refused.value.code == OfferError.LIMIT_TERMS


def test_suggestions_fit_the_verified_disposable_income(case):
    suggestions = offers_suggest(case=case)
    assert {s.code for s in suggestions} >= {"annuity", "flat_fee"}
    for suggestion in suggestions:
        assert suggestion.fits
        assert suggestion.largest_installment <= Decimal("4000.00")
        assert suggestion.terms.months <= 60


def test_the_shortest_fitting_term_is_suggested(case):
    annuity = next(s for s in offers_suggest(case=case) if s.code == "annuity")
    # 8,700 at 12 % a year: three months is ¥2,958 a month, two would be ¥4,394.
    assert annuity.terms.months == 3


def test_the_suggestion_within_authority_needs_no_approval(case):
    within = next(s for s in offers_suggest(case=case) if s.code == "within_authority")
    assert within.approval_needed is False
    assert within.terms.interest_waiver_pct == Decimal("30.00")


def test_no_suggestion_without_a_verified_income(team):
    case = case_in(CaseStatus.VERIFICATION, team=team)
    assert offers_suggest(case=case) == []
