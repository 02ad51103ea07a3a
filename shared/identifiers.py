"""NHS numbers and UK postcodes."""

from __future__ import annotations

import re

_NHS_SEPARATORS = re.compile(r"[\s\-]")
_TEN_DIGITS = re.compile(r"[0-9]{10}")
_POSTCODE = re.compile(
    r"^(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY]) ?[0-9][ABD-HJLNP-UW-Z]{2})$"
)


def normalise_nhs_number(text: str) -> str:
    """Digits only: spaces and dashes are allowed between groups."""
    return _NHS_SEPARATORS.sub("", text.strip())


def nhs_check_digit(first_nine: str) -> int | None:
    """The Modulus 11 check digit for nine digits, or None when no valid digit exists."""
    total = sum(
        int(digit) * weight for digit, weight in zip(first_nine, range(10, 1, -1), strict=True)
    )
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid_nhs_number(text: str) -> bool:
    digits = normalise_nhs_number(text)
    # ASCII digits only: `str.isdigit()` also accepts superscript, circled, Arabic-Indic and full-width digits.
    if not _TEN_DIGITS.fullmatch(digits):
        return False
    if len(set(digits)) == 1:
        return False  # 0000000000, 1111111111 ... pass Modulus 11 but are placeholders
    return nhs_check_digit(digits[:9]) == int(digits[9])


def normalise_postcode(text: str) -> str:
    compact = re.sub(r"\s+", "", text.upper())
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def is_valid_postcode(text: str) -> bool:
    return bool(_POSTCODE.match(normalise_postcode(text)))
