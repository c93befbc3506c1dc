"""Personal data is masked on every page, API answer and log line, for every role; an explicit reveal with
a reason shows one field and is audited without the value."""

import json
import logging

import pytest
from django.core.management import call_command
from django.urls import reverse

from compliance.masking import PersonalDataLogFilter, mask_email, mask_mobile, mask_national_id, mask_text
from compliance.models import AuditEvent
from tests.factories import CardAccountFactory, CaseFactory, DebtorFactory, case_in

MOBILE = "13812345678"
NATIONAL_ID = "310101199001011234"
EMAIL = "wang.fang@example.com"
ROLES = ["collector", "supervisor", "compliance_officer", "legal_user", "admin_user_"]


# --- The masking functions (no database) ---------------------------------------------------------


def test_a_national_id_keeps_only_its_first_four_characters_as_the_last_four_open_the_portal():
    assert mask_national_id(NATIONAL_ID) == "3101**************"


def test_a_mobile_keeps_its_first_three_and_last_four_digits():
    assert mask_mobile(MOBILE) == "138****5678"


def test_an_email_keeps_its_first_letter_and_domain():
    assert mask_email(EMAIL) == "w***@example.com"


def test_free_text_has_ids_mobiles_and_emails_masked():
    text = f"客户新号码{MOBILE}，身份证{NATIONAL_ID}，邮箱 {EMAIL}"
    assert mask_text(text) == "客户新号码138****5678，身份证3101**************，邮箱 w***@example.com"


def test_free_text_keeps_amounts_dates_and_case_numbers():
    text = "2026-12-03 承诺还款 ¥12,345.67，案件 C00000012，账户 ACC000000123"
    assert mask_text(text) == text


def test_the_log_filter_masks_personal_data_in_messages_and_their_arguments():
    record = logging.LogRecord("accord", logging.INFO, __file__, 1, "sms to %s: %s", (MOBILE, NATIONAL_ID), None)
    assert PersonalDataLogFilter().filter(record) is True
    assert record.getMessage() == "sms to 138****5678: 3101**************"


# --- Pages and API answers, for every role -------------------------------------------------------


@pytest.fixture
def case(team):
    """An escalated case of the fixture team, so that every role (legal too) sees it."""
    debtor = DebtorFactory(mobile=MOBILE, national_id=NATIONAL_ID, key=NATIONAL_ID, email=EMAIL)
    return case_in("escalated", team=team, account=CardAccountFactory(debtor=debtor))


