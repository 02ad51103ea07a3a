"""Working days in England and Wales: reminders land on one, never a weekend or a bank
holiday. The holidays are data, in gov.uk's own format (`shared/bank_holidays.json`, the
england-and-wales part of https://www.gov.uk/bank-holidays.json): replace the file with a
newer download to extend it; the dates it holds run to LAST_KNOWN_YEAR."""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import cache
from importlib import resources


@cache
def bank_holidays() -> frozenset[date]:
    text = resources.files("shared").joinpath("bank_holidays.json").read_text("utf-8")
    events = json.loads(text)["england-and-wales"]["events"]
    return frozenset(date.fromisoformat(event["date"]) for event in events)


def last_known_year() -> int:
    return max(day.year for day in bank_holidays())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays()


def next_working_day(day: date) -> date:
    """The day itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day
