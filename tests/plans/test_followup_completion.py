"""An agreement whose every installment is paid is completed: the case resolved, the hold lifted, a revisit
scheduled, the thank-you sent once, and the waived remainder written off so that nothing fights over it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import Case, CaseStatus
from cases.services import cases_refresh_aging
from compliance.models import AuditEvent, Hold
from config.errors import Conflict
from negotiation.models import FollowUpTask, OutboundMessage
from plans.followup import agreement_complete, agreement_thanks_send
from plans.models import Agreement, PortalLink
from tests.plans.followup_setup import agreement_in_force, follow_up_case, pay

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sms_folder(settings, tmp_path):
    settings.SMS_GATEWAY = "negotiation.gateways.FileSmsGateway"
    settings.SMS_FILE_DIR = str(tmp_path / "sms")
    return tmp_path / "sms"


@pytest.fixture
def case(team, collector):
    return follow_up_case(team, collector)


@pytest.fixture
def agreement(case):
    # ¥8,700 overdue; the ¥700 of interest and fees waived; ¥8,000 in four installments.
    return agreement_in_force(case, ["2000.00"] * 4, timezone.localdate() + timedelta(days=10))


def pay_everything(case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pay(case, "6000.00")
        pay(case, "2000.00")


def test_the_last_installment_paid_completes_the_agreement(case, agreement, django_capture_on_commit_callbacks):
    pay_everything(case, django_capture_on_commit_callbacks)

    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.COMPLETED
    assert agreement.ended_at is not None


def test_completion_resolves_the_case_with_the_complete_transition(case, agreement, django_capture_on_commit_callbacks):
    pay_everything(case, django_capture_on_commit_callbacks)

    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert case.transitions.first().name == "complete"


def test_completion_lifts_the_agreement_hold(case, agreement, django_capture_on_commit_callbacks):
    pay_everything(case, django_capture_on_commit_callbacks)

    hold = Hold.objects.get(case=case, kind=Hold.Kind.AGREEMENT_IN_FORCE)
    assert hold.lifted_at is not None


def test_completion_schedules_a_revisit_for_the_collector(
    case, agreement, collector, settings, django_capture_on_commit_callbacks
):
    settings.REVISIT_AFTER_DAYS = 30
    pay_everything(case, django_capture_on_commit_callbacks)

    task = FollowUpTask.objects.get(case=case, kind=FollowUpTask.Kind.REVISIT)
    assert task.assigned_to == collector
    assert task.due_on == timezone.localdate() + timedelta(days=30)


def test_completion_sends_the_thank_you_with_a_survey_link(case, agreement, django_capture_on_commit_callbacks):
    pay_everything(case, django_capture_on_commit_callbacks)

    link = PortalLink.objects.get(case=case, created_by__isnull=True, message__isnull=False)
    assert link.message.purpose == "service"
    assert agreement.number in link.message.body
    assert "/p/" in link.message.body


def test_the_thank_you_goes_once_however_often_its_task_runs(case, agreement, django_capture_on_commit_callbacks):
    pay_everything(case, django_capture_on_commit_callbacks)

    assert agreement_thanks_send(agreement_id=agreement.pk) is None
    assert PortalLink.objects.filter(case=case, message__isnull=False).count() == 1
    assert OutboundMessage.objects.filter(case=case, idempotency_key__startswith="portal-link-").count() == 1


def test_the_waived_remainder_is_written_off_and_recorded(case, agreement, django_capture_on_commit_callbacks):
    pay_everything(case, django_capture_on_commit_callbacks)

    account = case.account
    account.refresh_from_db()
    assert account.overdue_total == Decimal("0.00")
    assert account.delinquent_since is None
    event = AuditEvent.objects.get(action="agreement.complete")
    assert sum(Decimal(v) for v in event.changes["written_off"].values()) == Decimal("700.00")


def test_the_nightly_aging_opens_no_new_case_after_completion(case, agreement, django_capture_on_commit_callbacks):
    pay_everything(case, django_capture_on_commit_callbacks)

    cases_refresh_aging()

    assert Case.objects.filter(account=case.account).count() == 1


def test_no_more_than_the_waived_amount_is_written_off(team, collector, django_capture_on_commit_callbacks):
    case = follow_up_case(team, collector)
    agreement = agreement_in_force(case, ["4000.00"] * 2, timezone.localdate(), total_waived="500.00")
    pay_everything(case, django_capture_on_commit_callbacks)

    case.account.refresh_from_db()
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.COMPLETED
    assert case.account.overdue_total == Decimal("200.00")  # owed beyond what the offer waived


def test_an_account_cleared_before_the_plan_interest_is_paid_keeps_its_case_in_follow_up(team, collector):
    # ¥700 waived, ¥8,000 financed plus ¥1,000 of plan interest: the ¥8,700 on the account is paid first.
    case = follow_up_case(team, collector)
    agreement = agreement_in_force(
        case, ["4500.00", "4500.00"], timezone.localdate(), interest=["500.00", "500.00"], total_waived="700.00"
    )
    pay(case, "4500.00")
    pay(case, "4200.00")

    cases_refresh_aging()

    case.refresh_from_db()
    case.account.refresh_from_db()
    agreement.refresh_from_db()
    assert case.account.overdue_total == Decimal("0.00")
    assert (case.status, agreement.status) == (CaseStatus.FOLLOW_UP, Agreement.Status.IN_FORCE)


def test_the_plan_interest_paid_then_completes_the_agreement(team, collector):
    case = follow_up_case(team, collector)
    agreement = agreement_in_force(
        case, ["4500.00", "4500.00"], timezone.localdate(), interest=["500.00", "500.00"], total_waived="700.00"
    )
    pay(case, "8700.00")
    pay(case, "300.00")

    case.refresh_from_db()
    agreement.refresh_from_db()
    assert (case.status, agreement.status) == (CaseStatus.RESOLVED, Agreement.Status.COMPLETED)


def test_completing_an_agreement_with_an_unpaid_installment_is_refused(case, agreement):
    with pytest.raises(Conflict) as refused:
        agreement_complete(agreement_id=agreement.pk)

    assert refused.value.code == "installments_not_all_paid"
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.IN_FORCE


def test_completing_twice_changes_nothing(case, agreement, django_capture_on_commit_callbacks):
    pay_everything(case, django_capture_on_commit_callbacks)
    before = AuditEvent.objects.count()

    agreement_complete(agreement_id=agreement.pk)

    assert AuditEvent.objects.count() == before
    assert FollowUpTask.objects.filter(case=case, kind=FollowUpTask.Kind.REVISIT).count() == 1
