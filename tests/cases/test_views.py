"""The staff case screens: worklist, case page, supervisor page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_fsm import ConcurrentTransition

from cases.models import Case, CaseEvidence, CaseStatus, CaseTransition, ClassificationPolicy, Payment
from cases.services import case_transition
from compliance.models import AuditEvent
from tests.factories import CardAccountFactory, CaseFactory, DebtorFactory, UserFactory, case_in, verified

pytestmark = pytest.mark.django_db

WORKLIST = reverse("cases:worklist")


def listed(response) -> set[int]:
    return {case.pk for case in response.context["page"].object_list}


def account(days: int = 20, principal: str = "8000.00", **debtor):
    return CardAccountFactory(
        debtor=DebtorFactory(**debtor),
        principal_overdue=Decimal(principal),
        delinquent_since=timezone.localdate() - timedelta(days=days),
    )


# --- Worklist ------------------------------------------------------------------------------------


def test_the_worklist_shows_masked_mobiles_and_escaped_names(as_user, collector, team):
    CaseFactory(team=team, account=account(full_name="<script>alert(1)</script>", mobile="13812345678"))

    response = as_user(collector).get(WORKLIST)

    html = response.content.decode()
    assert "138****5678" in html
    assert "13812345678" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_the_worklist_shows_money_right_aligned_with_yuan_and_separators(as_user, collector, team):
    CaseFactory(team=team, account=account(principal="12345.60"))

    html = as_user(collector).get(WORKLIST).content.decode()

    assert '<td class="num">¥13,045.60</td>' in html


@pytest.mark.parametrize(
    "params, wanted, unwanted",
    [
        ({"status": "plan"}, {"status": CaseStatus.PLAN}, {"status": CaseStatus.NOTIFY}),
        ({"classification": "mid"}, {"classification": "mid"}, {"classification": "early"}),
        ({"bucket": "doubtful"}, {"bucket": "doubtful"}, {"bucket": "special_mention"}),
        ({"dpd_min": "30", "dpd_max": "60"}, {"days": 45}, {"days": 20}),
        ({"amount_min": "20000", "amount_max": "30000"}, {"principal": "25000.00"}, {"principal": "8000.00"}),
        ({"q": "欧阳"}, {"full_name": "欧阳娜娜"}, {"full_name": "王芳"}),
    ],
    ids=["status", "class", "bucket", "days past due", "amount", "name"],
)
def test_each_worklist_filter_narrows_the_list(as_user, collector, team, params, wanted, unwanted):
    def make(spec):
        spec = dict(spec)
        status = spec.pop("status", CaseStatus.NOTIFY)
        on_case = {key: spec.pop(key) for key in ("classification", "bucket") if key in spec}
        return case_in(status, team=team, account=account(**spec), **on_case)

    match, other = make(wanted), make(unwanted)

    response = as_user(collector).get(WORKLIST, params)

    assert match.pk in listed(response)
    assert other.pk not in listed(response)


def test_the_search_finds_a_case_by_account_reference_or_case_number(as_user, collector, team):
    first, second, third = (CaseFactory(team=team) for _ in range(3))
    client = as_user(collector)

    assert listed(client.get(WORKLIST, {"q": first.account.external_ref})) == {first.pk}
    assert listed(client.get(WORKLIST, {"q": second.number})) == {second.pk}


def test_mine_only_keeps_the_cases_assigned_to_me(as_user, collector, team):
    mine = CaseFactory(team=team, assigned_to=collector)
    CaseFactory(team=team, assigned_to=UserFactory(team=team))

    response = as_user(collector).get(WORKLIST, {"mine": "true"})

    assert listed(response) == {mine.pk}


def test_an_htmx_request_gets_only_the_results_partial(as_user, collector, team):
    CaseFactory(team=team)

    response = as_user(collector).get(WORKLIST, {"classification": "early"}, HTTP_HX_REQUEST="true")

    names = [template.name for template in response.templates]
    assert "cases/_worklist_results.html" in names
    assert "cases/worklist.html" not in names
    assert b"<html" not in response.content
    assert response["Vary"].count("HX-Request") == 1


def test_invalid_filter_values_show_a_clear_message_instead_of_failing(as_user, collector, team):
    CaseFactory(team=team)

    response = as_user(collector).get(WORKLIST, {"dpd_min": "soon", "status": "lost"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Some filters are not valid" in html
    assert "Days past due from: A valid integer is required." in html
    assert "State: &quot;lost&quot; is not a valid choice." in html
    assert listed(response) == set()


def test_the_worklist_paginates_fifty_cases_a_page(as_user, collector, team):
    CaseFactory.create_batch(51, team=team)

    client = as_user(collector)

    assert len(client.get(WORKLIST).context["page"].object_list) == 50
    assert len(client.get(WORKLIST, {"page": "2"}).context["page"].object_list) == 1


def worklist_queries(client, team, cases: int, collector) -> int:
    CaseFactory.create_batch(cases, team=team, assigned_to=collector)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(WORKLIST)
    assert len(response.context["page"].object_list) == Case.objects.count()
    return len(queries)


def test_the_worklist_runs_the_same_number_of_queries_for_3_and_30_cases(as_user, collector, team):
    client = as_user(collector)

    with_three = worklist_queries(client, team, 3, collector)
    with_thirty = worklist_queries(client, team, 27, collector)

    assert with_three == with_thirty


def test_the_supervisor_worklist_runs_the_same_number_of_queries_for_3_and_30_cases(
    as_user, supervisor, collector, team
):
    client = as_user(supervisor)

    with_three = worklist_queries(client, team, 3, collector)
    with_thirty = worklist_queries(client, team, 27, collector)

    assert with_three == with_thirty


def test_supervisors_get_tick_boxes_and_the_reassign_form_collectors_do_not(as_user, supervisor, collector, team):
    CaseFactory(team=team)

    supervisor_html = as_user(supervisor).get(WORKLIST).content.decode()
    collector_html = as_user(collector).get(WORKLIST).content.decode()

    assert 'name="case_ids"' in supervisor_html
    assert reverse("cases:reassign") in supervisor_html
    assert 'name="case_ids"' not in collector_html


def test_a_supervisor_bulk_reassign_moves_the_ticked_cases(as_user, supervisor, collector, team):
    other_collector = UserFactory(username="other", role="collector", team=team)
    ticked = CaseFactory.create_batch(2, team=team, assigned_to=collector)
    untouched = CaseFactory(team=team, assigned_to=collector)

    response = as_user(supervisor).post(
        reverse("cases:reassign"),
        {"case_ids": [case.pk for case in ticked], "collector": other_collector.pk, "next": WORKLIST + "?q=x"},
    )

    assert response.status_code == 302
    assert response["Location"] == WORKLIST + "?q=x"
    assert set(Case.objects.filter(assigned_to=other_collector).values_list("pk", flat=True)) == {
        case.pk for case in ticked
    }
    untouched.refresh_from_db()
    assert untouched.assigned_to == collector


def test_a_supervisor_cannot_reassign_to_a_collector_outside_their_teams(as_user, supervisor, team, other_team):
    stranger = UserFactory(username="stranger", role="collector", team=other_team)
    case = CaseFactory(team=team)

    response = as_user(supervisor).post(
        reverse("cases:reassign"), {"case_ids": [case.pk], "collector": stranger.pk}, follow=True
    )

    assert "Choose a collector." in response.content.decode()
    case.refresh_from_db()
    assert case.assigned_to is None


def test_a_collector_may_not_bulk_reassign(as_user, collector, team):
    case = CaseFactory(team=team)

    response = as_user(collector).post(reverse("cases:reassign"), {"case_ids": [case.pk], "collector": collector.pk})

    assert response.status_code == 403


# --- Case page -----------------------------------------------------------------------------------


def detail(case) -> str:
    return reverse("cases:detail", args=[case.pk])


def transition(case) -> str:
    return reverse("cases:transition", args=[case.pk])


def test_the_case_page_shows_the_header_with_masked_personal_data(as_user, collector, team):
    debtor = DebtorFactory(national_id="310101199001011234", mobile="13912345678")
    case = CaseFactory(team=team, account=CardAccountFactory(debtor=debtor, card_last4="4321"))

    html = as_user(collector).get(detail(case)).content.decode()

    assert "3101**************" in html
    assert "139****5678" in html
    assert "310101199001011234" not in html
    assert "•••• 4321" in html
    assert "¥8,700.00" in html


def test_a_collector_gets_404_for_another_teams_case_page(as_user, collector, other_team):
    case = CaseFactory(team=other_team)

    assert as_user(collector).get(detail(case)).status_code == 404


def test_a_collector_gets_404_for_a_transition_on_another_teams_case(as_user, collector, other_team):
    case = CaseFactory(team=other_team)

    response = as_user(collector).post(transition(case), {"name": "record_first_contact"})

    assert response.status_code == 404
    case.refresh_from_db()
    assert case.status == CaseStatus.NOTIFY


def offered(response) -> list[str]:
    return response.context["transitions"]


def test_a_collector_is_not_offered_escalate(as_user, collector, team):
    case = CaseFactory(team=team)

    response = as_user(collector).get(detail(case))

    assert offered(response) == ["record_first_contact"]
    assert 'value="escalate"' not in response.content.decode()


def test_a_supervisor_is_offered_escalate_and_close(as_user, supervisor, team):
    case = CaseFactory(team=team)

    response = as_user(supervisor).get(detail(case))

    assert {"record_first_contact", "escalate", "close"} <= set(offered(response))
    assert 'value="escalate"' in response.content.decode()


def test_a_transition_moves_the_case_and_records_who_and_why(as_user, collector, team):
    case = CaseFactory(team=team)

    response = as_user(collector).post(transition(case), {"name": "record_first_contact", "reason": "reached him"})

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.FIRST_CONTACT
    step = CaseTransition.objects.get(case=case)
    assert (step.actor, step.reason) == (collector, "reached him")


def test_an_htmx_transition_answers_with_the_header_and_the_timeline(as_user, collector, team):
    case = CaseFactory(team=team)

    response = as_user(collector).post(transition(case), {"name": "record_first_contact"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="case-header"')
    assert 'id="case-timeline" class="card timeline-card" aria-labelledby="timeline-title" hx-swap-oob="true"' in html
    assert "Done: Record first contact." in html


def test_a_refused_transition_shows_the_guard_message_and_changes_nothing(as_user, collector, team):
    case = CaseFactory(team=team)

    response = as_user(collector).post(transition(case), {"name": "settle"})

    assert response.status_code == 409
    assert "The account still has an overdue amount." in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.NOTIFY
    assert not CaseTransition.objects.exists()


def test_a_transition_the_state_does_not_allow_is_refused_with_the_state_named(as_user, collector, team):
    case = CaseFactory(team=team)

    response = as_user(collector).post(transition(case), {"name": "propose_plan"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 409
    assert "is not possible in state" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.NOTIFY


def test_a_refused_transition_keeps_the_reason_that_was_typed(as_user, collector, team):
    case = CaseFactory(team=team)

    response = as_user(collector).post(
        transition(case), {"name": "propose_plan", "reason": "客户要求 <b>分期</b>"}, HTTP_HX_REQUEST="true"
    )

    assert 'value="客户要求 &lt;b&gt;分期&lt;/b&gt;"' in response.content.decode()


def test_escalating_without_a_reason_is_refused(as_user, supervisor, team):
    case = CaseFactory(team=team)

    response = as_user(supervisor).post(transition(case), {"name": "escalate", "reason": "  "})

    assert response.status_code == 400
    assert "needs a reason" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.NOTIFY


def test_a_collector_posting_escalate_is_forbidden(as_user, collector, team):
    case = CaseFactory(team=team)

    response = as_user(collector).post(transition(case), {"name": "escalate", "reason": "because"})

    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == CaseStatus.NOTIFY


def test_a_transition_that_lost_a_race_asks_to_reload(as_user, collector, team, monkeypatch):
    case = CaseFactory(team=team)

    def stale(**kwargs):
        raise ConcurrentTransition("changed")

    monkeypatch.setattr("cases.views.case_transition", stale)
    response = as_user(collector).post(transition(case), {"name": "record_first_contact"})

    assert response.status_code == 409
    assert "changed by someone else. Reload the page." in response.content.decode()


def test_the_timeline_merges_transitions_payments_and_evidence_newest_first(as_user, collector, team):
    case = CaseFactory(team=team)
    now = timezone.now()
    CaseEvidence.objects.create(case=case, kind="evasion", occurred_on=(now - timedelta(days=3)).date())
    Payment.objects.create(
        account=case.account, external_ref="P-1", amount=Decimal("500.00"), paid_at=now - timedelta(days=1),
        to_interest=Decimal("500.00"), days_past_due=19,
    )
    case_transition(case_id=case.pk, name="record_first_contact", actor=collector, reason="first call")

    response = as_user(collector).get(detail(case))

    assert [entry.event for entry in response.context["timeline"]] == ["transition", "payment", "evidence"]
    html = response.content.decode()
    assert "first call" in html
    assert "¥500.00" in html


def test_the_case_page_runs_the_same_number_of_queries_whatever_the_timeline(as_user, supervisor, team):
    case = CaseFactory(team=team)
    client = as_user(supervisor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(detail(case))
        return len(captured)

    short = queries()
    verified(case)
    for name in ("record_first_contact", "start_verification", "propose_plan", "revise", "propose_plan"):
        case_transition(case_id=case.pk, name=name, actor=supervisor)
    for n in range(5):
        Payment.objects.create(
            account=case.account, external_ref=f"P-{n}", amount=Decimal("10.00"), paid_at=timezone.now(),
            days_past_due=20,
        )

    assert queries() == short


# --- Wilful --------------------------------------------------------------------------------------

EVIDENCE = [{"code": "promises_broken", "dates": ["2025-01-05", "2025-02-05"]}]


def suggested_case(team):
    return CaseFactory(team=team, wilful_suggested=True, wilful_evidence=EVIDENCE, classification="mid")


def wilful(case, decision: str) -> str:
    return reverse("cases:wilful", args=[case.pk, decision])


def test_the_wilful_box_shows_the_evidence_with_human_labels(as_user, collector, team):
    case = suggested_case(team)

    html = as_user(collector).get(detail(case)).content.decode()

    assert "Promises to pay broken" in html
    assert "2025-01-05, 2025-02-05" in html
    assert "Confirm wilful" not in html


def test_a_supervisor_confirms_wilful_with_a_reason(as_user, supervisor, team):
    case = suggested_case(team)

    response = as_user(supervisor).post(wilful(case, "confirm"), {"reason": "avoids every call"}, follow=True)

    case.refresh_from_db()
    assert (case.classification, case.wilful_confirmed_by, case.wilful_reason) == (
        "wilful",
        supervisor,
        "avoids every call",
    )
    assert "Confirmed wilful by" in response.content.decode()


def test_confirming_wilful_without_a_reason_is_refused(as_user, supervisor, team):
    case = suggested_case(team)

    response = as_user(supervisor).post(wilful(case, "confirm"), {"reason": ""})

    assert response.status_code == 400
    assert "Confirming wilful needs a reason." in response.content.decode()
    case.refresh_from_db()
    assert case.classification == "mid"


def test_a_collector_cannot_confirm_wilful(as_user, collector, team):
    case = suggested_case(team)

    response = as_user(collector).post(wilful(case, "confirm"), {"reason": "looks wilful"})

    assert response.status_code == 403
    case.refresh_from_db()
    assert case.classification == "mid"


def test_a_supervisor_dismisses_a_wilful_suggestion_with_a_reason(as_user, supervisor, team):
    case = suggested_case(team)

    as_user(supervisor).post(wilful(case, "dismiss"), {"reason": "hospital stay explains it"})

    case.refresh_from_db()
    assert (case.wilful_suggested, case.classification) == (False, "mid")
    assert AuditEvent.objects.filter(action="case.dismiss_wilful", reason="hospital stay explains it").exists()


# --- Supervisor page -----------------------------------------------------------------------------

SUPERVISOR = reverse("cases:supervisor")


def test_the_supervisor_page_is_forbidden_to_collectors(as_user, collector):
    assert as_user(collector).get(SUPERVISOR).status_code == 403


def test_the_supervisor_page_counts_each_collectors_open_cases_by_class(as_user, supervisor, collector, team):
    CaseFactory.create_batch(2, team=team, assigned_to=collector, classification="early")
    CaseFactory(team=team, assigned_to=collector, classification="mid")
    case_in(CaseStatus.CLOSED, team=team, assigned_to=collector)

    response = as_user(supervisor).get(SUPERVISOR)

    row = next(row for row in response.context["team_rows"] if row.pk == collector.pk)
    assert (row.open_cases, row.early_cases, row.mid_cases, row.wilful_cases) == (3, 2, 1, 0)
    assert row.overdue_held == Decimal("26100.00")
    assert "¥26,100.00" in response.content.decode()


def test_the_supervisor_page_runs_the_same_number_of_queries_for_1_and_5_collectors(as_user, supervisor, team):
    client = as_user(supervisor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(SUPERVISOR)
        return len(captured)

    ClassificationPolicy.current()
    collector = UserFactory(role="collector", team=team)
    CaseFactory(team=team, assigned_to=collector)
    suggested_case(team)
    one = queries()
    for _ in range(4):
        CaseFactory(team=team, assigned_to=UserFactory(role="collector", team=team))
        suggested_case(team)

    assert queries() == one


def test_the_supervisor_page_lists_the_wilful_queue_with_links(as_user, supervisor, team, other_team):
    waiting = suggested_case(team)
    elsewhere = suggested_case(other_team)

    response = as_user(supervisor).get(SUPERVISOR)

    assert [case.pk for case in response.context["wilful_cases"]] == [waiting.pk]
    assert detail(waiting) in response.content.decode()
    assert detail(elsewhere) not in response.content.decode()


def test_a_supervisor_edits_the_classification_policy_and_it_is_audited(as_user, supervisor):
    fields = {
        "early_max_days": "45",
        "early_max_amount": "12000.00",
        "demand_gap_days": "30",
        "unpaid_days": "90",
        "broken_promises": "2",
        "evasions": "3",
    }

    response = as_user(supervisor).post(reverse("cases:policy"), fields)

    assert response.status_code == 302
    policy = ClassificationPolicy.current()
    assert (policy.early_max_days, policy.early_max_amount, policy.updated_by) == (45, Decimal("12000.00"), supervisor)
    event = AuditEvent.objects.get(action="classification_policy.update")
    assert event.changes == {"early_max_days": [30, 45], "early_max_amount": ["10000.00", "12000.00"]}


def test_an_invalid_policy_shows_the_errors_and_changes_nothing(as_user, supervisor):
    response = as_user(supervisor).post(reverse("cases:policy"), {"early_max_days": "-1"})

    assert response.status_code == 400
    assert response.context["policy_form"].errors
    assert ClassificationPolicy.current().early_max_days == 30
    assert not AuditEvent.objects.filter(action="classification_policy.update").exists()


def test_a_collector_may_not_edit_the_classification_policy(as_user, collector):
    response = as_user(collector).post(reverse("cases:policy"), {"early_max_days": "45"})

    assert response.status_code == 403


def test_the_case_page_offers_to_register_a_complaint_about_the_case(client, collector, team):
    from tests.factories import CaseFactory

    case = CaseFactory(team=team)
    client.force_login(collector)
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert f"/compliance/complaints/new/?case={case.pk}" in body


def test_a_reason_typed_with_a_mobile_number_is_masked_in_the_timeline(client, supervisor, team):
    from cases.services import case_transition
    from tests.factories import CaseFactory

    case = CaseFactory(team=team)
    case_transition(case_id=case.pk, name="escalate", actor=supervisor, reason="Debtor said call 13912345678")
    client.force_login(supervisor)
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert "13912345678" not in body
    assert "139****5678" in body


def test_a_case_with_a_promise_due_comes_first_among_equals_and_shows_its_date(client, collector, team):
    from datetime import timedelta

    from django.utils import timezone

    from negotiation.models import Promise
    from tests.factories import CaseFactory

    quiet = CaseFactory(team=team, priority=300)
    promised = CaseFactory(team=team, priority=300)
    due = timezone.localdate() - timedelta(days=1)
    Promise.objects.create(case=promised, amount="500.00", due_on=due, status="pending")
    client.force_login(collector)
    response = client.get("/cases/")
    rows = [case.pk for case in response.context["page"].object_list]
    assert rows.index(promised.pk) < rows.index(quiet.pk)
    assert due.isoformat() in response.content.decode()