def assert_masked(body: str) -> None:
    assert MOBILE not in body
    assert NATIONAL_ID not in body
    assert EMAIL not in body


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_worklist_shows_only_masked_mobiles(role, request, as_user, case):
    response = as_user(request.getfixturevalue(role)).get(reverse("cases:worklist"), {"status": "escalated"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "138****5678" in body
    assert_masked(body)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_case_page_shows_only_masked_personal_data(role, request, as_user, case):
    response = as_user(request.getfixturevalue(role)).get(reverse("cases:detail", args=[case.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "138****5678" in body and "3101**************" in body and "w***@example.com" in body
    assert_masked(body)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_case_list_api_never_carries_full_personal_data(role, request, api, case):
    response = api(request.getfixturevalue(role)).get("/api/v1/cases/", {"status": "escalated"})
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert_masked(response.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_case_detail_api_masks_the_id_and_mobile(role, request, api, case):
    response = api(request.getfixturevalue(role)).get(f"/api/v1/cases/{case.pk}/")
    body = response.json()
    assert (body["mobile"], body["national_id"]) == ("138****5678", "3101**************")
    assert_masked(response.content.decode())


# --- Reveal --------------------------------------------------------------------------------------


def reveal(api, user, case, **body):
    return api(user).post(f"/api/v1/cases/{case.pk}/reveal/", body, format="json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value", [("mobile", MOBILE), ("national_id", NATIONAL_ID), ("email", EMAIL)]
)
def test_a_collector_reveals_one_field_with_a_reason(field, value, api, collector, case):
    response = reveal(api, collector, case, field=field, reason="客户要求核对预留信息")
    assert response.status_code == 200
    assert response.json() == {"field": field, "value": value}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["collector", "supervisor", "legal_user", "compliance_officer"])
def test_the_roles_that_work_with_cardholders_may_reveal(role, request, api, case):
    assert reveal(api, request.getfixturevalue(role), case, field="mobile", reason="回拨客户").status_code == 200


@pytest.mark.django_db
def test_an_administrator_may_not_reveal(api, admin_user_, case):
    response = reveal(api, admin_user_, case, field="mobile", reason="checking")
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="personal_data.reveal").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_reveal_without_a_reason_is_refused_and_not_recorded(reason, api, collector, case):
    body = {"field": "mobile"} if reason is None else {"field": "mobile", "reason": reason}
    response = reveal(api, collector, case, **body)
    assert response.status_code == 400
    assert response.json()["code"] == "reason_required"
    assert MOBILE not in response.content.decode()
    assert not AuditEvent.objects.filter(action="personal_data.reveal").exists()


@pytest.mark.django_db
def test_a_reveal_is_audited_with_the_field_and_reason(api, collector, case):
    reveal(api, collector, case, field="national_id", reason="法务立案需核对身份证")
    event = AuditEvent.objects.get(action="personal_data.reveal")
    assert (event.actor, event.case_id, event.changes, event.reason) == (
        collector, case.pk, {"field": "national_id"}, "法务立案需核对身份证"
    )


@pytest.mark.django_db
def test_the_audit_event_never_holds_the_revealed_value_even_if_the_reason_repeats_it(api, collector, case):
    reveal(api, collector, case, field="mobile", reason=f"客户说{MOBILE}不是他的号码")
    event = AuditEvent.objects.get(action="personal_data.reveal")
    stored = json.dumps(event.content(), ensure_ascii=False)
    assert MOBILE not in stored
    assert "138****5678" in event.reason


@pytest.mark.django_db
def test_another_teams_case_answers_404_to_a_reveal(api, collector, other_team):
    stranger = CaseFactory(team=other_team)
    assert reveal(api, collector, stranger, field="mobile", reason="回拨").status_code == 404
    assert not AuditEvent.objects.filter(action="personal_data.reveal").exists()


@pytest.mark.django_db
def test_an_unknown_field_is_refused(api, collector, case):
    assert reveal(api, collector, case, field="full_name", reason="x").status_code == 400


@pytest.mark.django_db
def test_the_reveal_endpoint_is_in_the_openapi_schema(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--file", str(out))
    assert "/api/v1/cases/{id}/reveal/:" in out.read_text()


@pytest.mark.django_db
def test_the_case_page_swaps_in_the_revealed_value_for_htmx(as_user, collector, case):
    response = as_user(collector).post(
        reverse("cases:reveal", args=[case.pk]), {"field": "mobile", "reason": "回拨客户"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="reveal-mobile"' in body and MOBILE in body
    assert NATIONAL_ID not in body  # one field at a time
    assert response["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="personal_data.reveal", changes__field="mobile").exists()


@pytest.mark.django_db
def test_the_case_page_explains_a_missing_reason_and_reveals_nothing(as_user, collector, case):
    response = as_user(collector).post(
        reverse("cases:reveal", args=[case.pk]), {"field": "mobile", "reason": ""}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Say why you need to see it." in body
    assert MOBILE not in body


@pytest.mark.django_db
def test_the_case_page_without_htmx_shows_the_revealed_field_in_the_whole_page(as_user, collector, case):
    url = reverse("cases:reveal", args=[case.pk])
    response = as_user(collector).post(url, {"field": "email", "reason": "寄送协议"})
    body = response.content.decode()
    assert response.status_code == 200
    assert EMAIL in body
    assert MOBILE not in body and NATIONAL_ID not in body


@pytest.mark.django_db
def test_the_case_page_offers_reveal_forms_only_to_roles_that_may_reveal(as_user, collector, admin_user_, case):
    url = reverse("cases:detail", args=[case.pk])
    assert reverse("cases:reveal", args=[case.pk]) in as_user(collector).get(url).content.decode()
    assert reverse("cases:reveal", args=[case.pk]) not in as_user(admin_user_).get(url).content.decode()


@pytest.mark.django_db
def test_the_case_page_reveal_is_404_for_another_teams_case(as_user, collector, other_team):
    stranger = CaseFactory(team=other_team)
    response = as_user(collector).post(reverse("cases:reveal", args=[stranger.pk]), {"field": "mobile", "reason": "x"})
    assert response.status_code == 404
