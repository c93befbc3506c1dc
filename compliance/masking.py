"""Masking of personal data for every role that does not need it. Pure string functions."""

import logging
import re


def mask_national_id(value: str) -> str:
    """3101**************: only the first four characters (the region) stay. The last four are the answer to
    the portal's identity question, so no page, export or letter shows them."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 4)


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


# Free text (notes, reasons, excerpts, log lines) may carry personal data typed by hand.
_NATIONAL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d{9}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A portal link's token: /p/<token>/ (URL-safe base64; masked ones hold "…" and do not match again).
_PORTAL_TOKEN = re.compile(r"(/p/)([A-Za-z0-9_-]{16,100})(?=[/?#\s]|$)")
TOKEN_SHOWN = 4


def mask_portal_links(value: str) -> str:
    """/p/<token>/ → /p/…a1b2/: the last four characters of the token tell links apart; the link no longer opens."""
    if not value or "/p/" not in value:
        return value
    return _PORTAL_TOKEN.sub(lambda found: f"{found.group(1)}…{found.group(2)[-TOKEN_SHOWN:]}", value)


def mask_text(value: str) -> str:
    """Mask every mainland national id, mobile number, email address and portal link found in a free text."""
    if not value:
        return value
    value = mask_portal_links(value)
    value = _NATIONAL_ID.sub(lambda found: mask_national_id(found.group()), value)
    value = _MOBILE.sub(lambda found: mask_mobile(found.group()), value)
    return _EMAIL.sub(lambda found: mask_email(found.group()), value)


class PersonalDataLogFilter(logging.Filter):
    """A logging filter that masks personal data and portal links in every record's message (LOGGING["filters"])."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
