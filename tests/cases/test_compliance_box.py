"""The case page's compliance box: what the contact policy says now, the holds, and setting and lifting them."""

from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import negotiation.selectors
from compliance.models import AuditEvent, ContactDecision, Hold
from compliance.services import hold_set
from negotiation.models import Contact
from negotiation.selectors import contact_allowance
from tests.factories import CardAccountFactory, CaseFactory, DebtorFactory, UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
MOBILE = "13800000001"


@pytest.fixture
def fixed_now(monkeypatch):
    """Let the compliance box judge at a chosen moment instead of the clock's."""

    def at(moment: datetime) -> datetime:
        monkeypatch.setattr(negotiation.selectors, "timezone", SimpleNamespace(now=lambda: moment))
        return moment

    return at


def cn_case(team, **debtor):
    debtor = DebtorFactory(mobile=MOBILE, **debtor)
    return CaseFactory(team=team, account=CardAccountFactory(debtor=debtor))


def us_case(team):
    debtor = DebtorFactory(mobile="2125550100", jurisdiction="US", timezone="America/New_York")
    return CaseFactory(team=team, account=CardAccountFactory(debtor=debtor))


def call(case, at: datetime, outcome: str = "no_answer", number: str = MOBILE, **extra) -> Contact:
    """A contact row as the gate would have stored it (the gate itself is tested in tests/negotiation)."""
    return Contact.objects.create(case=case, channel="phone", outcome=outcome, number=number, at=at, **extra)


def detail(case) -> str:
    return reverse("cases:detail", args=[case.pk])


def box(response) -> str:
    html = response.content.decode()
    start = html.index('id="compliance-box"')
    return html[start : html.index("</section>", start)]


# --- What the policy says now --------------------------------------------------------------------


def test_a_cn_box_counts_todays_calls_to_the_mobile_and_todays_conversations(team):
    case = cn_case(team)
    call(case, datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI))
    call(case, datetime(2026, 3, 10, 9, 30, tzinfo=SHANGHAI), outcome="right_party_contact")
    call(case, datetime(2026, 3, 9, 15, 0, tzinfo=SHANGHAI))  # yesterday
    call(case, datetime(2026, 3, 10, 9, 45, tzinfo=SHANGHAI), number="13900000009", party="guarantor")

    allowance = contact_allowance(case=case, now=datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI))

    assert (allowance.calls_today.used, allowance.calls_today.limit) == (2, 6)
    assert (allowance.conversations_today.used, allowance.conversations_today.limit) == (1, 3)
    assert allowance.calls_in_week is None and allowance.quiet_until is None
    assert allowance.call_allowed is True


def test_a_cn_box_after_midnight_says_the_next_call_is_allowed_at_8(team):
    case = cn_case(team)

    allowance = contact_allowance(case=case, now=datetime(2026, 3, 10, 6, 30, tzinfo=SHANGHAI))

    assert allowance.call_allowed is False
    assert [reason.code for reason in allowance.reasons] == ["outside_contact_hours"]
    assert allowance.next_allowed_at == datetime(2026, 3, 10, 8, 0, tzinfo=SHANGHAI)
    assert allowance.next_allowed_today is True


def test_a_cn_box_at_the_daily_limit_says_no_call_until_tomorrow_morning(team):
    case = cn_case(team)
    for minute in range(6):
        call(case, datetime(2026, 3, 10, 9, minute, tzinfo=SHANGHAI))

    allowance = contact_allowance(case=case, now=datetime(2026, 3, 10, 11, 0, tzinfo=SHANGHAI))

    assert allowance.calls_today.reached is True
    assert [reason.code for reason in allowance.reasons] == ["daily_attempt_limit"]
    assert allowance.next_allowed_at == datetime(2026, 3, 11, 8, 0, tzinfo=SHANGHAI)


def test_a_us_box_counts_calls_in_seven_days_and_the_quiet_period_in_new_york_time(team):
    case = us_case(team)
    call(case, datetime(2026, 3, 4, 10, 0, tzinfo=NEW_YORK), number="2125550100")
    call(case, datetime(2026, 3, 8, 10, 0, tzinfo=NEW_YORK), number="2125550100")
    call(case, datetime(2026, 3, 9, 20, 30, tzinfo=NEW_YORK), "right_party_contact", number="2125550100")
    call(case, datetime(2026, 3, 1, 10, 0, tzinfo=NEW_YORK), number="2125550100")  # eight days before

    # 09:00 in New York is 21:00 in Shanghai: judged in the cardholder's zone, it is within hours.
    allowance = contact_allowance(case=case, now=datetime(2026, 3, 10, 9, 0, tzinfo=NEW_YORK))

    assert (allowance.calls_in_week.used, allowance.calls_in_week.limit) == (3, 7)
    assert allowance.calls_today is None and allowance.conversations_today is None
    assert allowance.quiet_until == datetime(2026, 3, 16, 8, 0, tzinfo=NEW_YORK)
    assert [reason.code for reason in allowance.reasons] == ["cooling_off_after_conversation"]
    assert allowance.next_allowed_at == datetime(2026, 3, 16, 8, 0, tzinfo=NEW_YORK)


