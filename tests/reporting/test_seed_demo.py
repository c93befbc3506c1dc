import re
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Role, User
from cases.demo import DEMO_PASSWORD
from cases.models import Bucket, CardAccount, Case, CaseEvidence, CaseStatus, CaseTransition, Debtor, Payment
from compliance.audit import first_broken_event
from compliance.models import AuditEvent

pytestmark = pytest.mark.django_db

BUCKETS = {Bucket.SPECIAL_MENTION, Bucket.SUBSTANDARD, Bucket.DOUBTFUL, Bucket.LOSS}


def seed_demo() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (User, Debtor, CardAccount, Case, CaseTransition, CaseEvidence, Payment, AuditEvent)
    }


@pytest.fixture
def demo_mode(settings):
    settings.DEMO_MODE = True


def test_seed_demo_creates_staff_of_every_role_in_their_teams(demo_mode):
    seed_demo()
    users = {user.username: user for user in User.objects.select_related("team")}
    assert {user.role for user in users.values()} == set(Role.values)
    east, south = "华东一组", "华南二组"
    for username, team in [
        ("collector", east),
        ("collector2", east),
        ("supervisor", east),
        ("collector4", south),
        ("supervisor2", south),
    ]:
        assert users[username].team.name == team
    assert users["supervisor"].supervised_teams.get().name == east
    assert users["supervisor2"].supervised_teams.get().name == south
    assert users["admin"].role == Role.ADMIN and users["admin"].is_staff and users["admin"].is_superuser
    assert users["legal"].team is None and users["compliance"].team is None


def test_seed_demo_builds_a_portfolio_with_every_class_bucket_and_a_real_history(demo_mode):
    seed_demo()
    open_cases = Case.objects.filter(status__in=Case.OPEN_STATES)
    assert Debtor.objects.count() >= 300
    assert {"early", "mid"} <= set(open_cases.values_list("classification", flat=True))
    assert set(open_cases.values_list("bucket", flat=True)) >= BUCKETS
    states = set(Case.objects.values_list("status", flat=True))
    assert {CaseStatus.NOTIFY, CaseStatus.ESCALATED, CaseStatus.CLOSED, CaseStatus.RESOLVED} <= states
    assert len(states) >= 6
    assert not open_cases.filter(team__isnull=True).exists()
    assert not open_cases.filter(assigned_to__isnull=True).exists()
    assert Debtor.objects.filter(jurisdiction="US", timezone="America/New_York", mobile__startswith="+1").exists()


def test_cases_closed_by_the_seed_are_not_reopened_by_the_aging_it_runs(demo_mode):
    seed_demo()
    closed = Case.objects.filter(status=CaseStatus.CLOSED)
    assert closed.exists()
    assert not Case.objects.filter(account__in=closed.values("account"), status__in=Case.OPEN_STATES).exists()


def test_seed_demo_leaves_suggested_and_confirmed_wilful_cases(demo_mode):
    seed_demo()
    assert Case.objects.filter(wilful_suggested=True, status__in=Case.OPEN_STATES).exists()
    wilful = Case.objects.get(classification="wilful")
    assert wilful.wilful_confirmed_by.role == Role.SUPERVISOR and wilful.wilful_reason


def test_seed_demo_records_every_step_in_an_unbroken_audit_chain(demo_mode):
    seed_demo()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "case.open",
        "case.record_first_contact",
        "case.escalate",
        "case.close",
        "case.settle",
        "payment.record",
        "case.evidence",
        "case.confirm_wilful",
    } <= actions
    assert CaseTransition.objects.filter(name="escalate").exclude(reason="").exists()
    assert first_broken_event() is None


def test_a_second_seed_demo_changes_nothing_but_issues_a_fresh_portal_link(demo_mode):
    from plans.models import PortalLink

    seed_demo()
    before, links = counts(), PortalLink.objects.count()
    output = seed_demo()
    after = counts()
    new_events = set(AuditEvent.objects.order_by("-pk")[: after.pop("AuditEvent") - before.pop("AuditEvent")]
                     .values_list("action", flat=True))
    assert after == before
    assert new_events <= {"portal_link.issue", "message.queue", "contact.decide"}
    assert PortalLink.objects.count() == links + 1
    assert "nothing changed" in output
    assert re.search(r"Cardholder portal .*: http://\S+/p/[\w-]+/", output)


def test_the_printed_portal_link_opens_the_identity_check(demo_mode, client):
    output = seed_demo()
    url = re.search(r"Cardholder portal .*: (http://\S+)", output).group(1)
    last_four = re.search(r"last four of the id are (\w{4})", output).group(1)

    response = client.get(url.split("127.0.0.1:8000", 1)[-1], HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert b'name="last_four"' in response.content
    assert len(last_four) == 4


def test_a_demo_collector_logs_in_with_the_printed_password(demo_mode, client):
    output = seed_demo()
    printed = re.search(r"^collector\s+collector\s+\S+\s+(\S+)$", output, re.MULTILINE).group(1)
    assert printed == DEMO_PASSWORD
    response = client.post("/login/", {"username": "collector", "password": printed})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(username="collector").pk)


def test_outside_demo_mode_seed_demo_sets_no_known_password(settings):
    settings.DEMO_MODE = False
    output = seed_demo()
    assert CardAccount.objects.exists()
    assert not any(user.has_usable_password() for user in User.objects.all())
    assert DEMO_PASSWORD not in output


def test_seed_demo_leaves_contacts_through_the_gate_refusals_complaints_and_a_flagged_note(demo_mode):
    from compliance.models import Complaint, ContactDecision, ScreeningHit
    from negotiation.models import Contact, OutboundMessage

    seed_demo()
    assert Contact.objects.filter(decision__allowed=True).count() > 50
    assert not Contact.objects.filter(direction="outbound", decision__allowed=False).exists()
    assert ContactDecision.objects.filter(allowed=False).exists()
    assert Complaint.objects.count() == 3
    assert ScreeningHit.objects.filter(action="flagged").exists()
    assert OutboundMessage.objects.filter(purpose="collection").count() == 10


def test_seed_demo_verifies_situations_so_that_some_cases_reach_a_plan(demo_mode):
    from negotiation.models import Promise, Verification

    seed_demo()
    assert Verification.objects.filter(outcome="verified").exists()
    assert Case.objects.filter(status=CaseStatus.PLAN).exists()
    assert Promise.objects.filter(status="pending").exists()


def test_seed_demo_snapshots_ninety_days_up_to_today_for_the_kpi_dashboard(demo_mode):
    from datetime import timedelta

    from django.utils import timezone

    from reporting.models import PortfolioSnapshot

    seed_demo()
    today = timezone.localdate()
    assert PortfolioSnapshot.objects.filter(day=today).exists()
    assert not PortfolioSnapshot.objects.filter(day__lt=today - timedelta(days=89)).exists()
