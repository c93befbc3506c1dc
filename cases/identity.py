"""Checks of identity numbers and phone numbers (GB 11643 check digit, mainland mobiles, E.164)."""

import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_NATIONAL_ID = re.compile(r"^\d{17}[\dX]$")
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def national_id_check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def is_valid_national_id(value: str) -> bool:
    """An 18-character resident identity number whose last character is the right check digit."""
    value = value.upper()
    return bool(_NATIONAL_ID.match(value)) and national_id_check_char(value[:17]) == value[17]


def is_valid_cn_mobile(value: str) -> bool:
    return bool(_CN_MOBILE.match(value))


def is_valid_e164(value: str) -> bool:
    return bool(_E164.match(value))
