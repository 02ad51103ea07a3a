"""Delivering the outbox under crashes, lost answers, refusals, redelivery, concurrent
deliveries and stream records out of order: each email sent at most once (exactly once, or
the coordinators told once), nothing of a withdrawn child sent or kept after the erasure."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.case import EmailEffect, EmailPurpose, EraseEffect, ScheduleEffect
from shared.effects import SENDING_LEASE
from shared.outcome import Outcome
from tests.faults.invariants import check_invariants
from tests.faults.world import (
    REFERRER,
    Withdrawn,
    World,
    person,
    referral_email,
    withdrawal_email,
)


def accepted_undelivered(world: World, seed: int) -> tuple[str, dict[str, str]]:
    """A child accepted, its effects recorded but not yet delivered; returns the message id."""
    identity = person(seed)
    message_id = world.receive(referral_email(identity))
    assert world.process(message_id) is not None
    world.register.stream.clear()  # the stream records are handed over by each scenario
    return message_id, identity


def items_of(world: World, event_id: str, kind: type) -> list[str]:
    return [
        outbox_id
        for outbox_id, entry in world.register.ledger.items()
        if outbox_id.startswith(f"OUTBOX#{event_id}|") and isinstance(entry.effect, kind)
    ]


def alerts_about(world: World, outbox_id: str) -> list[EmailEffect]:
    return [e for e in world.sent(EmailPurpose.SEND_UNCERTAIN.value) if outbox_id in e.body]


# (step, the acknowledgement went out, its outcome unknown to the register)
EMAIL_STEPS = [
    ("read outbox item:before", True, False),
    ("read outbox item:after", True, False),
    ("mark:before", True, False),
    ("mark:after", False, True),
    ("send:before", False, True),
    ("send:after", True, True),
    ("delete:before", True, True),
    ("delete:after", True, False),
]


@pytest.mark.parametrize(("step", "sent", "unknown"), EMAIL_STEPS)
def test_a_crash_at_any_step_of_sending_an_email(step: str, sent: bool, unknown: bool) -> None:
    """Fault: the EffectsFunction dies at `step` of delivering the referrer's
    acknowledgement; the stream delivers the record again at once, the sweeper later.
    Promise: sent at most once - exactly once when the register knows it went, else never
    blind again, and the coordinators told once, in one email, that it may not have been sent."""
    world = World()
    message_id, _ = accepted_undelivered(world, 920)
    [ack] = [
        i
        for i in items_of(world, message_id, EmailEffect)
        if REFERRER in world.register.ledger[i].effect.to  # type: ignore[union-attr]
    ]
    world.faults.crash(f"{step}@{ack}")
    assert world.deliver(ack) is None
    again = world.deliver(ack)  # the stream's retry, within the sending lease
    assert again is not None
    if unknown:
        assert again == "skipped:being sent by another delivery"
    check_invariants(world)
    assert len([e for e in world.sent() if REFERRER in e.to]) == (1 if sent else 0)
    alerts = alerts_about(world, ack)
    assert [a.to for a in alerts] == ([world.settings.coordinator_addresses] if unknown else [])


@pytest.mark.parametrize("step", ["read outbox item", "schedule set", "delete"])
@pytest.mark.parametrize("when", ["before", "after"])
def test_a_crash_at_any_step_of_setting_a_schedule(step: str, when: str) -> None:
    """Fault: the EffectsFunction dies before or after each call of delivering a new case's
    schedule effect; the item is delivered again.
    Promise: the case ends with its one schedule at its next checkpoint."""
    world = World()
    message_id, identity = accepted_undelivered(world, 921)
    [schedule] = items_of(world, message_id, ScheduleEffect)
    world.faults.crash(f"{step}:{when}@{schedule}")
    if step == "schedule set":
        case = world.case_of(identity)
        assert case is not None
        world.faults.crash(f"{step}:{when}@{case.case_id}")
        world.faults.crashes.pop(f"{step}:{when}@{schedule}")
    assert world.deliver(schedule) is None
    assert world.deliver(schedule) is not None
    check_invariants(world)
    assert len(world.scheduler.schedules) == 1


ERASE_STEPS = [
    "read outbox item",
    "schedule cancel",
    "unrecorded emails",
    "case events",
    "erase mail",
    "erase outbox",
    "delete",
]


@pytest.mark.parametrize("step", ERASE_STEPS)
@pytest.mark.parametrize("when", ["before", "after"])
def test_a_crash_at_any_step_of_an_erasure(step: str, when: str) -> None:
    """Fault: the EffectsFunction dies before or after each call of a withdrawal's erasure
    (the case's earlier emails still undelivered); the erase item is delivered again.
    Promise: the erasure completes: nothing of the child is sent after it or held anywhere,
    the case has no schedule, and the withdrawal's own answers go out once."""
    world = World()
    identity = person(922, unique_name=1)
    referral = world.receive(referral_email(identity))
    accepted = world.process(referral)
    assert accepted is not None and accepted.submission.case_id is not None
    case_id = accepted.submission.case_id
    withdrawal = world.receive(withdrawal_email(identity, case_id))
    assert world.process(withdrawal) is not None
    world.withdrawn.append(Withdrawn(case_id, withdrawal, identity))
    [erase] = items_of(world, withdrawal, EraseEffect)
    subject = erase if step in ("read outbox item", "delete") else case_id
    world.faults.crash(f"{step}:{when}@{subject}")
    assert world.deliver(erase) is None
    assert world.deliver(erase) is not None
    world.pump()  # the stream's records of the acceptance and the withdrawal, late
    check_invariants(world)
    assert not [e for e in world.sent() if REFERRER in e.to]
    own = [world.register.ledger[i] for i in items_of(world, withdrawal, EmailEffect)]
    assert own and all(item.fate == "delivered" for item in own)
    assert len(world.sent()) == len(own)


def test_lost_answers_and_refusals_of_the_mail_service() -> None:
    """Fault: SES refuses one send (throttled: not sent) and loses the answer of another
    (sent, but the call timed out); the stream retries each record at once.
    Promise: the refused email is sent on the retry, once; the one whose answer was lost is
    never sent again, and the coordinators are told once (one email) after the sending lease."""
    world = World()
    message_id, _ = accepted_undelivered(world, 923)
    emails = items_of(world, message_id, EmailEffect)
    world.mailer.refuse, world.mailer.lose_answer = 1, 1
    for outbox_id in emails:
        world.deliver(outbox_id)
    for outbox_id in emails:
        world.deliver(outbox_id)
    check_invariants(world)
    uncertain = [i for i in emails if world.register.ledger[i].fate == "alerted"]
    assert len(uncertain) == 1
    [alert] = alerts_about(world, uncertain[0])
    assert set(alert.to) == set(world.settings.coordinator_addresses)
    assert len(world.sent()) == len(emails) + 1  # every email once (one unconfirmed) + the alert


def test_a_crash_after_sending_an_uncertain_alert_is_not_alerted_again() -> None:
    """Fault: an acknowledgement's answer is lost; then the send of one of the alerts about
    it loses its answer too.
    Promise: no alert about an alert (that would never end; the metric is alarmed): every
    email still sent at most once, nothing left in the outbox."""
    world = World()
    message_id, _ = accepted_undelivered(world, 924)
    world.mailer.lose_answer = 1
    first = items_of(world, message_id, EmailEffect)[0]
    world.deliver(first)
    world.advance(SENDING_LEASE + timedelta(seconds=1))
    assert world.deliver(first) == "uncertain:coordinators told"
    alerts = [i for i in world.register.stream if "~alert" in i]
    world.mailer.lose_answer = 1
    world.deliver(alerts[0])
    world.advance(SENDING_LEASE + timedelta(seconds=1))
    assert world.deliver(alerts[0]) == "uncertain:alert dropped"
    check_invariants(world)


@pytest.mark.parametrize("times", [2, 5])
def test_the_same_outbox_item_delivered_any_number_of_times(times: int) -> None:
    """Fault: the stream hands every record over `times` times (retries after a batch
    failure, a replayed shard).
    Promise: each email sent once, the schedule set once."""
    world = World()
    message_id, _ = accepted_undelivered(world, 925 + times)
    records = [i for i in world.register.ledger if i.startswith(f"OUTBOX#{message_id}|")]
    for _ in range(times):
        for outbox_id in records:
            assert world.deliver(outbox_id) is not None
    check_invariants(world)
    assert len(world.sent()) == len(items_of(world, message_id, EmailEffect))


@pytest.mark.parametrize(
    "step", ["read outbox item:after", "mark:before", "mark:after", "send:after", "delete:before"]
)
def test_the_stream_and_the_sweeper_deliver_the_same_item_at_once(step: str) -> None:
    """Fault: the sweeper runs while the stream's delivery of the acknowledgement is at
    `step` (the stream was slow: the item is older than the sweep age).
    Promise: the email is sent once; the one that finds it taken or being sent leaves it."""
    world = World()
    message_id, _ = accepted_undelivered(world, 930)
    world.advance(timedelta(minutes=20))
    [ack] = [
        i
        for i in items_of(world, message_id, EmailEffect)
        if REFERRER in world.register.ledger[i].effect.to  # type: ignore[union-attr]
    ]
    sweeps: list[object] = []
    world.faults.between(f"{step}@{ack}", lambda: sweeps.append(world.sweep()))
    assert world.deliver(ack) is not None
    assert sweeps and sweeps[0] is not None
    check_invariants(world)
    assert len([e for e in world.sent() if REFERRER in e.to]) == 1
    assert not world.sent(EmailPurpose.SEND_UNCERTAIN.value)


def test_stream_records_out_of_order_an_earlier_email_after_the_erasure() -> None:
    """Fault: the stream's shards deliver out of order: a withdrawal's erase item first,
    then the records of the child's earlier emails (their acceptance, a new consent).
    Promise: the late records find their items erased and send nothing; nothing of the child
    is sent after the erasure or held anywhere; the withdrawal's answers go out once."""
    world = World()
    identity = person(931, unique_name=2)
    referral = world.receive(referral_email(identity))
    accepted = world.process(referral)
    assert accepted is not None and accepted.submission.case_id
    case_id = accepted.submission.case_id
    withdrawal = world.receive(withdrawal_email(identity, case_id))
    assert world.process(withdrawal) is not None
    world.withdrawn.append(Withdrawn(case_id, withdrawal, identity))
    records = list(world.register.stream)
    world.register.stream.clear()
    late = [i for i in records if i.startswith(f"OUTBOX#{referral}|")]
    for outbox_id in [i for i in records if i not in late] + late:
        world.deliver(outbox_id)
    assert all(world.register.ledger[i].fate == "erased" for i in late)
    check_invariants(world)
    assert not [e for e in world.sent() if REFERRER in e.to]


def test_a_late_schedule_item_never_recreates_an_erased_cases_schedule() -> None:
    """Fault: a case's schedule effect (from a reminder recorded before the withdrawal) is
    read by a delivery that stalls; the withdrawal and its erasure run meanwhile; the stalled
    delivery then carries on, and the stream hands the record over again later.
    Promise: the schedule is set from the case as it is now: a withdrawn case has none."""
    world = World()
    identity = person(932, unique_name=3)
    case_id = world.registered(identity)
    world.advance(timedelta(days=30))
    assert world.fire(case_id) is not None  # review due: recorded, with a schedule effect
    [schedule] = [
        i for i in world.register.stream if isinstance(world.register.ledger[i].effect,
                                                       ScheduleEffect)
    ]  # fmt: skip
    world.register.stream.clear()

    def withdraw() -> None:
        world.withdraw(identity, case_id)

    world.faults.between(f"read outbox item:after@{schedule}", withdraw)
    assert world.deliver(schedule) == "schedule:none"
    assert world.deliver(schedule) == "skipped:already delivered or erased"
    check_invariants(world)
    assert world.scheduler.schedules == {}


def test_a_schedule_set_racing_an_erasure_is_deleted() -> None:
    """Fault: a schedule delivery reads the case, then the withdrawal is recorded and its
    erasure cancels the schedule, all before the stalled delivery's call to Scheduler lands.
    Promise: the withdrawn case is left with no schedule (the delivery notices the case
    changed under it and sets the schedule again from the case as it is now)."""
    world = World()
    identity = person(933, unique_name=4)
    case_id = world.registered(identity)
    world.advance(timedelta(days=30))
    assert world.fire(case_id) is not None
    [schedule] = [
        i for i in world.register.stream if isinstance(world.register.ledger[i].effect,
                                                       ScheduleEffect)
    ]  # fmt: skip
    world.register.stream.clear()
    world.faults.between(
        f"schedule set:before@{case_id}", lambda: world.withdraw(identity, case_id)
    )
    assert world.deliver(schedule) is not None
    check_invariants(world)
    assert world.scheduler.schedules == {}


def test_an_erasure_waits_for_an_email_still_without_its_outcome() -> None:
    """Fault: an email with two children's forms crashes between its parts; the first
    child's consent is withdrawn before SQS delivers the email again.
    Promise: the erasure waits (the raw email is kept) until the email has its outcome, then
    completes; the second child's case is untouched; nothing of the first child is left."""
    world = World()
    first, second = person(934, unique_name=5), person(935)
    message_id = world.receive(referral_email(first, second))
    world.faults.crash("record part 2:before")
    assert world.process(message_id) is None
    world.pump()
    case = world.case_of(first)
    assert case is not None
    world.withdraw(first, case.case_id)
    [erase] = [i for i in world.register.items if isinstance(world.register.ledger[i].effect,
                                                              EraseEffect)]  # fmt: skip
    assert world.deliver(erase) == "erase:waiting"
    assert f"inbound/{message_id}" in world.store.objects
    result = world.process(message_id)
    assert result is not None and result.submission.outcome is Outcome.ACCEPTED
    world.advance(timedelta(minutes=20))
    sweep = world.sweep()
    assert sweep is not None and sweep.done >= 1
    check_invariants(world)
    assert f"inbound/{message_id}" not in world.store.objects
    kept = world.case_of(second)
    assert kept is not None and kept.status.value == "active"
