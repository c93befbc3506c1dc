"""Every number and date people or machines type in is bounded: a clear 400 or form error, never a 500."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from compliance.forms import ComplaintRegisterForm
from compliance.models import Complaint
from config import bounds
from tests.factories import UserFactory

HUGE = "99999999999999999999"


@pytest.mark.parametrize("day", [date(1990, 1, 1), date(2100, 12, 31), date(2026, 6, 1)])
def test_dates_from_1990_to_2100_are_accepted(day):
    bounds.validate_date_in_range(day)


@pytest.mark.parametrize("day", [date(654, 3, 1), date(1989, 12, 31), date(2101, 1, 1)])
def test_dates_outside_1990_to_2100_are_refused(day):
    with pytest.raises(ValidationError) as refused:
        bounds.validate_date_in_range(day)
    assert refused.value.code == "date_out_of_range"


def test_a_moment_in_the_future_is_refused_where_the_past_is_meant_beyond_clock_drift():
    bounds.validate_not_in_future(timezone.now() + timedelta(minutes=1))
    bounds.validate_not_in_future(timezone.localdate())
    with pytest.raises(ValidationError):
        bounds.validate_not_in_future(timezone.now() + timedelta(hours=1))
    with pytest.raises(ValidationError):
        bounds.validate_not_in_future(timezone.localdate() + timedelta(days=1))


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["dpd_min", "dpd_max", "amount_min", "amount_max"])
def test_a_huge_worklist_filter_is_a_400_naming_the_field(api, name):
    response = api(UserFactory(role="collector")).get("/api/v1/cases/", {name: HUGE})
    assert response.status_code == 400
    assert name in response.json()


@pytest.mark.django_db
def test_days_past_due_are_bounded_at_100_years(api):
    collector = UserFactory(role="collector")
    assert api(collector).get("/api/v1/cases/", {"dpd_min": 36500}).status_code == 200
    response = api(collector).get("/api/v1/cases/", {"dpd_max": 36501})
    assert response.status_code == 400
    assert "36500" in str(response.json()["dpd_max"])


@pytest.mark.django_db
def test_the_worklist_page_shows_the_filter_error_for_a_huge_number(as_user):
    response = as_user(UserFactory(role="collector")).get(reverse("cases:worklist"), {"dpd_min": HUGE})
    assert response.status_code == 400
    assert "Days past due from" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "received_at",
    ["0654-05-01T10:00:00+08:00", "0001-01-01T00:00:00+08:00", "2200-01-01T00:00:00Z"],
)
def test_a_complaint_received_outside_the_bounds_is_refused_by_the_api(api, received_at):
    officer = UserFactory(role="compliance", team=None)
    body = {"channel": "phone", "category": "other", "description": "x", "received_at": received_at}
    response = api(officer).post("/api/v1/complaints/", body, format="json")
    assert response.status_code == 400
    assert "received_at" in response.json()
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_a_complaint_received_tomorrow_is_refused_by_the_api(api):
    officer = UserFactory(role="compliance", team=None)
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    body = {"channel": "phone", "category": "other", "description": "x", "received_at": tomorrow}
    response = api(officer).post("/api/v1/complaints/", body, format="json")
    assert response.status_code == 400
    assert not Complaint.objects.exists()


def test_the_complaint_form_refuses_a_complaint_dated_in_the_year_654():
    form = ComplaintRegisterForm(
        data={"channel": "phone", "category": "other", "description": "x", "received_at": "0654-05-01T10:00"}
    )
    assert not form.is_valid()
    assert "received_at" in form.errors


@pytest.mark.django_db
def test_a_payment_dated_before_1990_or_above_the_amount_bound_is_refused(api):
    admin = UserFactory(role="admin", team=None)
    body = {"account_ref": "X1", "amount": "10.00", "external_ref": "P1", "paid_at": "0654-01-05T10:00:00Z"}
    response = api(admin).post("/api/v1/payments/", body, format="json")
    assert response.status_code == 400 and "paid_at" in response.json()
    body.update(paid_at=datetime(2026, 1, 5, tzinfo=timezone.get_current_timezone()).isoformat(),
                amount=str(bounds.AMOUNT_MAX + Decimal("0.01")))
    response = api(admin).post("/api/v1/payments/", body, format="json")
    assert response.status_code == 400 and "amount" in response.json()


@pytest.mark.django_db
def test_the_plan_preview_refuses_an_amount_above_the_bound(api):
    body = {"principal": "100000000.01", "method": "annuity", "months": 12, "first_due_date": "2026-10-01"}
    response = api(UserFactory(role="collector")).post("/api/v1/plans/preview/", body, format="json")
    assert response.status_code == 400
    assert "principal" in response.json()


@pytest.mark.django_db
def test_the_kpi_period_refuses_a_date_before_1990(as_user):
    response = as_user(UserFactory(role="supervisor")).get(
        reverse("reporting:kpis"), {"start": "0654-01-01", "end": "2026-01-01"}
    )
    assert "1990-01-01" in response.content.decode()


def test_the_classification_policy_form_bounds_days_and_amounts():
    from cases.forms import ClassificationPolicyForm

    data = {"early_max_days": 36501, "early_max_amount": "100000000.01", "demand_gap_days": 30, "unpaid_days": 90,
            "broken_promises": 2, "evasions": 3}
    form = ClassificationPolicyForm(data=data)
    assert not form.is_valid()
    assert set(form.errors) == {"early_max_days", "early_max_amount"}
