"""Reminders land on working days in England and Wales (bank holidays are data)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.case import Case, CaseStatus
from shared.reminders import CheckpointKind, checkpoints
from shared.settings import Settings
from shared.working_days import is_working_day, last_known_year, next_working_day


def test_weekends_and_bank_holidays_move_to_the_next_working_day() -> None:
    assert next_working_day(date(2026, 11, 23)) == date(2026, 11, 23)  # a Monday
    assert next_working_day(date(2026, 11, 28)) == date(2026, 11, 30)  # Saturday -> Monday
    # Christmas Day on a Friday, Boxing Day's substitute on Monday 28th.
    assert next_working_day(date(2026, 12, 25)) == date(2026, 12, 29)
    assert next_working_day(date(2027, 3, 26)) == date(2027, 3, 30)  # Good Friday, Easter Monday
    assert not is_working_day(date(2026, 8, 31))  # the summer bank holiday


def test_the_holidays_held_are_gov_uks_england_and_wales_list() -> None:
    assert last_known_year() >= 2035
    assert not is_working_day(date(2023, 5, 8))  # the coronation's extra bank holiday


def test_a_review_due_on_a_bank_holiday_is_reminded_the_next_working_day() -> None:
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    case = Case(
        case_id="DSR-AB23CD45",
        status=CaseStatus.ACTIVE,
        person_key="k",
        created_at=now,
        updated_at=now,
        next_review_on=date(2026, 12, 25),
    )
    [due] = [p for p in checkpoints(case, Settings()) if p.kind is CheckpointKind.REVIEW_DUE]
    assert due.at == datetime(2026, 12, 29, 9, tzinfo=UTC)
    assert due.on == date(2026, 12, 25) and due.key == "review_due:2026-12-25"
