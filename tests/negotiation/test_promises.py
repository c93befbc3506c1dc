"""Promises to pay: what may be promised, how a promise is judged, and the calls it pauses."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cases.models import CaseEvidence, Payment
from compliance.models import AuditEvent
from config.errors import DomainError
from negotiation.models import Contact, Promise
from negotiation.services import contact_check, contact_record, promise_record, promises_judge
from negotiation.tasks import judge_promises
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 12, 1)
DUE = date(2026, 12, 10)  # the grace (2 days) ends on the 12th; the promise is judged from the 13th


@pytest.fixture
def case(team):
    return CaseFactory(team=team)  # overdue total ¥8,700.00


def promise(case, actor, amount="1000.00", due_on=DUE, created=datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)):
    made = promise_record(case_id=case.pk, amount=Decimal(amount), due_on=due_on, actor=actor, today=TODAY)
    Promise.objects.filter(pk=made.pk).update(created_at=created)
    made.refresh_from_db()
    return made


def pay(case, amount: str, at: datetime, ref: str = "P-1") -> None:
    Payment.objects.create(
        account=case.account, external_ref=ref, amount=Decimal(amount), paid_at=at, days_past_due=20
    )


def local(day: date, hhmm: str = "12:00") -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


# --- Recording -------------------------------------------------------------------------------------


def test_a_promise_is_recorded_pending_and_audited(case, collector):
    made = promise(case, collector)

    assert made.status == Promise.Status.PENDING
    assert made.created_by == collector
    assert AuditEvent.objects.filter(action="promise.record", target_id=str(made.pk)).exists()


@pytest.mark.parametrize("amount", ["0.00", "-5.00", "8700.01", "10.001"])
def test_an_amount_not_above_zero_or_above_the_overdue_total_is_refused(case, collector, amount):
    with pytest.raises(DomainError) as refused:
        promise_record(case_id=case.pk, amount=Decimal(amount), due_on=DUE, actor=collector, today=TODAY)

    assert refused.value.code == "invalid_amount"
    assert not Promise.objects.exists()


def test_the_whole_overdue_total_may_be_promised(case, collector):
    assert promise(case, collector, amount="8700.00").amount == Decimal("8700.00")


@pytest.mark.parametrize(
    "due_on, allowed",
    [(TODAY - timedelta(days=1), False), (TODAY, True), (TODAY + timedelta(days=60), True),
     (TODAY + timedelta(days=61), False)],
)
def test_a_promise_is_due_from_today_to_sixty_days_ahead(case, collector, due_on, allowed):
    if allowed:
        promise_record(case_id=case.pk, amount=Decimal("100.00"), due_on=due_on, actor=collector, today=TODAY)
    else:
        with pytest.raises(DomainError) as refused:
            promise_record(case_id=case.pk, amount=Decimal("100.00"), due_on=due_on, actor=collector, today=TODAY)
        assert refused.value.code == "invalid_due_date"
    assert Promise.objects.exists() is allowed


def test_a_contact_of_another_case_cannot_carry_the_promise(case, collector, team):
    elsewhere = Contact.objects.create(case=CaseFactory(team=team), channel="phone", outcome="promise_to_pay")

    with pytest.raises(DomainError):
        promise_record(case_id=case.pk, amount=Decimal("100"), due_on=DUE, actor=collector, contact_id=elsewhere.pk,
                       today=TODAY)


# --- Judging ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("today, judged", [(date(2026, 12, 12), False), (date(2026, 12, 13), True)])
def test_a_promise_is_judged_only_after_its_grace_days(case, collector, today, judged):
    made = promise(case, collector)

    promises_judge(today=today)

    made.refresh_from_db()
    assert (made.status != Promise.Status.PENDING) is judged


@pytest.mark.parametrize(
    "paid, status",
    [
        ("1000.00", "kept"),
        ("990.00", "kept"),  # 1% of ¥1,000 short: inside the tolerance
        ("989.99", "partially_kept"),  # just outside
        ("300.00", "partially_kept"),
    ],
)
def test_payments_are_compared_with_the_promise_within_the_tolerance(case, collector, paid, status):
    made = promise(case, collector)
    pay(case, paid, local(DUE))

    promises_judge(today=date(2026, 12, 13))

    made.refresh_from_db()
    assert made.status == status
    assert made.paid_amount == Decimal(paid)
    assert made.judged_at is not None


@pytest.mark.parametrize("paid, status", [("99.00", "kept"), ("98.99", "partially_kept")])
def test_a_small_promise_has_a_tolerance_of_one_yuan(case, collector, paid, status):
    made = promise(case, collector, amount="100.00")
    pay(case, paid, local(DUE))

    promises_judge(today=date(2026, 12, 13))

    made.refresh_from_db()
    assert made.status == status


@pytest.mark.parametrize(
    "paid_at, counted",
    [
        (local(date(2026, 12, 12), "23:59"), True),  # the last day of grace
        (local(date(2026, 12, 13), "00:00"), False),  # after the grace
        (local(date(2026, 12, 1), "08:59"), False),  # before the promise was made
    ],
)
def test_only_payments_between_the_promise_and_the_end_of_grace_count(case, collector, paid_at, counted):
    made = promise(case, collector)
    pay(case, "1000.00", paid_at)

    promises_judge(today=date(2026, 12, 14))

    made.refresh_from_db()
    assert made.status == ("kept" if counted else "broken")


def test_a_broken_promise_records_wilful_evidence(case, collector):
    made = promise(case, collector)

    promises_judge(today=date(2026, 12, 13))

    evidence = CaseEvidence.objects.get(case=case)
    assert evidence.kind == CaseEvidence.Kind.BROKEN_PROMISE
    assert evidence.source_ref == f"promise:{made.pk}"
    assert evidence.occurred_on == DUE


def test_a_partially_kept_promise_records_no_evidence(case, collector):
    promise(case, collector)
    pay(case, "500.00", local(DUE))

    promises_judge(today=date(2026, 12, 13))

    assert not CaseEvidence.objects.exists()


def test_judging_twice_changes_nothing_the_second_time(case, collector):
    made = promise(case, collector)
    first = promises_judge(today=date(2026, 12, 13))
    judged_at = Promise.objects.get(pk=made.pk).judged_at

    second = promises_judge(today=date(2026, 12, 14))

    assert first["broken"] == 1 and second["broken"] == 0
    assert Promise.objects.get(pk=made.pk).judged_at == judged_at
    assert CaseEvidence.objects.count() == 1
    assert AuditEvent.objects.filter(action="promise.judge").count() == 1


def test_the_daily_task_judges_due_promises(case, collector):
    made = promise(case, collector, due_on=TODAY)
    Promise.objects.filter(pk=made.pk).update(due_on=timezone.localdate() - timedelta(days=3))

    judge_promises.delay()

    assert Promise.objects.get(pk=made.pk).status == Promise.Status.BROKEN


# --- The gate --------------------------------------------------------------------------------------


def test_a_collection_call_during_a_pending_promise_is_refused_until_the_morning_after_the_due_date(case, collector):
    today = timezone.localdate()
    promise_record(case_id=case.pk, amount=Decimal("500"), due_on=today + timedelta(days=3), actor=collector)

    decision = contact_check(case_id=case.pk, channel="phone", at=local(today, "10:00"))

    assert decision.allowed is False
    assert decision.reason_codes == ["promise_pending"]
    assert decision.next_allowed_at == local(today + timedelta(days=4), "08:00")


def test_a_refused_call_during_a_promise_stores_no_contact(case, collector):
    from negotiation.services import ContactForbidden

    today = timezone.localdate()
    promise_record(case_id=case.pk, amount=Decimal("500"), due_on=today + timedelta(days=3), actor=collector)

    with pytest.raises(ContactForbidden) as refused:
        contact_record(case_id=case.pk, channel="phone", outcome="no_answer", actor=collector,
                       at=local(today - timedelta(days=1), "10:00"))

    assert refused.value.decision.reason_codes == ["promise_pending"]
    assert not Contact.objects.filter(case=case).exists()


def test_calls_resume_once_the_promise_is_judged(case, collector):
    today = timezone.localdate()
    made = promise_record(case_id=case.pk, amount=Decimal("500"), due_on=today + timedelta(days=3), actor=collector)
    Promise.objects.filter(pk=made.pk).update(status=Promise.Status.KEPT)

    decision = contact_check(case_id=case.pk, channel="phone", at=local(today, "10:00"))

    assert decision.allowed is True


def test_an_sms_is_not_paused_by_a_promise(case, collector):
    today = timezone.localdate()
    promise_record(case_id=case.pk, amount=Decimal("500"), due_on=today + timedelta(days=3), actor=collector)

    assert contact_check(case_id=case.pk, channel="sms", at=local(today, "10:00")).allowed is True


# --- API and HTML ----------------------------------------------------------------------------------


def test_the_api_records_and_lists_promises(api, case, collector):
    due = (timezone.localdate() + timedelta(days=5)).isoformat()

    created = api(collector).post(f"/api/v1/cases/{case.pk}/promises/", {"amount": "800.00", "due_on": due},
                                  format="json")
    listed = api(collector).get(f"/api/v1/cases/{case.pk}/promises/")

    assert created.status_code == 201, created.json()
    assert [p["amount"] for p in listed.json()] == ["800.00"]
    assert listed.json()[0]["status"] == "pending"


def test_the_api_refuses_a_promise_in_the_past_with_its_code(api, case, collector):
    due = (timezone.localdate() - timedelta(days=1)).isoformat()

    response = api(collector).post(f"/api/v1/cases/{case.pk}/promises/", {"amount": "800.00", "due_on": due},
                                   format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_due_date"


def test_the_api_answers_404_for_the_promises_of_another_team(api, case, other_team):
    from tests.factories import UserFactory

    stranger = UserFactory(username="stranger", role="collector", team=other_team)

    assert api(stranger).get(f"/api/v1/cases/{case.pk}/promises/").status_code == 404


def test_the_panel_records_a_promise_and_lists_it(client, case, collector):
    client.force_login(collector)
    due = (timezone.localdate() + timedelta(days=5)).isoformat()

    response = client.post(f"/negotiation/cases/{case.pk}/promises/", {"amount": "800", "due_on": due},
                           HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert "承诺还款已登记。" in html
    assert "¥800.00" in html


def test_a_broken_promise_creates_a_review_task_for_the_collector(case, collector):
    from negotiation.models import FollowUpTask

    promise(case, collector)
    promises_judge(today=date(2026, 12, 13))
    promises_judge(today=date(2026, 12, 14))

    task = FollowUpTask.objects.get(case=case)
    assert (task.kind, task.source, task.due_on) == ("review_promise", "promise", date(2026, 12, 13))
    assert task.assigned_to == case.assigned_to


def test_a_kept_promise_creates_no_task(case, collector):
    from negotiation.models import FollowUpTask

    promise(case, collector)
    pay(case, "1000.00", local(DUE))
    promises_judge(today=date(2026, 12, 13))

    assert not FollowUpTask.objects.exists()
