"""What the stateful consistency test found in the services, each as the rule it now keeps."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import CaseStatus, CaseTransition
from cases.services import TransitionRefused, case_transition
from compliance.models import Complaint, Hold
from compliance.services import complaint_register, hold_set
from config.errors import Conflict
from negotiation.escalation import (
    placement_approve,
    placement_propose,
    placement_recall,
    referral_approve,
    referral_propose,
    referral_withdraw,
)
from negotiation.models import Agency
from plans.models import Agreement
from tests.factories import CaseFactory, UserFactory, case_in
from tests.plans.followup_setup import agreement_in_force, follow_up_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency(db):
    return Agency.objects.create(name="华安资产管理", licence_number="SH-2026-001")


def test_a_case_with_an_agreement_in_force_cannot_be_closed(team, collector, supervisor):
    case = follow_up_case(team, collector)
    agreement = agreement_in_force(case, ["4000.00", "4700.00"], timezone.localdate() + timedelta(days=10))

    with pytest.raises(TransitionRefused) as refused:
        case_transition(case_id=case.pk, name="close", actor=supervisor, reason="debt sold")

    assert refused.value.details[0]["code"] == "agreement_in_force"
    case.refresh_from_db()
    agreement.refresh_from_db()
    assert case.status == CaseStatus.FOLLOW_UP and agreement.status == Agreement.Status.IN_FORCE


def test_closing_a_case_lifts_every_hold_on_it(team, supervisor, compliance_officer):
    case = case_in("first_contact", team=team)
    hold_set(case_id=case.pk, kind=Hold.Kind.DECEASED, reason="death certificate", actor=compliance_officer)
    hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason="disputes the fees", actor=supervisor)

    case_transition(case_id=case.pk, name="close", actor=supervisor, reason="written off")

    holds = Hold.objects.filter(case=case)
    assert holds.count() == 2 and not holds.filter(lifted_at__isnull=True).exists()
    # A code read in each reader's language; the text kept beside it is in the bank's.
    assert set(holds.values_list("lift_reason_code", flat=True)) == {"case_ended"}
    assert set(holds.values_list("lift_reason", flat=True)) == {"已解除：案件状态为“已关闭”。"}


def test_a_closed_case_takes_no_hold_and_a_complaint_about_it_none_either(team, compliance_officer):
    case = case_in("closed", team=team)

    with pytest.raises(Conflict) as refused:
        hold_set(case_id=case.pk, kind=Hold.Kind.BANKRUPTCY, reason="court order", actor=compliance_officer)
    complaint = complaint_register(
        channel=Complaint.Channel.PHONE, category=Complaint.Category.CONTACT_CONDUCT, description="rude",
        actor=compliance_officer, case_id=case.pk, hold=True,
    )

    assert refused.value.code == "case_ended"
    assert complaint.pk and not Hold.objects.filter(case=case).exists()


def test_recalling_the_last_placement_returns_the_escalated_case_to_negotiation(
    team, collector, supervisor, agency
):
    case = CaseFactory(team=team)
    placement = placement_propose(case_id=case.pk, agency_id=agency.pk, actor=collector)
    placement_approve(placement_id=placement.pk, actor=supervisor, reason="no payment in 4 months")
    referral = referral_propose(case_id=case.pk, actor=collector)
    referral_approve(referral_id=referral.pk, actor=supervisor, reason="large amount")

    placement_recall(placement_id=placement.pk, actor=supervisor, reason="agency lost its licence")
    case.refresh_from_db()
    assert case.status == CaseStatus.ESCALATED  # the referral still tracks it

    referral_withdraw(referral_id=referral.pk, actor=supervisor, reason="settling out of court")
    case.refresh_from_db()
    assert case.status == CaseStatus.FIRST_CONTACT
    step = CaseTransition.objects.filter(case=case).first()
    assert (step.name, step.actor, step.reason) == ("return_to_negotiation", None, "settling out of court")


def test_a_recall_on_a_case_no_longer_escalated_moves_nothing(team, collector, supervisor, agency):
    case = CaseFactory(team=team)
    placement = placement_propose(case_id=case.pk, agency_id=agency.pk, actor=collector)
    placement_approve(placement_id=placement.pk, actor=supervisor, reason="no payment in 4 months")
    case_transition(case_id=case.pk, name="return_to_negotiation", actor=supervisor, reason="will pay")

    placement_recall(placement_id=placement.pk, actor=UserFactory(role="legal", team=None), reason="done")

    case.refresh_from_db()
    assert case.status == CaseStatus.FIRST_CONTACT
    assert CaseTransition.objects.filter(case=case, name="return_to_negotiation").count() == 1