def test_reading_the_box_records_no_decision(as_user, collector, team):
    case = cn_case(team)

    as_user(collector).get(detail(case))

    assert not ContactDecision.objects.filter(case=case).exists()


def test_the_case_page_shows_the_cn_counts_and_the_next_allowed_time(as_user, collector, team, fixed_now):
    case = cn_case(team)
    today = timezone.localdate()
    call(case, datetime(today.year, today.month, today.day, 0, 10, tzinfo=SHANGHAI))
    call(case, datetime(today.year, today.month, today.day, 0, 20, tzinfo=SHANGHAI), "right_party_contact")
    fixed_now(datetime(today.year, today.month, today.day, 6, 30, tzinfo=SHANGHAI))

    html = box(as_user(collector).get(detail(case)))

    assert 'data-testid="calls-today">2/6<' in html
    assert 'data-testid="conversations-today">1/3<' in html
    assert 'data-testid="next-allowed">08:00<' in html
    assert "outside contact hours" in html


def test_the_case_page_shows_the_us_counts_and_the_quiet_period(as_user, collector, team, fixed_now):
    case = us_case(team)
    now = fixed_now(timezone.now().astimezone(NEW_YORK).replace(hour=10, minute=0, second=0, microsecond=0))
    for days_ago in (1, 2):
        call(case, now - timedelta(days=days_ago), number="2125550100")
    call(case, now - timedelta(days=3), "promise_to_pay", number="2125550100")
    quiet_day = (now - timedelta(days=3)).date() + timedelta(days=7)

    html = box(as_user(collector).get(detail(case)))

    assert 'data-testid="calls-in-week">3/7<' in html
    assert f'data-testid="quiet-until">{quiet_day:%Y-%m-%d} 08:00<' in html
    assert "calls-today" not in html


def test_the_box_shows_do_not_contact_and_the_opt_outs(as_user, collector, team):
    case = cn_case(team, do_not_contact=True, opt_out_sms=True, opt_out_email=True)

    html = box(as_user(collector).get(detail(case)))

    assert "Do not contact" in html
    assert "Opted out: SMS, email" in html
    assert "when the hold or flag is cleared" in html


def test_the_box_lists_active_holds_with_who_set_them_and_when(as_user, collector, supervisor, team):
    case = cn_case(team)
    hold = hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason="持卡人对年费有异议", actor=collector)
    lifted = hold_set(case_id=case.pk, kind=Hold.Kind.COMPLAINT, reason="complaint 12", actor=supervisor)
    Hold.objects.filter(pk=lifted.pk).update(lifted_at=timezone.now())

    response = as_user(collector).get(detail(case))

    html = box(response)
    assert 'data-testid="hold-dispute"' in html
    assert "持卡人对年费有异议" in html
    assert collector.get_full_name() in html
    assert timezone.localtime(hold.set_at).strftime("%Y-%m-%d %H:%M") in html
    assert "hold-complaint" not in html
    assert "dispute hold" in html  # the reason no call is allowed now


def test_the_case_page_runs_the_same_number_of_queries_whatever_the_contacts_and_holds(
    as_user, supervisor, collector, team
):
    case = cn_case(team)
    client = as_user(supervisor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(detail(case))
        return len(captured)

    call(case, timezone.now() - timedelta(hours=1))
    hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason="disputed", actor=collector)
    few = queries()
    for n in range(10):
        call(case, timezone.now() - timedelta(hours=2, minutes=n), "right_party_contact")
    hold_set(case_id=case.pk, kind=Hold.Kind.COMPLAINT, reason="complaint", actor=supervisor)
    hold_set(case_id=case.pk, kind=Hold.Kind.BANKRUPTCY, reason="filed", actor=supervisor)

    assert queries() == few


# --- Setting and lifting holds -------------------------------------------------------------------


def set_url(case) -> str:
    return reverse("cases:hold_set", args=[case.pk])


def lift_url(hold) -> str:
    return reverse("cases:hold_lift", args=[hold.case_id, hold.pk])


HTMX = {"HTTP_HX_REQUEST": "true"}


def test_a_collector_sets_a_dispute_hold_and_gets_the_box_back(as_user, collector, team):
    case = cn_case(team)

    response = as_user(collector).post(set_url(case), {"kind": "dispute", "reason": "disputes the fee"}, **HTMX)

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "cases/_compliance_box.html"
    hold = Hold.objects.get(case=case)
    assert (hold.kind, hold.set_by, hold.reason) == ("dispute", collector, "disputes the fee")
    assert "Hold set: dispute." in response.content.decode()
    assert AuditEvent.objects.filter(action="hold.set", case_id=case.pk).exists()


def test_a_collector_is_offered_only_the_dispute_hold_and_no_lift(as_user, collector, team):
    case = cn_case(team)
    hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason="disputes the fee", actor=collector)

    response = as_user(collector).get(detail(case))

    assert [kind for kind, _label in response.context["hold_kinds"]] == ["dispute"]
    assert lift_url(Hold.objects.get(case=case)) not in response.content.decode()


