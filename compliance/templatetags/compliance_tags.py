"""Presentation filters for personal data and the audit log."""

import json

from django import template

from compliance import masking
from compliance.services import personal_data_may_reveal

register = template.Library()

MASKERS = {
    "national_id": masking.mask_national_id,
    "mobile": masking.mask_mobile,
    "email": masking.mask_email,
}
CHANGES_LIMIT = 160


@register.filter
def masked_email(value: str) -> str:
    return masking.mask_email(value) if value else ""


@register.filter
def masked_text(value: str) -> str:
    """Free text with any national id, mobile or email in it masked."""
    return masking.mask_text(str(value)) if value else ""


@register.filter
def masked_field(debtor, field: str) -> str:
    """The masked value of one of the cardholder's personal-data fields ("" when empty)."""
    value = getattr(debtor, field, "") or ""
    return MASKERS[field](value) if value else ""


@register.filter
def may_reveal_personal_data(user) -> bool:
    return personal_data_may_reveal(user)


@register.filter
def case_number(case_id) -> str:
    """The case number people read (cases.Case.number), from an id alone."""
    return f"C{int(case_id):08d}" if case_id else ""


def changes_text(changes) -> str:
    """A compact one-line rendering of an audit event's changes (`status: [notify, first_contact]; kind: dispute`),
    personal data masked."""
    if not changes:
        return ""
    if not isinstance(changes, dict):
        return masking.mask_text(_compact(changes))
    return masking.mask_text("; ".join(f"{key}: {_compact(value)}" for key, value in changes.items()))


def _compact(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(_compact(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_compact(item)}" for key, item in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


@register.filter
def compact_changes(changes) -> str:
    text = changes_text(changes)
    return text if len(text) <= CHANGES_LIMIT else text[: CHANGES_LIMIT - 1] + "…"


@register.filter
def category_labels(codes) -> str:
    """Screening categories, by their human names."""
    from compliance.models import ScreeningTerm

    labels = dict(ScreeningTerm.Category.choices)
    return ", ".join(str(labels.get(code, code)) for code in codes or [])
