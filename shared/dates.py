"""UK dates as referrers write them: day first, always."""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}

# ASCII digits only (`\d` would also take Arabic-Indic or full-width digits).
_DAY_FIRST = re.compile(r"^([0-9]{1,2})[/\-. ]([0-9]{1,2})[/\-. ]([0-9]{4})$")
_ISO = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_WORDS = re.compile(r"^([0-9]{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+([0-9]{4})$")
# Every date on a form lies in this range; others are typing slips (0001, 9999) whose
# arithmetic would fail later.
EARLIEST_YEAR = 1900
LATEST_YEAR = 2100
_MAX_DATE_CHARS = 40


class DateFormatError(ValueError):
    """The text is not a date we can read without guessing."""


def parse_uk_date(text: str) -> date:
    """Read `DD/MM/YYYY`, `D/M/YYYY`, `DD-MM-YYYY`, `YYYY-MM-DD` or `3 April 2012`.

    Never month-first: `03/04/2012` is the 3rd of April.
    """
    if len(text) > _MAX_DATE_CHARS:
        raise DateFormatError("not a day-first date such as 03/04/2012")
    cleaned = " ".join(text.strip().lower().split())
    if match := _ISO.match(cleaned):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DAY_FIRST.match(cleaned):
        day, month, year = (int(part) for part in match.groups())
    elif (match := _WORDS.match(cleaned)) and match.group(2) in _MONTHS:
        day, month, year = int(match.group(1)), _MONTHS[match.group(2)], int(match.group(3))
    else:
        raise DateFormatError("not a day-first date such as 03/04/2012")
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise DateFormatError(f"not a date between {EARLIEST_YEAR} and {LATEST_YEAR}")
    try:
        return date(year, month, day)
    except ValueError as error:
        raise DateFormatError("not a real calendar date") from error


def age_on(date_of_birth: date, on: date) -> int:
    """Whole years of age on a day (a 29 February birthday counts from 1 March)."""
    years = on.year - date_of_birth.year
    if (on.month, on.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier, if negative); the month's last day when it is
    shorter (31 August + 6 months is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


def birthday(date_of_birth: date, age: int) -> date:
    """The day someone turns `age` (a 29 February birthday falls on 1 March in other years)."""
    try:
        return date_of_birth.replace(year=date_of_birth.year + age)
    except ValueError:
        return date(date_of_birth.year + age, 3, 1)
