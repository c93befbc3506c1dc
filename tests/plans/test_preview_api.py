"""POST /api/v1/plans/preview/: the schedule calculator over HTTP."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

URL = "/api/v1/plans/preview/"
ANNUITY = {
    "principal": "12000.00", "interest": "0", "fees": "0", "method": "annuity", "months": 12,
    "annual_rate": "0.12", "first_due_date": "2026-01-31",
}


def test_the_preview_is_named_plan_preview_in_the_api_namespace():
    assert reverse("api:plan-preview") == URL


def test_a_collector_previews_an_annuity_schedule(api, collector):
    response = api(collector).post(URL, ANNUITY, format="json")
    assert response.status_code == 200
    body = response.json()
    assert len(body["installments"]) == 12
    assert body["installments"][0] == {
        "number": 1, "due_date": "2026-01-31", "amount": "1066.19", "principal": "946.19", "interest": "120.00",
        "fee": "0.00",
    }
    assert body["installments"][1]["due_date"] == "2026-02-28"
    assert body["installments"][-1]["amount"] == "1066.14"
    assert (body["financed_amount"], body["total_payable"], body["total_waived"]) == ("12000.00", "12794.23", "0.00")
    assert body["largest_installment"] == "1066.19"


def test_a_flat_fee_preview_with_waivers_and_grace(api, collector):
    response = api(collector).post(URL, {
        "principal": "12000.00", "interest": "1000.00", "fees": "200.00", "method": "flat_fee", "months": 12,
        "monthly_fee_rate": "0.006", "interest_waiver_pct": "100", "fee_waiver_pct": "100", "grace_months": 2,
        "first_due_date": "2026-01-31",
    }, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["total_waived"] == "1200.00"
    assert body["installments"][0]["due_date"] == "2026-03-31"
    assert {line["amount"] for line in body["installments"]} == {"1072.00"}


def test_optional_terms_default_to_zero(api, collector):
    response = api(collector).post(URL, {"principal": "600", "method": "equal_principal", "months": 2,
                                         "first_due_date": "2026-01-31"}, format="json")
    assert response.status_code == 200
    assert [line["amount"] for line in response.json()["installments"]] == ["300.00", "300.00"]


@pytest.mark.parametrize("field, value", [
    ("months", 0),
    ("months", 61),
    ("months", "twelve"),
    ("principal", "-1.00"),
    ("principal", "NaN"),
    ("principal", "Infinity"),
    ("principal", "12000.001"),
    ("annual_rate", "1.5"),
    ("annual_rate", "-0.1"),
    ("interest_waiver_pct", "100.5"),
    ("fee_waiver_pct", "-1"),
    ("grace_months", 13),
    ("method", "balloon"),
    ("first_due_date", "2026-02-30"),
])
def test_bad_input_is_a_400_naming_the_field(api, collector, field, value):
    response = api(collector).post(URL, {**ANNUITY, field: value}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_a_required_field_left_out_is_a_400_naming_it(api, collector):
    response = api(collector).post(URL, {k: v for k, v in ANNUITY.items() if k != "months"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["months"]


@pytest.mark.parametrize("overrides, field", [
    ({"monthly_fee_rate": "0.006"}, "monthly_fee_rate"),
    ({"method": "flat_fee", "monthly_fee_rate": "0.09", "annual_rate": "0"}, "monthly_fee_rate"),
    ({"method": "flat_fee", "monthly_fee_rate": "0.006"}, "annual_rate"),
    ({"principal": "0", "interest": "50.00", "interest_waiver_pct": "100"}, "principal"),
    ({"first_due_date": "9999-06-01"}, "first_due_date"),
])
def test_terms_the_calculator_refuses_are_a_400_on_their_field(api, collector, overrides, field):
    response = api(collector).post(URL, {**ANNUITY, **overrides}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert isinstance(body[field], list) and body[field][0]


def test_a_refusal_message_is_in_english_when_asked(api, collector):
    response = api(collector).post(URL, {**ANNUITY, "principal": "0"}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.json() == {"principal": ["There is nothing to finance."]}


def test_an_anonymous_caller_is_refused(api):
    response = api().post(URL, ANNUITY, format="json")
    assert response.status_code in (401, 403)
    assert "installments" not in response.json()


def test_the_preview_is_in_the_openapi_schema(api, admin_user_):
    response = api(admin_user_).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    operation = response.json()["paths"][URL]["post"]
    assert "requestBody" in operation
    assert "200" in operation["responses"]
