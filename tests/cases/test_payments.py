"""Payments: the CN allocation order, idempotency on external_ref, the API and `manage.py import_payments`."""

import io
import json
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone, translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases.models import CardAccount, CaseStatus, CaseTransition, ImportBatch, Payment
from cases.services import ErrorCode, PaymentRefused, payment_record
from compliance.models import AuditEvent
from tests.factories import CardAccountFactory, CaseFactory, UserFactory

URL = "/api/v1/payments/"


def account_days_past_due(days: int) -> CardAccount:
    """¥8,000.00 principal, ¥600.00 interest and ¥100.00 fees overdue for `days` days."""
    return CardAccountFactory(
        external_ref="ACC1",
        principal_overdue=Decimal("8000.00"),
        interest_overdue=Decimal("600.00"),
        fees_overdue=Decimal("100.00"),
        delinquent_since=timezone.localdate() - timedelta(days=days),
    )


def an_hour_ago() -> str:
    return (timezone.now() - timedelta(hours=1)).isoformat()


def payment_body(**values) -> dict:
    body = {"account_ref": "ACC1", "amount": "1000.01", "paid_at": an_hour_ago(), "external_ref": "PAY-1"}
    body.update(values)
    return body


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.parametrize("days", [1, 90])
def test_up_to_90_days_past_due_a_payment_pays_interest_then_fees_then_principal(db, days):
    account = account_days_past_due(days)

    result = payment_record(
        account_ref="ACC1", amount=Decimal("1000.01"), paid_at=timezone.now(), external_ref="PAY-1"
    )

    payment = result.payment
    assert (payment.to_interest, payment.to_fees, payment.to_principal, payment.unapplied) == (
        Decimal("600.00"),
        Decimal("100.00"),
        Decimal("300.01"),
        Decimal("0.00"),
    )
    account.refresh_from_db()
    assert (account.interest_overdue, account.fees_overdue, account.principal_overdue) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("7699.99"),
    )
    assert payment.days_past_due == days


def test_a_payment_smaller_than_the_interest_leaves_fees_and_principal_untouched(db):
    account = account_days_past_due(30)

    payment_record(account_ref="ACC1", amount=Decimal("0.01"), paid_at=timezone.now(), external_ref="PAY-1")

    account.refresh_from_db()
    assert (account.interest_overdue, account.fees_overdue, account.principal_overdue) == (
        Decimal("599.99"),
        Decimal("100.00"),
        Decimal("8000.00"),
    )


@pytest.mark.parametrize("days", [91, 400])
def test_from_91_days_past_due_a_payment_pays_principal_first(db, days):
    account = account_days_past_due(days)

    result = payment_record(
        account_ref="ACC1", amount=Decimal("8000.01"), paid_at=timezone.now(), external_ref="PAY-1"
    )

    payment = result.payment
    assert (payment.to_principal, payment.to_interest, payment.to_fees) == (
        Decimal("8000.00"),
        Decimal("0.01"),
        Decimal("0.00"),
    )
    account.refresh_from_db()
    assert (account.principal_overdue, account.interest_overdue, account.fees_overdue) == (
        Decimal("0.00"),
        Decimal("599.99"),
        Decimal("100.00"),
    )


def test_the_regime_is_judged_on_the_day_of_payment_not_today(db):
    account_days_past_due(100)
    paid_at = timezone.now() - timedelta(days=20)  # 80 days past due then

    payment = payment_record(account_ref="ACC1", amount=Decimal("700.00"), paid_at=paid_at, external_ref="P").payment

    assert (payment.days_past_due, payment.to_interest, payment.to_principal) == (80, Decimal("600.00"), Decimal("0"))


def test_paying_everything_resolves_the_open_case(db):
    account = account_days_past_due(45)
    case = CaseFactory(account=account)

    result = payment_record(
        account_ref="ACC1", amount=Decimal("8700.00"), paid_at=timezone.now(), external_ref="PAY-ALL"
    )

    case.refresh_from_db()
    account.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert CaseTransition.objects.get(case=case).name == "settle"
    assert (account.overdue_total, account.delinquent_since) == (Decimal("0.00"), None)
    assert result.payment.unapplied == Decimal("0.00")


def test_paying_part_leaves_the_case_open(db):
    account = account_days_past_due(45)
    case = CaseFactory(account=account)

    payment_record(account_ref="ACC1", amount=Decimal("8699.99"), paid_at=timezone.now(), external_ref="PAY-1")

    case.refresh_from_db()
    assert case.status == CaseStatus.NOTIFY


def test_an_amount_with_more_than_two_decimals_is_refused(db):
    account_days_past_due(10)

    with pytest.raises(PaymentRefused) as refused:
        payment_record(account_ref="ACC1", amount=Decimal("10.005"), paid_at=timezone.now(), external_ref="P")

    assert refused.value.code == ErrorCode.INVALID_AMOUNT
    assert Payment.objects.count() == 0


# --- The API ---------------------------------------------------------------------------------------


