"""Retention erasure under crashes and a child referred again meanwhile: each closed case
past its retention ends as its tombstone exactly once, its emails erased, nobody emailed, and
a rerun (the next day's reconciliation) finishes what a crash left (shared.retention)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest

from infrastructure.samples import child, email, review_pdf
from shared.case import CaseChange, CaseStatus
from shared.errors import ConcurrentChangeError
from shared.outcome import Outcome
from shared.retention import (
    RETENTION_LABEL,
    RetentionRun,
    closed_on,
    erasable_from,
    erase_expired_cases,
)
from tests.faults.invariants import check_invariants
from tests.faults.world import (
    COORDINATOR,
    WITHDRAWN_NAMES,
    Crash,
    FaultRegister,
    Withdrawn,
    World,
    referral_email,
)

YEARS = 6


@dataclass
class RetentionFaultRegister(FaultRegister):
    """FaultRegister with the retention's reads and its erasure: the ClosedByDay index (read
    from the cases themselves) and the person lookup deleted in the erasure's transaction,
    on the condition that it still names the case."""

    def closed_cases(self, closed_by: date, limit: int) -> list[str]:
        with self.faults.call("query closed cases"):
            found = []
            for case_id in self.case_items:
                case = self.case(case_id)
                day = closed_on(case) if case else None
                if day is not None and day <= closed_by:
                    found.append((day, case_id))
        return [case_id for _, case_id in sorted(found)][:limit]

    def record_change(
        self, change: CaseChange, now: datetime, forget_person_key: str | None = None
    ) -> None:
        case_id = change.case.case_id if change.case else None
        if forget_person_key:
            self.faults.at("record erasure:before", change.event_id)
            person_now = self.people.get(forget_person_key)
            if person_now is None or person_now.case_id != case_id:
                raise ConcurrentChangeError(f"person changed while recording {change.event_id}")
        try:
            super().record_change(change, now)
        finally:
            # Written with the change or not at all (one transaction): a crash after the
            # write has deleted it too.
            if forget_person_key and change.event_id in self.change_events:
                self.people.pop(forget_person_key, None)


def retention_world() -> World:
    world = World()
    world.register = RetentionFaultRegister(faults=world.faults)
    world.mailer.register = world.register
    return world


def closed_by_panel(world: World, unique_name: int, age: int = 14) -> tuple[str, dict[str, str]]:
    given, family = WITHDRAWN_NAMES[unique_name]
    identity = {**child(900 + unique_name, age=age), "child_given_name": given,
                "child_family_name": family}  # fmt: skip
    case_id = world.registered(identity)
    removal = world.submit(
        email(
            ("review.pdf", review_pdf(identity, case_id, rag_rating="",
                                      remove_from_register="/Yes",
                                      removal_reason="Risks now managed by the community team.")),
            sender=COORDINATOR,
        )
    )  # fmt: skip
    assert removal.outcome is Outcome.UPDATED, removal.reasons
    case = world.register.case(case_id)
    assert case is not None and case.status is CaseStatus.CLOSED
    return case_id, identity


def run(world: World) -> RetentionRun | None:
    """One ReconcileFunction's retention step; None when it crashed."""
    try:
        return erase_expired_cases(world.register, YEARS, world.clock)  # type: ignore[arg-type]
    except Crash as failure:
        world.failures.append(failure)
        return None


def on_the_day(world: World, case_id: str) -> None:
    case = world.register.case(case_id)
    assert case is not None and case.closure is not None
    world.now = datetime.combine(erasable_from(case.closure.on, YEARS), time(6, 0), UTC)


def retention_audits(world: World) -> Counter[str | None]:
    return Counter(e.case_id for e in world.register.audit if e.label == RETENTION_LABEL)


STEPS = [
    "query closed cases:before",
    "record erasure:before",
    "record change:before",
    "record change:after",
    "case events:before",
    "erase mail:before",
    "erase mail:after",
    "erase outbox:before",
    "erase outbox:after",
    "schedule cancel:before",
    "delete:before",
]


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_at_any_step_leaves_nothing_undone_or_done_twice(step: str) -> None:
    world = retention_world()
    closed = [closed_by_panel(world, n) for n in range(3)]
    sent_before = len(world.mailer.log)
    on_the_day(world, closed[0][0])
    # The second case's erasure crashes (the first passes each point once before it).
    passes = 0 if step.startswith("query") else 1
    world.faults.crash(step, after_passes=passes)
    run(world)
    world.pump()
    world.faults.clear()
    again = run(world)  # the next day's reconciliation (or Lambda's retry)
    assert again is not None and not again.more
    for case_id, identity in closed:
        world.withdrawn.append(Withdrawn(case_id, f"retention-{case_id}", identity))
    check_invariants(world)  # erased everywhere, outbox empty, no schedule, nothing doubled
    for case_id, _ in closed:
        case = world.register.case(case_id)
        assert case is not None and case.status is CaseStatus.WITHDRAWN, step
    assert retention_audits(world) == Counter(case_id for case_id, _ in closed), step
    assert len(world.mailer.log) == sent_before, "a retention erasure emails nobody"
    assert Crash in {type(failure) for failure in world.failures}, f"{step} never crashed"


def test_not_a_day_before_the_retention_runs_out() -> None:
    world = retention_world()
    case_id, _ = closed_by_panel(world, 3)
    on_the_day(world, case_id)
    day = world.now
    world.now = datetime.combine(day.date() - timedelta(days=1), time(23, 59, 59), UTC)
    before = run(world)
    assert before is not None and (before.found, before.erased) == (0, 0)
    world.now = datetime.combine(day.date(), time(0, 0, 1), UTC)
    after = run(world)
    assert after is not None and after.erased == 1


def test_a_child_referred_again_while_their_old_case_is_erased_keeps_the_new_one() -> None:
    world = retention_world()
    case_id, identity = closed_by_panel(world, 4, age=5)  # still eligible six years on
    on_the_day(world, case_id)
    world.faults.between("record erasure:before", lambda: world.submit(referral_email(identity)))
    first = run(world)
    assert first is not None and (first.erased, first.skipped) == (0, 1)
    second = run(world)
    assert second is not None and second.erased == 1
    world.withdrawn.append(Withdrawn(case_id, f"retention-{case_id}"))  # the child is back
    check_invariants(world)
    current = world.case_of(identity)
    assert current is not None and current.case_id != case_id and current.status.is_open
    old = world.register.case(case_id)
    assert old is not None and old.status is CaseStatus.WITHDRAWN
