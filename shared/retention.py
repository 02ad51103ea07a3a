"""How long a case that has left the register is kept, and its erasure when that time is up.

A closed case (removed by the panel, closed at transition) keeps its record for
`Settings.closed_case_retention_years` after the day it closed; a pending case that lapsed
counts as closed on the day it lapsed (the table's TTL normally removes it within days; the
rule still holds if it did not). Then the daily reconciliation erases it exactly as a
withdrawal does: the case becomes its tombstone (`Case.tombstone`) and an `EraseEffect` in
the outbox erases its stored emails, its undelivered outbox items and its schedule. One
transaction per case, on the version read, so a case changed meanwhile is not erased.

Nobody is emailed about it: the case closed years ago and the coordinators were told then;
an email per case would only repeat its reference, and what is kept (the tombstone, the
audit entry labelled RETENTION_LABEL) says it was done. The count is in the reconciliation's
log and the `ClosedCasesErased` metric.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from shared.case import (
    Case,
    CaseChange,
    CaseStatus,
    ClosureReason,
)
from shared.dates import birthday
from shared.erasure import ErasingRegister, erasure, record_erasure

RETENTION_LABEL = "retention:closed_case_erased"
# Erasures per daily run: each is two reads and one transaction, so this stays well inside
# the ReconcileFunction's timeout; whatever is left is found again the next day.
MAX_ERASURES_PER_RUN = 100


def closed_on(case: Case) -> date | None:
    """The day the case left the register: its closure's day, or the day a pending case
    lapses (or lapsed); None while it is on the register, or once it is a tombstone."""
    if case.status is CaseStatus.CLOSED and case.closure is not None:
        return case.closure.on
    if case.status.is_pending and case.pending_expires_at is not None:
        return case.pending_expires_at.date()
    return None


def erasable_from(closed: date, years: int) -> date:
    """The day `years` whole years after the closure: its anniversary (one closed on 29
    February is kept until 1 March, never a day short)."""
    return birthday(closed, years)


def is_due(case: Case, years: int, today: date) -> bool:
    closed = closed_on(case)
    return closed is not None and erasable_from(closed, years) <= today


def latest_closure_due(today: date, years: int) -> date:
    """The last closure day whose retention has run out by `today`: a case closed on or
    before it is due (the query's bound; `is_due` is the rule it agrees with)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # today is 29 February and that year has none
        return date(today.year - years, 2, 28)


def retention_erasure(case: Case, now: datetime) -> CaseChange:
    """The change that erases a case whose retention ran out: its tombstone (keeping why it
    closed, or `pending_lapsed`) and the erasure of what it held elsewhere."""
    closed = closed_on(case)
    assert closed is not None, "only a closed or lapsed case is erased by retention"
    reason = case.closure.reason if case.closure else ClosureReason.PENDING_LAPSED
    return erasure(case, now, kind="retention", label=RETENTION_LABEL, reason=reason, on=closed)


def erased_by_retention(case: Case) -> bool:
    """A tombstone left by retention, not by a withdrawal of consent."""
    return (
        case.status is CaseStatus.WITHDRAWN
        and case.closure is not None
        and case.closure.reason is not ClosureReason.CONSENT_WITHDRAWN
    )


class RetentionRegister(ErasingRegister, Protocol):
    def closed_cases(self, closed_by: date, limit: int) -> list[str]:
        """Ids of cases that left the register on or before `closed_by`, oldest first."""
        ...


@dataclass(frozen=True)
class RetentionRun:
    """What one run found and erased, in counts (never personal data)."""

    found: int  # listed by the index as closed long enough
    erased: int
    skipped: int  # read again: not due (reopened, erased already) or changed meanwhile
    more: bool  # the run's bound was reached: the rest are erased on the next run

    def summary(self) -> str:
        left = "; more are left for the next run" if self.more else ""
        return (
            f"{self.erased} closed cases past their retention erased (tombstones kept), "
            f"{self.skipped} skipped as changed or already erased{left}"
        )


def erase_expired_cases(
    register: RetentionRegister,
    years: int,
    clock: Callable[[], datetime],
    limit: int = MAX_ERASURES_PER_RUN,
) -> RetentionRun:
    """Erase every case whose retention has run out, at most `limit`, each on its own.

    Safe to crash and run again: each erasure is one transaction on the version read, and
    its erase effect is delivered from the outbox like a withdrawal's."""
    today = clock().date()
    found = register.closed_cases(latest_closure_due(today, years), limit + 1)
    erased = skipped = 0
    for case_id in found[:limit]:
        # The index is eventually consistent: the case is judged as it is now.
        case = register.case(case_id)
        if case is None or not is_due(case, years, today):
            skipped += 1
            continue
        now = clock()
        if record_erasure(register, case, retention_erasure(case, now), now):
            erased += 1
        else:
            skipped += 1  # changed since it was read: judged again on the next run
    return RetentionRun(len(found[:limit]), erased, skipped, len(found) > limit)
