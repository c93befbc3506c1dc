"""The audit log browser: who may read it, filters, pages, the CSV export and the chain check."""

import csv
import io
from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compliance import audit
from compliance.models import AuditEvent
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
LOG = reverse("compliance:audit-log")
EXPORT = reverse("compliance:audit-export")
VERIFY = reverse("compliance:audit-verify")


def event(action="case.escalate", *, actor=None, at=None, **extra) -> AuditEvent:
    if at is None:
        return audit.record(action=action, actor=actor, **extra)
    with mock.patch("django.utils.timezone.now", return_value=at):
        return audit.record(action=action, actor=actor, **extra)


def listed(response) -> list[int]:
    return [row.pk for row in response.context["page"].object_list]


def exported(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


# --- Who may read it -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["collector", "supervisor", "legal_user"])
def test_collectors_supervisors_and_legal_get_403(role, request, as_user):
    client = as_user(request.getfixturevalue(role))
    assert client.get(LOG).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert client.post(VERIFY).status_code == 403


@pytest.mark.parametrize("role", ["compliance_officer", "admin_user_"])
def test_compliance_officers_and_administrators_read_the_log(role, request, as_user):
    event()
    assert as_user(request.getfixturevalue(role)).get(LOG).status_code == 200


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(LOG)
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- The list ------------------------------------------------------------------------------------


def test_the_newest_event_comes_first_and_a_page_holds_50(as_user, compliance_officer):
    events = [event(f"test.step{n}") for n in range(55)]
    response = as_user(compliance_officer).get(LOG)
    assert listed(response) == [e.pk for e in reversed(events)][:50]
    assert listed(as_user(compliance_officer).get(LOG, {"page": 2})) == [e.pk for e in reversed(events)][50:]


def test_a_row_shows_time_actor_action_target_case_reason_and_changes(as_user, compliance_officer, supervisor, team):
    case = CaseFactory(team=team)
    event("case.close", actor=supervisor, target=case, changes={"status": ["plan", "closed"]}, reason="客户已结清")

    body = as_user(compliance_officer).get(LOG).content.decode()

    assert "supervisor" in body and "staff" in body
    assert "case.close" in body
    assert f"cases.case #{case.pk}" in body
    assert reverse("cases:detail", args=[case.pk]) in body and case.number in body
    assert "客户已结清" in body
    assert "status: [plan, closed]" in body


def test_personal_data_typed_into_a_reason_is_masked_in_the_list(as_user, compliance_officer):
    event("hold.set", reason="客户来电 13812345678 称已还款")
    body = as_user(compliance_officer).get(LOG).content.decode()
    assert "13812345678" not in body and "138****5678" in body


@pytest.fixture
def varied(supervisor, collector, team):
    """One event per filter to tell apart."""
    case = CaseFactory(team=team)
    return {
        "transition": event("case.escalate", actor=supervisor, at=datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)),
        "contact": event("contact.record", actor=collector, at=datetime(2026, 3, 5, 9, tzinfo=SHANGHAI)),
        "on_case": event("hold.set", case_id=case.pk, at=datetime(2026, 3, 9, 9, tzinfo=SHANGHAI)),
        "reason": event("hold.lift", reason="投诉调查结束", at=datetime(2026, 3, 9, 23, 59, tzinfo=SHANGHAI)),
        "target": event("screening_term.add", target=case.account.debtor, at=datetime(2026, 3, 12, tzinfo=SHANGHAI)),
        "case": case,
    }


@pytest.mark.parametrize(
    "params, wanted",
    [
        ({"action": "case."}, ["transition"]),
        ({"actor": "collector"}, ["contact"]),
        ({"actor": "system"}, ["target", "reason", "on_case"]),
        ({"case": "CASE"}, ["on_case"]),
        ({"target_type": "cases.debtor"}, ["target"]),
        ({"date_from": "2026-03-05", "date_to": "2026-03-09"}, ["reason", "on_case", "contact"]),
        ({"q": "投诉调查"}, ["reason"]),
    ],
    ids=["action prefix", "actor", "actor kind", "case", "target type", "date range", "search"],
)
def test_the_filters_narrow_the_list(params, wanted, varied, as_user, compliance_officer):
    if params.get("case") == "CASE":
        params = {"case": varied["case"].number}
    response = as_user(compliance_officer).get(LOG, params)
    assert response.status_code == 200
    assert listed(response) == [varied[name].pk for name in wanted]


