"""EventBridge Scheduler's clock for the embedded stack: moto stores schedules but never fires
them, so the local stack asks here when each would have fired. Supports `at()` and the
`cron()` fields the template uses (numbers, names, `*`, `?`, ranges, lists and steps)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_DAYS = {
    d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)
}  # AWS: 1 = Sunday


class UnsupportedScheduleError(ValueError):
    """An expression the local scheduler cannot evaluate (it would still work in AWS)."""


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except ZoneInfoNotFoundError:  # a machine without time zone data: UTC is close enough locally
        return ZoneInfo("UTC")


def _values(field: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    if field in ("*", "?"):
        return set(range(low, high + 1))
    values: set[int] = set()
    for part in field.upper().split(","):
        if names:
            part = re.sub(r"[A-Z]{3}", lambda m: str(names.get(m.group(0), m.group(0))), part)
        match = re.fullmatch(r"(\*|\d+)(?:-(\d+))?(?:/(\d+))?", part)
        if not match:
            raise UnsupportedScheduleError(f"cron field {field!r} is not supported locally")
        start = low if match.group(1) == "*" else int(match.group(1))
        end = int(match.group(2)) if match.group(2) else (high if match.group(3) else start)
        values.update(range(start, end + 1, int(match.group(3) or 1)))
    return values


def fire_times(
    expression: str, timezone: str | None, after: datetime, until: datetime
) -> list[datetime]:
    """When a schedule fires in (after, until], in UTC, earliest first."""
    zone = _zone(timezone)
    if at := re.fullmatch(r"at\((.+)\)", expression):
        moment = datetime.fromisoformat(at.group(1)).replace(tzinfo=zone).astimezone(UTC)
        return [moment] if after < moment <= until else []
    cron = re.fullmatch(r"cron\((.+)\)", expression)
    if not cron:
        raise UnsupportedScheduleError(f"{expression!r} is not supported locally")
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise UnsupportedScheduleError(f"{expression!r} needs six fields")
    minutes, hours, days, months, weekdays, years = fields
    minute_set, hour_set = _values(minutes, 0, 59), _values(hours, 0, 23)
    day_set, month_set = _values(days, 1, 31), _values(months, 1, 12, _MONTHS)
    weekday_set, year_set = _values(weekdays, 1, 7, _DAYS), _values(years, 1970, 2199)
    found = []
    day: date = after.astimezone(zone).date()
    while day <= until.astimezone(zone).date():
        aws_weekday = (day.isoweekday() % 7) + 1
        if (
            day.day in day_set
            and day.month in month_set
            and aws_weekday in weekday_set
            and day.year in year_set
        ):
            for hour in sorted(hour_set):
                for minute in sorted(minute_set):
                    moment = datetime.combine(day, time(hour, minute), zone).astimezone(UTC)
                    if after < moment <= until:
                        found.append(moment)
        day += timedelta(days=1)
    return found