def test_a_new_payment_answers_201_with_its_allocation(api, supervisor):
    account_days_past_due(10)

    response = api(supervisor).post(URL, payment_body(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["external_ref"], body["account_ref"], body["amount"]) == ("PAY-1", "ACC1", "1000.01")
    assert (body["to_interest"], body["to_fees"], body["to_principal"]) == ("600.00", "100.00", "300.01")
    assert AuditEvent.objects.get(action="payment.record").actor == supervisor


def test_replaying_the_same_payment_answers_200_and_records_nothing_more(api, supervisor):
    account = account_days_past_due(10)
    body = payment_body()
    api(supervisor).post(URL, body, format="json")

    response = api(supervisor).post(URL, body, format="json")

    assert response.status_code == 200
    assert response.json()["external_ref"] == "PAY-1"
    assert Payment.objects.count() == 1
    assert AuditEvent.objects.filter(action="payment.record").count() == 1
    account.refresh_from_db()
    assert account.principal_overdue == Decimal("7699.99")


def test_reusing_an_external_ref_with_different_content_is_refused(api, supervisor):
    account_days_past_due(10)
    api(supervisor).post(URL, payment_body(), format="json")

    response = api(supervisor).post(URL, payment_body(amount="1000.02"), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == ErrorCode.DUPLICATE_PAYMENT
    assert Payment.objects.count() == 1


def test_a_payment_for_an_unknown_account_is_refused(api, supervisor):
    response = api(supervisor).post(URL, payment_body(account_ref="NOPE"), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == ErrorCode.UNKNOWN_ACCOUNT
    assert response.json()["detail"]


@pytest.mark.parametrize("amount", ["-5.00", "0.00"])
def test_a_payment_that_is_not_positive_is_refused(api, supervisor, amount):
    account_days_past_due(10)

    response = api(supervisor).post(URL, payment_body(amount=amount), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == ErrorCode.INVALID_AMOUNT
    assert Payment.objects.count() == 0


def test_a_payment_dated_in_the_future_is_refused(api, supervisor):
    account_days_past_due(10)

    response = api(supervisor).post(
        URL, payment_body(paid_at=(timezone.now() + timedelta(days=1)).isoformat()), format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == ErrorCode.PAID_IN_FUTURE


@pytest.mark.parametrize("role", ["collector", "legal", "compliance"])
def test_only_supervisors_and_admins_may_post_payments(api, team, role):
    account_days_past_due(10)
    user = UserFactory(username=f"a-{role}", role=role, team=team)

    response = api(user).post(URL, payment_body(), format="json")

    assert response.status_code == 403
    assert Payment.objects.count() == 0


def test_the_card_system_posts_payments_with_an_admin_token(admin_user_):
    account_days_past_due(10)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin_user_).key}")

    response = client.post(URL, payment_body(), format="json")

    assert response.status_code == 201


def test_the_payment_api_is_in_the_openapi_schema(api, supervisor):
    schema = api(supervisor).get("/api/schema/", {"format": "json"}).json()

    assert set(schema["paths"][URL]["post"]["responses"]) >= {"200", "201", "400", "403"}


# --- The command -----------------------------------------------------------------------------------


def test_the_payment_import_records_new_rows_counts_replays_as_unchanged_and_reports_bad_rows(db, tmp_path):
    account_days_past_due(10)
    paid_at = an_hour_ago()
    path = tmp_path / "payments.csv"
    path.write_text(
        "external_ref,account_ref,amount,paid_at\r\n"
        f"P1,ACC1,100.00,{paid_at}\r\n"
        f"P1,ACC1,100.00,{paid_at}\r\n"
        f"P2,NOPE,100.00,{paid_at}\r\n"
        f"P3,ACC1,12.345,{paid_at}\r\n"
        f"P4,ACC1,-1.00,{paid_at}\r\n"
        "P5,ACC1,1.00,2026-01-01T10:00:00\r\n"
        f"P1,ACC1,99.00,{paid_at}\r\n",
        encoding="utf-8",
    )
    out = io.StringIO()

    with translation.override("en"):
        call_command("import_payments", str(path), stdout=out)

    result = json.loads(out.getvalue())
    assert (result["created"], result["updated"], result["unchanged"]) == (1, 0, 1)
    assert [(e["row"], e["column"]) for e in result["errors"]] == [
        (4, "account_ref"),
        (5, "amount"),
        (6, "amount"),
        (7, "paid_at"),
        (8, "external_ref"),
    ]
    assert Payment.objects.count() == 1
    batch = ImportBatch.objects.get(pk=result["batch"])
    assert (batch.kind, batch.rows) == ("payments", 7)
    assert AuditEvent.objects.filter(action="import.payments", target_id=str(batch.pk)).count() == 1


def test_a_payment_date_without_time_means_midnight_in_shanghai(db, tmp_path):
    account_days_past_due(10)
    day = timezone.localdate() - timedelta(days=1)
    path = tmp_path / "payments.csv"
    path.write_text(f"external_ref,account_ref,amount,paid_at\nP1,ACC1,5.00,{day.isoformat()}\n", encoding="utf-8")

    call_command("import_payments", str(path), stdout=io.StringIO())

    paid_at = Payment.objects.get().paid_at
    assert paid_at == datetime(day.year, day.month, day.day, tzinfo=ZoneInfo("Asia/Shanghai"))
