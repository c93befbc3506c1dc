"""Writes of the reporting app: the portfolio totals the overdue rate divides by."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from compliance import audit
from config.errors import DomainError
from reporting.models import PortfolioTotal

PORTFOLIO_TOTAL_EDITORS = {Role.ADMIN}


class ErrorCode:
    NOT_ALLOWED = "portfolio_total_not_allowed"
    FUTURE_DATE = "portfolio_total_future_date"
    NEGATIVE = "portfolio_total_negative"


def may_set_portfolio_total(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.role in PORTFOLIO_TOTAL_EDITORS))


def portfolio_total_set(*, day: date, accounts: int, balance: Decimal, actor) -> tuple[PortfolioTotal, bool]:
    """Record (or correct) the bank's portfolio total for a day; returns it and whether it is new."""
    if not may_set_portfolio_total(actor):
        raise DomainError(_("Only administrators set portfolio totals."), code=ErrorCode.NOT_ALLOWED)
    if day > timezone.localdate():
        raise DomainError(_("A portfolio total cannot be dated in the future."), code=ErrorCode.FUTURE_DATE)
    if accounts < 0 or balance < 0:
        raise DomainError(_("Accounts and balance cannot be negative."), code=ErrorCode.NEGATIVE)
    balance = Decimal(balance).quantize(Decimal("0.01"))
    with transaction.atomic():
        total = PortfolioTotal.objects.select_for_update().filter(date=day).first()  # one writer per day
        before = {"accounts": total.accounts, "balance": str(total.balance)} if total else None
        created = total is None
        if created:
            total = PortfolioTotal(date=day)
        total.accounts, total.balance, total.updated_by = accounts, balance, actor
        total.save()
        audit.record(
            actor=actor,
            action="reporting.portfolio_total_set",
            target=total,
            changes={"before": before, "after": {"accounts": accounts, "balance": str(balance)}},
        )
    return total, created
