"""Reminders, the panel pack, the sweeper and the reconciliation under late, repeated and
failed invocations: every open case ends with one schedule at its next checkpoint, a closed
or withdrawn case with none; one panel pack a day; nothing waits where nobody looks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infrastructure.samples import child, uk, years_ago
from shared.case import EmailEffect, EmailPurpose, ScheduleEffect
from shared.effects import SENDING_LEASE
from shared.reminders import REMINDER_TIME
from shared.schedules import due_schedule, reconcile
from shared.working_days import next_working_day
from tests.faults.invariants import check_invariants
from tests.faults.world import LEAD, REFERRER, Crash, World, person, referral_email


def reminders(world: World, kind: str) -> list[str]:
    return [e.subject for e in world.sent(EmailPurpose.REMINDER.value) if kind in e.subject]


def review_due_day(world: World, case_id: str) -> timedelta:
    """How far to move the world's clock to just past the review's reminder: the morning of
    its (working) day, whatever the time of day the tests run (an hour past midnight is
    before it)."""
    case = world.register.case(case_id)
    assert case is not None and case.next_review_on is not None
    reminder = datetime.combine(next_working_day(case.next_review_on), REMINDER_TIME, UTC)
    return reminder - world.now + timedelta(hours=1)


def test_a_stale_schedule_effect_delivered_late_never_moves_the_schedule_back() -> None:
    """Fault: a new case's schedule effect is delivered only after the case's review fell
    due and its reminder moved the schedule on (the stream stalled).
    Promise: the late effect sets the schedule from the case as it is now: still at the
    next checkpoint (the overdue escalation), not back at the review date."""
    world = World()
    identity = person(940)
    message_id = world.receive(referral_email(identity))
    assert world.process(message_id) is not None
    late = [i for i in world.register.stream
            if isinstance(world.register.ledger[i].effect, ScheduleEffect)]  # fmt: skip
    world.register.stream = [i for i in world.register.stream if i not in late]
    world.pump()
    case = world.case_of(identity)
    assert case is not None and case.case_id not in world.scheduler.schedules
    world.advance(review_due_day(world, case.case_id))
    assert "review_due" in (world.fire(case.case_id) or "")
    world.pump()
    moved = world.scheduler.schedules[case.case_id]
    assert world.deliver(late[0]) == "schedule:set"
    assert world.scheduler.schedules[case.case_id] == moved > world.now
    check_invariants(world)


def test_a_firing_with_nothing_due_and_a_repeated_firing_only_set_the_schedule() -> None:
    """Fault: the schedule fires when nothing is due (it was stale), its schedule having been
    lost; then the review-due firing is delivered twice (Scheduler is at least once).
    Promise: nothing is sent for the empty firing and the schedule is restored; the review
    reminder is sent once; the schedule ends at the next checkpoint."""
    world = World()
    case_id = world.registered(person(941))
    world.scheduler.schedules.clear()
    assert world.fire(case_id) == "nothing due"
    assert not world.sent(EmailPurpose.REMINDER.value)
    case = world.register.case(case_id)
    assert world.scheduler.schedules[case_id] == due_schedule(case, world.settings, world.now)
    world.advance(review_due_day(world, case_id))
    assert "review_due" in (world.fire(case_id) or "")
    assert world.fire(case_id) == "nothing due"
    world.pump()
    check_invariants(world)
    assert len(reminders(world, "review due")) == 1


def test_a_firing_after_an_outage_of_several_grace_periods_sends_one_overdue_email() -> None:
    """Fault: the reminders were down for four grace periods past a review's due date.
    Promise: the firing sends one review-due and one overdue escalation (not one per missed
    period), and the schedule moves to the next escalation after now."""
    world = World()
    case_id = world.registered(person(942))
    grace = timedelta(days=world.settings.review_grace_days)
    world.advance(review_due_day(world, case_id) + grace * 4)
    done = world.fire(case_id)
    assert done is not None and "review_overdue" in done
    world.pump()
    check_invariants(world)
    assert len(reminders(world, "OVERDUE")) == 1
    assert len(reminders(world, "review due")) == 1
    assert all(LEAD in e.to for e in world.sent(EmailPurpose.REMINDER.value))
    assert world.scheduler.schedules[case_id] > world.now


@pytest.mark.parametrize(
    "step",
    ["record change:before", "record change:after", "schedule set:before", "schedule set:after"],
)
def test_the_reminder_function_failing_after_recording_is_retried(step: str) -> None:
    """Fault: the ReminderFunction dies at `step` of a review-due firing; Lambda retries
    the asynchronous invocation.
    Promise: the reminder is recorded and sent once, and the case ends with its schedule at
    the next checkpoint."""
    world = World()
    case_id = world.registered(person(943))
    world.advance(review_due_day(world, case_id))
    world.faults.crash(f"{step}@{case_id}" if "schedule" in step else step)
    assert world.fire(case_id) is None
    again = world.fire(case_id)
    assert again is not None
    assert (
        again == "nothing due"
        if step.endswith("after") or "schedule" in step
        else "review_due" in again
    )
    world.pump()
    check_invariants(world)
    assert len(reminders(world, "review due")) == 1


def test_a_case_closed_at_18_and_a_withdrawn_case_keep_no_schedule() -> None:
    """Fault: a closed case's old schedule fires late, and a withdrawn case's fires too
    (left by an erasure that crashed before cancelling, then retried).
    Promise: each firing ends with the case having no schedule; open cases keep theirs."""
    world = World()
    turning = child(936) | {"child_date_of_birth": uk(years_ago(18, days=-10))}
    closing = world.registered(turning)
    staying = world.registered(person(937))
    withdrawn_child = person(946, unique_name=6)
    withdrawn = world.registered(withdrawn_child)
    world.withdraw(withdrawn_child, withdrawn)
    world.advance(timedelta(days=11))
    world.fire_due()
    closed = world.register.case(closing)
    assert closed is not None and closed.status.value == "closed"
    stale = world.now - timedelta(hours=1)
    world.scheduler.schedules |= {closing: stale, withdrawn: stale}
    world.fire_due()
    check_invariants(world)
    assert set(world.scheduler.schedules) == {staying}


def test_the_panel_pack_fired_twice_and_crashed_after_recording_is_sent_once() -> None:
    """Fault: the DigestFunction dies right after recording the day's pack; Lambda retries
    it, and Scheduler fires it once more the same day.
    Promise: one panel pack to each of its recipients."""
    world = World()
    world.registered(person(947))
    world.faults.crash("record change:after")
    with pytest.raises(Crash):
        world.digest()
    assert world.digest() is False
    assert world.digest() is False
    world.pump()
    check_invariants(world)
    packs = world.sent(EmailPurpose.PANEL_PACK.value)
    recipients = [address for pack in packs for address in pack.to]
    assert packs and len(recipients) == len(set(recipients))


def test_the_sweeper_delivers_what_exhausted_stream_retries_left() -> None:
    """Fault: SES throttles every stream retry of a new case's emails; one schedule call
    fails too.
    Promise: the items stay in the outbox; the sweeper, once they are older than its age,
    delivers each email once and sets the schedule; a failing item does not stop it."""
    world = World()
    message_id = world.receive(referral_email(person(948)))
    assert world.process(message_id) is not None
    world.mailer.refuse = 9
    world.scheduler.fail = 3
    left = world.pump()
    items = len(world.register.items)
    assert len(left) == items == 3  # the coordinators' notice, the acknowledgement, the schedule
    assert world.sweep() is not None and len(world.register.items) == items  # too young yet
    world.advance(timedelta(minutes=world.settings.outbox_sweep_after_minutes + 1))
    world.mailer.refuse, world.scheduler.fail = 0, 1
    sweep = world.sweep()
    assert sweep is not None and (sweep.found, sweep.done, sweep.failed) == (3, 2, 1)
    assert sweep.oldest_age_seconds > 0
    sweep = world.sweep()
    assert sweep is not None and (sweep.found, sweep.done, sweep.oldest_age_seconds) == (1, 1, 0)
    check_invariants(world, settle=False)
    check_invariants(world)


def test_the_sweeper_leaves_an_item_mid_send_alone() -> None:
    """Fault: the sweeper finds an email whose send began less than the sending lease ago
    (its delivery is still running, or lost its answer moments ago).
    Promise: it is left alone (counted as waiting), never sent a second time; after the
    lease it is reported to the coordinators once."""
    world = World()
    message_id = world.receive(referral_email(person(949)))
    assert world.process(message_id) is not None
    world.register.stream.clear()
    world.advance(timedelta(minutes=20))
    [ack] = [
        i
        for i, entry in world.register.ledger.items()
        if isinstance(entry.effect, EmailEffect) and REFERRER in entry.effect.to
    ]
    world.mailer.lose_answer = 1
    assert world.deliver(ack) is None
    sweep = world.sweep()
    assert sweep is not None and sweep.waiting == 1 and sweep.uncertain == 0
    assert ack in world.register.items
    world.advance(SENDING_LEASE + timedelta(seconds=1))
    sweep = world.sweep()
    assert sweep is not None and sweep.uncertain == 1
    check_invariants(world)
    [alert] = world.sent(EmailPurpose.SEND_UNCERTAIN.value)  # one email to the coordinators
    assert set(alert.to) == set(world.settings.coordinator_addresses)


def test_the_sweeper_running_out_of_time_leaves_the_rest_for_the_next_sweep() -> None:
    """Fault: the sweeper's invocation runs short of time after two deliveries.
    Promise: it stops before a delivery it may not finish, counts the rest as left, and the
    next sweep delivers them."""
    world = World()
    for seed in (960, 961):
        message_id = world.receive(referral_email(person(seed)))
        assert world.process(message_id) is not None
    world.register.stream.clear()
    world.advance(timedelta(minutes=30))
    clock = iter([60.0, 60.0] + [5.0] * 20)
    sweep = world.sweep(time_left=lambda: next(clock))
    assert sweep is not None and (sweep.done, sweep.left) == (2, sweep.found - 2)
    assert sweep.left > 0 and len(world.register.items) == sweep.left
    sweep = world.sweep()
    assert sweep is not None and sweep.left == 0 and not world.register.items
    check_invariants(world)


def test_reconcile_repairs_missing_stale_and_orphaned_schedules() -> None:
    """Fault: Scheduler lost one case's schedule, holds another at a wrong time, and keeps
    one for a case closed meanwhile and one for a case no longer held.
    Promise: the reconciliation reports each count and repairs them all; a second run finds
    every schedule right."""
    world = World()
    right, missing, stale = (world.registered(person(seed)) for seed in (964, 966, 969))
    closed_child = person(970, unique_name=7)
    closed = world.registered(closed_child)
    world.withdraw(closed_child, closed)
    world.scheduler.schedules.pop(missing)
    world.scheduler.schedules[stale] = world.now - timedelta(days=3)
    world.scheduler.schedules[closed] = world.now + timedelta(days=3)
    world.scheduler.schedules["DSR-GONE2345"] = world.now + timedelta(days=9)
    found = reconcile(world.register.cases(), world.scheduler, world.settings, world.now)
    assert (found.open_cases, found.correct, found.missing, found.stale, found.orphaned) == (
        3, 1, 1, 1, 2,
    )  # fmt: skip
    check_invariants(world, settle=False)
    again = reconcile(world.register.cases(), world.scheduler, world.settings, world.now)
    assert (again.correct, again.repaired) == (3, 0)
    assert right in world.scheduler.schedules
    check_invariants(world)


def test_a_panel_pack_left_undelivered_is_not_sent_after_a_childs_erasure() -> None:
    """Fault: the day's panel pack is recorded, the stream fails its records; the child's
    consent is withdrawn and erased before the sweeper delivers the pack.
    Promise: nothing of the withdrawn child is sent after the erasure, nor held."""
    world = World()
    identity = person(980, unique_name=0)
    case_id = world.registered(identity)
    assert world.digest()
    world.register.stream.clear()
    world.withdraw(identity, case_id)
    check_invariants(world)
