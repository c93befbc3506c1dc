"""Masking of personal data for every role that does not need it. Pure string functions."""


def mask_national_id(value: str) -> str:
    """3101**********1234: the first four and last four characters stay."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_mobile(value: str) -> str:
    """138****5678 for mainland numbers; other numbers keep their first three and last four."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_email(value: str) -> str:
    """z***@example.com: the first letter of the local part and the domain stay."""
    local, at, domain = value.partition("@")
    if not at:
        return "*" * len(value)
    return (local[:1] + "***") + "@" + domain


def mask_name(value: str) -> str:
    """For third parties and exports: the family name and a star per other character (张**)."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)
