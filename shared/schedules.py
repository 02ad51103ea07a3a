"""Each open case's one reminder schedule, always set from the case as it is *now*.

A schedule effect in the outbox says only "this case's schedule may have changed": whoever
delivers it reads the case afresh and sets the schedule at its next checkpoint, or deletes
it. So an effect delivered late, twice or out of order can never move a schedule back in
time, nor re-create the schedule of a withdrawn or closed case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shared.case import Case, ScheduleEffect
from shared.reminders import reminder_effect
from shared.settings import Settings

# A schedule this close to where it should be is right (Scheduler keeps whole seconds).
TOLERANCE = timedelta(seconds=1)
# Setting a schedule again when the case changed during the call (the last change's own
# schedule effect follows in any case).
SYNC_ATTEMPTS = 3


class CaseReader(Protocol):
    def case(self, case_id: str) -> Case | None: ...


class Scheduler(Protocol):
    def schedule_review(self, case_id: str, at: datetime) -> None: ...

    def cancel(self, case_id: str) -> None: ...


class ScheduleLister(Scheduler, Protocol):
    def scheduled_reviews(self) -> dict[str, datetime]:
        """Every case schedule in the group: case id -> when it fires."""
        ...


def due_schedule(case: Case | None, settings: Settings, now: datetime) -> datetime | None:
    """When the case's schedule should fire now; None when it should have none."""
    if case is None or not case.status.is_open:
        return None
    effect = reminder_effect(case, settings, now)
    return effect.at if isinstance(effect, ScheduleEffect) else None


class ScheduleSync:
    def __init__(
        self,
        cases: CaseReader,
        scheduler: Scheduler,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self.cases = cases
        self.scheduler = scheduler
        self.settings = settings
        self.clock = clock

    def sync(self, case_id: str) -> str:
        """Set the case's schedule from its current state; returns what was done (no data).

        The case is read again after Scheduler's call: when it changed meanwhile (a withdrawal
        recorded and its erasure's cancel run while the call was on its way), the schedule is
        set again from the newer state, so a stale call never outlives the erasure."""
        case = self.cases.case(case_id)
        for _ in range(SYNC_ATTEMPTS):
            at = due_schedule(case, self.settings, self.clock())
            if at is None:
                self.scheduler.cancel(case_id)
            else:
                self.scheduler.schedule_review(case_id, at)
            now = self.cases.case(case_id)
            if (now.version if now else None) == (case.version if case else None):
                break
            case = now
        return "schedule:none" if at is None else "schedule:set"


@dataclass(frozen=True)
class Reconciliation:
    """What a reconciliation found and repaired, in counts (never personal data)."""

    open_cases: int
    correct: int
    missing: int  # an open case with no schedule: created
    stale: int  # a schedule at the wrong time: moved
    orphaned: int  # a schedule for a case no longer open or no longer held: deleted

    @property
    def repaired(self) -> int:
        return self.missing + self.stale + self.orphaned

    def summary(self) -> str:
        return (
            f"{self.open_cases} open cases: {self.correct} schedules right, "
            f"{self.missing} missing (created), {self.stale} at the wrong time (moved), "
            f"{self.orphaned} for cases no longer open (deleted)"
        )


def reconcile(
    cases: Iterable[Case] | Callable[[], Iterable[Case]],
    scheduler: ScheduleLister,
    settings: Settings,
    now: datetime,
    *,
    repair: bool = True,
    reader: CaseReader | None = None,
) -> Reconciliation:
    """Check every case has exactly its one schedule at its next checkpoint; repair what not.

    The schedules are listed first and the cases read after (a case accepted meanwhile is
    then seen with its schedule); with a `reader`, a case about to be repaired is read again,
    consistently, so a case that changed during the run is judged as it is now."""
    held = scheduler.scheduled_reviews()
    listed = list(cases() if callable(cases) else cases)
    open_cases = correct = missing = stale = 0
    wanted: set[str] = set()
    for case in listed:
        if case.status.is_open:
            open_cases += 1
        at = due_schedule(case, settings, now)
        current = held.get(case.case_id)
        if at is not None and current is not None and abs(current - at) <= TOLERANCE:
            correct += 1
            wanted.add(case.case_id)
            continue
        if at is None:
            continue
        if reader is not None:
            at = due_schedule(reader.case(case.case_id), settings, now)
            if at is None:
                continue  # closed or withdrawn meanwhile: its schedule is an orphan
        wanted.add(case.case_id)
        # A schedule already in the past (it should have fired) is stale too.
        if current is None:
            missing += 1
        else:
            stale += 1
        if repair:
            scheduler.schedule_review(case.case_id, at)
    orphans = []
    for case_id in held:
        if case_id in wanted:
            continue
        if reader is not None and due_schedule(reader.case(case_id), settings, now) is not None:
            continue  # opened since the cases were read: its own delivery set it
        orphans.append(case_id)
    if repair:
        for case_id in orphans:
            scheduler.cancel(case_id)
    return Reconciliation(open_cases, correct, missing, stale, len(orphans))