def test_a_collector_cannot_lift_a_dispute_hold(as_user, collector, team):
    case = cn_case(team)
    hold = hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason="disputes the fee", actor=collector)

    response = as_user(collector).post(lift_url(hold), {"reason": "paid"}, **HTMX)

    assert response.status_code == 403
    hold.refresh_from_db()
    assert hold.lifted_at is None


def test_a_supervisor_lifts_a_dispute_hold_with_a_reason(as_user, collector, supervisor, team):
    case = cn_case(team)
    hold = hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason="disputes the fee", actor=collector)

    response = as_user(supervisor).post(lift_url(hold), {"reason": "fee statement verified"}, **HTMX)

    assert response.status_code == 200
    hold.refresh_from_db()
    assert (hold.lifted_by, hold.lift_reason) == (supervisor, "fee statement verified")
    assert "No hold on this case." in response.content.decode()


def test_a_collector_cannot_set_a_breathing_space(as_user, collector, team):
    case = cn_case(team)

    response = as_user(collector).post(set_url(case), {"kind": "breathing_space", "reason": "debt advice"}, **HTMX)

    assert response.status_code == 403
    assert not Hold.objects.filter(case=case).exists()


def test_a_breathing_space_shows_that_it_ends_after_60_days(as_user, supervisor, team):
    case = cn_case(team)

    response = as_user(supervisor).post(set_url(case), {"kind": "breathing_space", "reason": "debt advice"}, **HTMX)

    ends = timezone.localtime(Hold.objects.get(case=case).expires_at).date()
    assert ends == timezone.localdate() + timedelta(days=60)
    assert f"Ends {ends:%Y-%m-%d}" in response.content.decode()


def test_the_set_form_says_when_a_breathing_space_would_end(as_user, supervisor, team):
    case = cn_case(team)

    html = as_user(supervisor).get(detail(case)).content.decode()

    ends = timezone.localdate() + timedelta(days=60)
    assert f"A breathing space lasts 60 days: until {ends:%Y-%m-%d}." in html


def test_a_second_active_hold_of_the_same_kind_is_refused_as_a_conflict(as_user, collector, team):
    case = cn_case(team)
    hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason="first", actor=collector)

    response = as_user(collector).post(set_url(case), {"kind": "dispute", "reason": "second"}, **HTMX)

    assert response.status_code == 409
    html = response.content.decode()
    assert "This case already has an active hold of that kind." in html
    assert ">second</textarea>" in html  # what was typed is kept
    assert Hold.objects.filter(case=case).count() == 1


def test_a_hold_without_a_reason_is_refused_with_a_clear_message(as_user, collector, team):
    case = cn_case(team)

    response = as_user(collector).post(set_url(case), {"kind": "dispute", "reason": "  "}, **HTMX)

    assert response.status_code == 400
    assert "A hold needs a reason." in response.content.decode()
    assert not Hold.objects.filter(case=case).exists()


def test_an_unknown_kind_of_hold_is_refused(as_user, supervisor, team):
    case = cn_case(team)

    response = as_user(supervisor).post(set_url(case), {"kind": "holiday", "reason": "x"}, **HTMX)

    assert response.status_code == 400
    assert "Choose a kind of hold." in response.content.decode()


def test_lifting_without_a_reason_is_refused_and_the_hold_stays(as_user, collector, supervisor, team):
    case = cn_case(team)
    hold = hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason="disputes the fee", actor=collector)

    response = as_user(supervisor).post(lift_url(hold), {"reason": ""}, **HTMX)

    assert response.status_code == 400
    assert "Lifting a hold needs a reason." in response.content.decode()
    hold.refresh_from_db()
    assert hold.lifted_at is None


def test_a_hold_is_lifted_only_through_its_own_case(as_user, collector, supervisor, team):
    hold = hold_set(case_id=cn_case(team).pk, kind=Hold.Kind.DISPUTE, reason="disputed", actor=collector)
    other = cn_case(team)

    response = as_user(supervisor).post(reverse("cases:hold_lift", args=[other.pk, hold.pk]), {"reason": "x"})

    assert response.status_code == 404


def test_holds_cannot_be_set_on_a_case_the_user_cannot_see(as_user, other_team):
    case = cn_case(other_team)
    outsider = UserFactory(username="outsider", role="collector", team=None)

    response = as_user(outsider).post(set_url(case), {"kind": "dispute", "reason": "x"})

    assert response.status_code == 404


def test_without_htmx_a_hold_set_returns_to_the_case_page_with_a_message(as_user, collector, team):
    case = cn_case(team)

    response = as_user(collector).post(set_url(case), {"kind": "dispute", "reason": "disputes"}, follow=True)

    assert response.redirect_chain[-1][0].endswith("#compliance-box")
    assert "Hold set: dispute." in response.content.decode()


def test_every_reason_code_of_the_engine_has_a_label():
    from compliance.policy import ReasonCode
    from compliance.selectors import REASON_LABELS

    codes = {value for name, value in vars(ReasonCode).items() if name.isupper()}
    assert codes == set(REASON_LABELS)
