"""Presentation filters shared by the case screens: money, masking, human labels."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.translation import gettext_lazy as _

from cases import classification as rules
from cases.models import TRANSITION_LABELS
from compliance import masking

register = template.Library()

FEN = Decimal("0.01")

WILFUL_LABELS = {
    rules.DEMANDS_IGNORED: _("Delivered demands ignored while unpaid"),
    rules.PROMISES_BROKEN: _("Promises to pay broken"),
    rules.INFORMATION_FALSE: _("False information given"),
    rules.CONTACT_EVADED: _("Contact evaded"),
}


@register.filter
def money(value) -> str:
    """¥12,345.67, rounded half-up to the fen. Floats are refused: they cannot carry money exactly."""
    if value is None or value == "":
        return ""
    if isinstance(value, float) or not isinstance(value, Decimal | int):
        raise TypeError(f"money needs a Decimal, got {type(value).__name__}")
    amount = Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


@register.filter
def masked_mobile(value: str) -> str:
    return masking.mask_mobile(value or "")


@register.filter
def masked_national_id(value: str) -> str:
    return masking.mask_national_id(value or "")


@register.filter
def transition_label(name: str) -> str:
    return TRANSITION_LABELS.get(name, name)


@register.filter
def wilful_label(code: str) -> str:
    return WILFUL_LABELS.get(code, code)
