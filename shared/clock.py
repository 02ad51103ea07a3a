"""The time the functions act at. Real time in Lambda; the embedded local stack pins it to
move a day, a month or a year forward (`dsr-intake advance`)."""

from __future__ import annotations

from datetime import UTC, datetime


class Clock:
    def __init__(self) -> None:
        self._pinned: datetime | None = None

    def now(self) -> datetime:
        return self._pinned or datetime.now(UTC)

    def pin(self, moment: datetime | None) -> None:
        self._pinned = moment


CLOCK = Clock()
