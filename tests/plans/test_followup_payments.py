"""Payments settle the installments of an agreement in force, oldest due first; a replay changes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from compliance.models import AuditEvent
from plans.followup import installments_settle
from plans.models import Installment, InstallmentAllocation
from tests.factories import CaseFactory
from tests.plans.followup_setup import agreement_in_force, follow_up_case, pay, statuses

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(team, collector):
    return follow_up_case(team, collector)


@pytest.fixture
def agreement(case):
    return agreement_in_force(case, ["2000.00"] * 4, timezone.localdate() + timedelta(days=10))


def test_a_part_payment_stays_on_the_first_installment(case, agreement):
    pay(case, "1500.00")

    assert statuses(agreement) == [
        ("due", "1500.00", ""),
        ("due", "0.00", ""),
        ("due", "0.00", ""),
        ("due", "0.00", ""),
    ]


def test_an_exact_payment_pays_the_first_installment_on_the_payment_day(case, agreement):
    pay(case, "2000.00")

    today = timezone.localdate().isoformat()
    assert statuses(agreement)[:2] == [("paid", "2000.00", today), ("due", "0.00", "")]


def test_part_payments_add_up_to_a_paid_installment(case, agreement):
    pay(case, "1500.00")
    pay(case, "500.00")

    assert statuses(agreement)[0][:2] == ("paid", "2000.00")
    assert statuses(agreement)[1][:2] == ("due", "0.00")


def test_an_overpayment_carries_to_the_next_installment(case, agreement):
    payment = pay(case, "2500.00")

    assert statuses(agreement)[:3] == [
        ("paid", "2000.00", timezone.localdate().isoformat()),
        ("due", "500.00", ""),
        ("due", "0.00", ""),
    ]
    assert sorted(InstallmentAllocation.objects.filter(payment=payment).values_list("amount", flat=True)) == [
        Decimal("500.00"),
        Decimal("2000.00"),
    ]


def test_a_replayed_payment_changes_nothing(case, agreement):
    paid_at = timezone.now() - timedelta(minutes=1)
    payment = pay(case, "2500.00", ref="BANK-1", paid_at=paid_at)
    pay(case, "2500.00", ref="BANK-1", paid_at=paid_at)  # the card system sends it again
    again = installments_settle(payment_id=payment.pk)

    assert again == []
    assert InstallmentAllocation.objects.count() == 2
    assert statuses(agreement)[:2] == [("paid", "2000.00", timezone.localdate().isoformat()), ("due", "500.00", "")]


def test_a_missed_installment_is_paid_before_the_current_one_and_keeps_the_miss_count(case, agreement):
    first, second = agreement.installments.order_by("number")[:2]
    Installment.objects.filter(pk=first.pk).update(status=Installment.Status.MISSED)
    agreement.missed_count = 1
    agreement.save(update_fields=["missed_count"])

    pay(case, "2000.00")

    first.refresh_from_db()
    second.refresh_from_db()
    agreement.refresh_from_db()
    assert (first.status, first.paid_amount) == (Installment.Status.PAID, Decimal("2000.00"))
    assert second.paid_amount == Decimal("0.00")
    assert agreement.missed_count == 1


def test_settling_is_audited_with_each_allocation(case, agreement):
    pay(case, "2500.00", ref="BANK-2")

    event = AuditEvent.objects.get(action="agreement.installments_settle")
    assert event.changes["payment"] == "BANK-2"
    assert event.changes["allocations"] == [
        {"installment": 1, "amount": "2000.00"},
        {"installment": 2, "amount": "500.00"},
    ]


def test_a_payment_on_an_account_without_an_agreement_allocates_nothing(team):
    case = CaseFactory(team=team)

    pay(case, "100.00")

    assert InstallmentAllocation.objects.count() == 0


def test_a_payment_beyond_every_installment_leaves_the_rest_unallocated(case, agreement):
    payment = pay(case, "8000.00")

    assert sum(InstallmentAllocation.objects.filter(payment=payment).values_list("amount", flat=True)) == Decimal(
        "8000.00"
    )
    assert all(status == "paid" for status, _paid, _on in statuses(agreement))
