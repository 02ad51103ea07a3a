"""Erasing a case by a change that is not an email: the same erasure a withdrawal makes.

The case becomes its tombstone (`Case.tombstone`) and an `EraseEffect` in the outbox erases
its stored emails, undelivered outbox items and schedule (shared.effects). The change is
keyed on the version read, so it is recorded once, and only if the case is still as read.
Retention (shared.retention) and the smoke test's test data (shared.synthetic) use it; the
console's withdrawals will too.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from shared.case import Case, CaseChange, Closure, ClosureReason, EraseEffect
from shared.errors import AlreadyRecordedError, ConcurrentChangeError


class ErasingRegister(Protocol):
    def case(self, case_id: str) -> Case | None: ...

    def case_for_person(self, person_key: str) -> Case | None: ...

    def record_change(
        self, change: CaseChange, now: datetime, forget_person_key: str | None = None
    ) -> None: ...


def erasure(
    case: Case, now: datetime, *, kind: str, label: str, reason: ClosureReason, on: date
) -> CaseChange:
    """The change that erases `case`: its tombstone (closed for `reason` on `on`) and the
    erasure of what it held elsewhere. `kind` names the event, with the version read."""
    # A closed case erased when its retention ran out left the register when its closure was
    # recorded, years ago, not now: the panel pack must not list it again.
    recorded = case.closure.recorded_at if case.closure else None
    return CaseChange(
        event_id=f"{kind}-{case.case_id}-v{case.version}",
        label=label,
        case=case.tombstone(Closure(reason=reason, on=on, recorded_at=recorded), now),
        effects=[EraseEffect(case_id=case.case_id)],
    )


def record_erasure(
    register: ErasingRegister, case: Case, change: CaseChange, now: datetime
) -> bool:
    """Record the erasure; False when the case changed since it was read (judge it again).
    The person lookup goes only when it still names this case, not a newer one."""
    person = register.case_for_person(case.person_key) if case.person_key else None
    forget = case.person_key if person is not None and person.case_id == case.case_id else None
    try:
        register.record_change(change, now, forget_person_key=forget)
    except (AlreadyRecordedError, ConcurrentChangeError):
        return False
    return True
