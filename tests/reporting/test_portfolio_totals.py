"""The portfolio totals the overdue rate divides by: set through the API by an admin, audited."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from compliance.models import AuditEvent
from reporting.models import PortfolioTotal
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/reporting/portfolio-totals/"


@pytest.fixture
def admin(db):
    return UserFactory(username="boss", role="admin", team=None)


def test_an_admin_sets_a_days_total(api, admin):
    response = api(admin).post(URL, {"date": "2026-09-30", "accounts": 1200, "balance": "96000000.50"}, format="json")
    assert response.status_code == 201
    total = PortfolioTotal.objects.get(date=date(2026, 9, 30))
    assert (total.accounts, total.balance, total.updated_by) == (1200, Decimal("96000000.50"), admin)
    assert AuditEvent.objects.filter(action="reporting.portfolio_total_set").count() == 1


def test_posting_the_same_day_again_corrects_it(api, admin):
    api(admin).post(URL, {"date": "2026-09-30", "accounts": 1200, "balance": "1.00"}, format="json")
    response = api(admin).post(URL, {"date": "2026-09-30", "accounts": 1300, "balance": "2.00"}, format="json")
    assert response.status_code == 200
    assert PortfolioTotal.objects.get().accounts == 1300
    event = AuditEvent.objects.filter(action="reporting.portfolio_total_set").order_by("-pk").first()
    assert event.changes["before"] == {"accounts": 1200, "balance": "1.00"}


def test_a_future_day_is_refused_and_nothing_is_saved(api, admin):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = api(admin).post(URL, {"date": tomorrow, "accounts": 1, "balance": "1.00"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "portfolio_total_future_date"
    assert not PortfolioTotal.objects.exists()


def test_a_negative_balance_is_refused(api, admin):
    response = api(admin).post(URL, {"date": "2026-09-30", "accounts": 1, "balance": "-1.00"}, format="json")
    assert response.status_code == 400
    assert not PortfolioTotal.objects.exists()


@pytest.mark.parametrize("role", ["supervisor", "compliance", "collector"])
def test_other_roles_may_not_set_totals(api, role):
    user = UserFactory(username=f"u-{role}", role=role)
    response = api(user).post(URL, {"date": "2026-09-30", "accounts": 1, "balance": "1.00"}, format="json")
    assert response.status_code == 403


def test_an_admin_lists_the_latest_totals(api, admin):
    PortfolioTotal.objects.create(date=date(2026, 9, 29), accounts=1, balance=Decimal("1.00"))
    PortfolioTotal.objects.create(date=date(2026, 9, 30), accounts=2, balance=Decimal("2.00"))
    assert [row["date"] for row in api(admin).get(URL).json()] == ["2026-09-30", "2026-09-29"]


def test_the_endpoint_is_in_the_openapi_schema(client, admin):
    client.force_login(admin)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/reporting/portfolio-totals/" in schema


def test_an_admin_sets_a_total_in_the_admin_and_it_is_audited(client, admin):
    client.force_login(admin)
    response = client.post(
        "/admin/reporting/portfoliototal/add/", {"date": "2026-09-30", "accounts": "10", "balance": "500.00"}
    )
    assert response.status_code == 302
    assert PortfolioTotal.objects.get().updated_by == admin
    assert AuditEvent.objects.filter(action="reporting.portfolio_total_set").exists()


def test_the_admin_refuses_a_future_day(client, admin):
    client.force_login(admin)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client.post("/admin/reporting/portfoliototal/add/", {"date": tomorrow, "accounts": "1", "balance": "1"})
    assert response.status_code == 200
    assert not PortfolioTotal.objects.exists()
