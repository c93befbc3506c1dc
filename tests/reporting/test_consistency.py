"""The consistency checker: it holds on what the services leave, and each contradiction written straight
into the tables (bypassing the services) makes `check_consistency` exit 1 naming the case."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from cases.models import Case
from compliance.models import AuditEvent, Hold
from negotiation.models import Agency, LitigationReferral, Placement
from plans.models import Agreement, Installment, InstallmentAllocation
from reporting.consistency import CHECKS, consistency_check
from reporting.models import ConsistencyRun
from reporting.tasks import check_consistency
from tests.factories import TeamFactory, UserFactory, case_in
from tests.plans.followup_setup import agreement_in_force, follow_up_case, pay

pytestmark = pytest.mark.django_db


def run_command(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("check_consistency", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def kept():
    """A case in follow-up with an agreement in force of three installments, the first paid: as signing
    and a payment leave it."""
    team = TeamFactory()
    case = follow_up_case(team, UserFactory(role="collector", team=team))
    agreement = agreement_in_force(case, ["3000.00", "3000.00", "2000.00"], timezone.localdate() + timedelta(days=5))
    payment = pay(case, "3000.00")
    return case, agreement, payment


def found(output: str, code: str, case: Case) -> bool:
    """The command printed `code` with this case number under it."""
    section = output.split(f"{code}:", 1)[1] if f"{code}:" in output else ""
    section = section.split("\n", 1)[1] if section else ""
    lines = []
    for line in section.splitlines():
        if not line.startswith("  "):
            break
        lines.append(line.strip())
    return case.number in lines


def test_an_agreement_kept_through_the_services_holds(kept):
    assert run_command() == (0, "No contradiction: 11 checks hold.\n")


def test_check_consistency_exits_0_after_seed_demo(settings):
    settings.DEMO_MODE = True
    call_command("seed_demo", stdout=StringIO())
    status, output = run_command()
    assert status == 0, output


def _close(case, agreement, payment):
    Case.objects.filter(pk=case.pk).update(status="closed", closed_at=timezone.now())


def _resolve_with_an_unpaid_installment(case, agreement, payment):
    Hold.objects.filter(case=case).update(lifted_at=timezone.now())
    Agreement.objects.filter(pk=agreement.pk).update(status="completed", ended_at=timezone.now())
    Case.objects.filter(pk=case.pk).update(status="resolved", closed_at=timezone.now())


def _drop_the_agreement_state(case, agreement, payment):
    Hold.objects.filter(case=case).update(lifted_at=timezone.now())
    Agreement.objects.filter(pk=agreement.pk).update(status="breached", ended_at=timezone.now())


def _remove_the_installments(case, agreement, payment):
    InstallmentAllocation.objects.filter(installment__agreement=agreement).delete()
    Installment.objects.filter(agreement=agreement).delete()


def _inflate_an_installment(case, agreement, payment):
    Installment.objects.filter(agreement=agreement, number=3).update(amount=F("amount") + Decimal("0.01"))


def _mark_paid_without_payment(case, agreement, payment):
    Installment.objects.filter(agreement=agreement, number=2).update(paid_amount=F("amount"), status="paid")


def _lift_the_agreement_hold(case, agreement, payment):
    Hold.objects.filter(case=case, kind=Hold.Kind.AGREEMENT_IN_FORCE).update(lifted_at=timezone.now())


def _breach_without_lifting(case, agreement, payment):
    Agreement.objects.filter(pk=agreement.pk).update(status="breached", ended_at=timezone.now())
    Case.objects.filter(pk=case.pk).update(status="broken")


def _allocate_twice(case, agreement, payment):
    second = agreement.installments.get(number=2)
    InstallmentAllocation.objects.create(installment=second, payment=payment, amount=payment.amount)
    Installment.objects.filter(pk=second.pk).update(paid_amount=F("amount"), status="paid")


@pytest.mark.parametrize(
    "corrupt, code",
    [
        (_close, "ended_with_live_agreement"),
        (_resolve_with_an_unpaid_installment, "ended_with_live_agreement"),
        (_drop_the_agreement_state, "agreement_state_without_agreement"),
        (_remove_the_installments, "agreement_without_installments"),
        (_inflate_an_installment, "installments_not_payable"),
        (_mark_paid_without_payment, "installment_paid_without_allocation"),
        (_lift_the_agreement_hold, "agreement_hold_missing"),
        (_breach_without_lifting, "agreement_hold_without_agreement"),
        (_close, "hold_on_ended_case"),
        (_allocate_twice, "payment_allocated_twice"),
    ],
)
def test_a_contradiction_in_an_agreement_makes_the_command_fail_naming_the_case(kept, corrupt, code):
    case, agreement, payment = kept
    corrupt(case, agreement, payment)
    status, output = run_command()
    assert status == 1
    assert found(output, code, case), output


@pytest.mark.parametrize("status", ["signed_agreement", "follow_up"])
def test_an_agreement_state_without_an_agreement_is_found(status):
    case = case_in(status)
    code, output = run_command()
    assert code == 1 and found(output, "agreement_state_without_agreement", case), output


def test_an_active_hold_on_a_closed_case_is_found_and_an_expired_one_is_not():
    case = case_in("closed")
    Hold.objects.create(case=case, kind=Hold.Kind.DISPUTE, reason="test", set_at=timezone.now())
    code, output = run_command()
    assert code == 1 and found(output, "hold_on_ended_case", case), output

    Hold.objects.filter(case=case).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert run_command()[0] == 0


def test_two_open_cases_of_one_account_are_both_named():
    first = case_in("first_contact")
    # The partial unique index forbids it; a bulk load or a hand edit without it would not.
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX one_open_case_per_account")
    second = case_in("notify", account=first.account, team=first.team)
    code, output = run_command()
    assert code == 1
    assert found(output, "several_open_cases", first) and found(output, "several_open_cases", second), output


def test_an_escalated_case_needs_an_approved_placement_or_referral():
    case = case_in("escalated")
    code, output = run_command()
    assert code == 1 and found(output, "escalated_without_track", case), output

    referral = LitigationReferral.objects.create(case=case, status="approved", approved_at=timezone.now())
    assert run_command()[0] == 0
    LitigationReferral.objects.filter(pk=referral.pk).update(status="withdrawn")
    agency = Agency.objects.create(name="Agency", licence_number="L-1")
    Placement.objects.create(case=case, agency=agency, status="proposed")
    assert found(run_command()[1], "escalated_without_track", case)
    Placement.objects.filter(case=case).update(status="handed_over")
    assert run_command()[0] == 0


def test_the_command_prints_at_most_limit_cases_a_check_but_counts_them_all():
    cases = [case_in("escalated") for _ in range(3)]
    code, output = run_command("--limit", "2")
    assert code == 1
    assert "escalated_without_track: 3" in output and "… and 1 more" in output
    assert cases[0].number in output and cases[2].number not in output


def test_every_check_is_a_fixed_number_of_queries_whatever_the_number_of_cases(kept, django_assert_max_num_queries):
    for _ in range(5):
        case_in("escalated")
    with django_assert_max_num_queries(2 * len(CHECKS)):
        consistency_check()


def test_the_nightly_task_keeps_the_result_audits_it_and_the_dashboard_shows_it(as_user, kept):
    case, agreement, payment = kept
    _lift_the_agreement_hold(case, agreement, payment)

    check_consistency.delay()

    run = ConsistencyRun.objects.get()
    assert run.contradictions == 1
    assert run.results["agreement_hold_missing"] == {"count": 1, "cases": [case.pk]}
    event = AuditEvent.objects.filter(action="reporting.consistency_check").get()
    assert event.target_id == str(run.pk) and event.changes == {"agreement_hold_missing": 1}

    officer = UserFactory(role="compliance", team=None)
    page = as_user(officer).get(reverse("reporting:compliance")).content.decode()
    drill = reverse("reporting:consistency", args=["agreement_hold_missing"])
    assert 'data-testid="consistency-total">1<' in page
    assert f'<a href="{drill}">1</a>' in page

    listing = as_user(officer).get(drill).content.decode()
    assert f'data-case="{case.pk}"' in listing and case.number in listing

    other_team = UserFactory(role="supervisor", team=TeamFactory())
    other_team.supervised_teams.add(other_team.team)
    assert f'data-case="{case.pk}"' not in as_user(other_team).get(drill).content.decode()
    assert as_user(officer).get(reverse("reporting:consistency", args=["no_such_check"])).status_code == 404
    assert as_user(UserFactory(role="collector")).get(drill).status_code == 403


def test_before_the_first_run_the_dashboard_says_so(as_user):
    page = as_user(UserFactory(role="compliance", team=None)).get(reverse("reporting:compliance"))
    assert "The consistency check has not run yet." in page.content.decode()



def test_beat_runs_the_check_every_night_after_the_snapshot(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["check-consistency"]
    snapshot = settings.CELERY_BEAT_SCHEDULE["reporting-snapshot"]["schedule"]
    assert entry["task"] == check_consistency.name == "reporting.tasks.check_consistency"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({4}, {40})
    assert min(snapshot.hour) * 60 + min(snapshot.minute) < 4 * 60 + 40