@pytest.mark.parametrize("params", [{"case": "abc"}, {"date_from": "2026-03-09", "date_to": "2026-03-01"}])
def test_invalid_filters_are_explained_and_list_nothing(params, as_user, compliance_officer):
    event()
    response = as_user(compliance_officer).get(LOG, params)
    assert response.status_code == 400
    assert "Some filters are not valid" in response.content.decode()
    assert listed(response) == []


def test_htmx_gets_only_the_results(as_user, compliance_officer):
    event()
    response = as_user(compliance_officer).get(LOG, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="audit-results"')
    assert "<html" not in body


def test_a_page_runs_the_same_number_of_queries_for_5_and_50_events(as_user, compliance_officer, supervisor, team):
    client = as_user(compliance_officer)
    case = CaseFactory(team=team)

    def queries_for(count: int) -> int:
        for _ in range(count):
            event("case.escalate", actor=supervisor, target=case, changes={"status": ["plan", "escalated"]})
        client.get(LOG)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LOG).status_code == 200
        return len(queries)

    few = queries_for(5)
    assert queries_for(45) == few  # 50 events now


# --- Export --------------------------------------------------------------------------------------


def test_the_export_streams_the_filtered_rows_newest_first(varied, as_user, compliance_officer):
    response = as_user(compliance_officer).get(EXPORT, {"date_from": "2026-03-05", "date_to": "2026-03-09"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = exported(response)
    assert [int(row["id"]) for row in rows] == [varied["reason"].pk, varied["on_case"].pk, varied["contact"].pk]
    assert rows[0]["reason"] == "投诉调查结束"
    assert rows[1]["case"] == varied["case"].number
    assert rows[2]["actor"] == "collector" and rows[2]["action"] == "contact.record"


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd"])
def test_the_export_defuses_cells_that_would_run_as_formulas(dangerous, as_user, compliance_officer):
    event("hold.set", reason=dangerous)
    [row] = [r for r in exported(as_user(compliance_officer).get(EXPORT, {"action": "hold.set"}))]
    assert row["reason"] == "'" + dangerous


def test_the_export_masks_personal_data_typed_into_reasons(as_user, compliance_officer):
    event("hold.set", reason="身份证 310101199001011234")
    [row] = exported(as_user(compliance_officer).get(EXPORT, {"action": "hold.set"}))
    assert row["reason"] == "身份证 3101**************"


def test_the_export_is_itself_audited_with_its_filters(as_user, compliance_officer):
    event()
    response = as_user(compliance_officer).get(EXPORT, {"action": "case."})
    b"".join(response.streaming_content)
    recorded = AuditEvent.objects.get(action="audit_log.export")
    assert recorded.actor == compliance_officer and recorded.changes == {"filters": {"action": "case."}}


def test_the_export_reads_the_log_in_chunks(as_user, compliance_officer, monkeypatch):
    monkeypatch.setattr("compliance.views_audit.EXPORT_CHUNK", 3)
    events = [event(f"test.step{n}") for n in range(8)]
    rows = exported(as_user(compliance_officer).get(EXPORT, {"action": "test."}))
    assert [int(row["id"]) for row in rows] == [e.pk for e in reversed(events)]


# --- Chain check ---------------------------------------------------------------------------------


def test_verifying_an_intact_chain_says_it_holds(as_user, compliance_officer):
    for n in range(3):
        event(f"test.step{n}")
    response = as_user(compliance_officer).post(VERIFY, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "The chain holds." in body and "3 events checked." in body


def test_verifying_a_broken_chain_names_the_first_bad_event(as_user, compliance_officer, monkeypatch):
    bad = event("case.close")
    monkeypatch.setattr(audit, "first_broken_event", lambda: bad)
    body = as_user(compliance_officer).post(VERIFY, HTTP_HX_REQUEST="true").content.decode()
    assert "The chain is broken." in body and f"#{bad.pk}" in body


def test_the_chain_is_verified_only_on_demand(as_user, compliance_officer, monkeypatch):
    walked = mock.Mock(return_value=None)
    monkeypatch.setattr(audit, "first_broken_event", walked)
    as_user(compliance_officer).get(LOG)
    walked.assert_not_called()
