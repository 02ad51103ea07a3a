"""The intake under crashes, redelivery and races: one outcome per email and per child, no
second case, a lost race decided again (never recorded stale)."""

from __future__ import annotations

import pytest

from shared.case import EmailPurpose
from shared.intake_service import IntakeResult
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

ONE_CHILD_STEPS = ["read mail:before", "read mail:after", "record email:before",
                   "record email:after"]  # fmt: skip
TWO_CHILDREN_STEPS = [
    "read mail:before",
    "read mail:after",
    "record part 1:before",
    "record part 1:after",
    "record part 2:before",
    "record part 2:after",
    "record email:before",
    "record email:after",
]


def answers_to_referrer(world: World) -> list[str]:
    """Each answer's subject and body (a secure address's subject is `Re: <theirs>`: the
    case reference is in the body)."""
    return [f"{email.subject}\n{email.body}" for email in world.sent() if REFERRER in email.to]


@pytest.mark.parametrize("step", ONE_CHILD_STEPS)
def test_a_crash_at_any_step_of_one_childs_email_then_redelivery(step: str) -> None:
    """Fault: the IntakeFunction dies at `step`; SQS delivers the email again.
    Promise: one outcome, one case, one acknowledgement."""
    world = World()
    child = person(910)
    message_id = world.receive(referral_email(child))
    world.faults.crash(step)
    assert world.process(message_id) is None and step in world.faults.fired
    world.pump()
    result = world.process(message_id)
    assert result is not None and result.submission.outcome is Outcome.ACCEPTED
    assert result.redelivered is (step == "record email:after")
    check_invariants(world)
    assert [case.status.value for case in world.register.cases()] == ["active"]
    assert len(answers_to_referrer(world)) == 1


@pytest.mark.parametrize("step", TWO_CHILDREN_STEPS)
def test_a_crash_at_any_step_of_a_two_children_email_then_redelivery(step: str) -> None:
    """Fault: the IntakeFunction dies at `step` of an email with two children's forms (the
    effects of a part already recorded are delivered meanwhile); SQS delivers it again.
    Promise: one outcome per child and one for the email, summarised from the parts as
    recorded - never `duplicate` because the first child now looks already registered - and
    one case and one acknowledgement per child."""
    world = World()
    first, second = person(911), person(912)
    message_id = world.receive(referral_email(first, second))
    world.faults.crash(step)
    assert world.process(message_id) is None and step in world.faults.fired
    world.pump()
    result = world.process(message_id)
    assert result is not None
    check_invariants(world)
    submission = world.register.submission(message_id)
    assert submission is not None and submission.outcome is Outcome.ACCEPTED
    parts = [world.register.submission(part) for part in submission.parts]
    assert [part.outcome if part else None for part in parts] == [Outcome.ACCEPTED] * 2
    cases = {part.case_id for part in parts if part}
    assert len(cases) == 2 and len(world.register.cases()) == 2
    assert all(world.case_of(child) is not None for child in (first, second))
    # One acknowledgement per child, no "already on the register" answer to the referrer.
    answers = answers_to_referrer(world)
    assert len(answers) == 2 and all(str(case) in " ".join(answers) for case in cases)


@pytest.mark.parametrize("step", TWO_CHILDREN_STEPS[2:])
def test_two_deliveries_of_the_same_email_at_once(step: str) -> None:
    """Fault: SQS hands the same email to two invocations at once; the second runs entirely
    between the first's decision and its write at `step`.
    Promise: the first finds the outcome recorded and keeps it: one outcome per email and
    per child, one case and one acknowledgement per child."""
    world = World()
    first, second = person(913), person(914)
    message_id = world.receive(referral_email(first, second))
    other: list[object] = []
    world.faults.between(step, lambda: other.append(world.process(message_id)))
    result = world.process(message_id)
    assert other and isinstance(other[0], IntakeResult), world.failures
    assert result is not None
    # Whichever wrote the email's outcome second found it recorded and kept it.
    assert result.redelivered is (step != "record email:after")
    assert other[0].redelivered is (step == "record email:after")
    check_invariants(world)
    assert len(world.register.cases()) == 2
    assert len(answers_to_referrer(world)) == 2


def test_two_emails_for_the_same_child_racing_the_loser_is_decided_again() -> None:
    """Fault: a referral and, from another sender, the consent for the same new child are
    processed at once; the consent is decided and recorded between the referral's read of
    the register and its write.
    Promise: the referral's stale decision (a second new case) is refused and decided again
    on the fresh state: it completes the consent's waiting case - one case, active."""
    world = World()
    child = person(915)
    referral = world.receive(referral_email(child, consent=False))
    consent = world.receive(referral_email(child, sender="gp.surgery@nhs.net", consent=True))
    world.faults.between(f"record email:before@{referral}", lambda: world.process(consent))
    result = world.process(referral)
    assert result is not None and not result.redelivered
    assert result.submission.outcome is Outcome.DUPLICATE  # the consent email held both forms
    check_invariants(world)
    assert len(world.register.cases()) == 1


def test_a_referral_and_a_consent_racing_complete_one_case() -> None:
    """Fault: a referral alone and a consent alone for the same new child race; the consent
    is recorded between the referral's read and its write.
    Promise: the referral is decided again and completes the consent's waiting case (updated),
    never opening a second case."""
    world = World()
    child = person(916)
    referral = world.receive(referral_email(child, consent=False))
    consent_only = world.receive(_consent_only(child))
    world.faults.between(f"record email:before@{referral}", lambda: world.process(consent_only))
    result = world.process(referral)
    assert result is not None and result.submission.outcome is Outcome.UPDATED
    check_invariants(world)
    [case] = world.register.cases()
    assert case.status.value == "active" and world.case_of(child) == case


def _consent_only(child: dict[str, str]) -> bytes:
    from infrastructure.samples import consent_pdf, email

    return email(("consent.pdf", consent_pdf(**child)), sender="gp.surgery@nhs.net")


def test_a_repeat_referral_decided_against_a_case_withdrawn_meanwhile_becomes_a_new_case() -> None:
    """Fault: a second referral for a registered child is decided "already on the register";
    before it is written, a withdrawal closes (and erases) that case.
    Promise: the stale "already on the register" is refused (the case's version changed) and
    decided again: a new case, its referrer acknowledged; the withdrawn case stays erased."""
    world = World()
    child = person(917, unique_name=0)
    old_case = world.registered(child)
    referral = world.receive(referral_email(child, sender="school.nurse@nhs.net"))
    withdrawal = world.receive(withdrawal_email(child, old_case))

    def withdraw() -> None:
        assert world.process(withdrawal) is not None
        world.pump()

    world.faults.between(f"record email:before@{referral}", withdraw)
    result = world.process(referral)
    assert result is not None
    assert result.submission.outcome is Outcome.ACCEPTED, result.submission.reasons
    assert result.submission.case_id != old_case
    world.withdrawn.append(Withdrawn(old_case, withdrawal))  # the child is back: not searched
    check_invariants(world)
    assert "school.nurse@nhs.net" in {a for e in world.sent() for a in e.to}
    old = world.register.case(old_case)
    assert old is not None and old.status.value == "withdrawn"


@pytest.mark.parametrize("race", [False, True])
def test_a_second_copy_of_an_already_registered_email_is_a_silent_duplicate(race: bool) -> None:
    """Fault: SES stores the same email (same sender and Message-ID) twice under two SES ids
    - one after the other, or the copy recorded between the first's read and write.
    Promise: the email about a child already on the register is answered once; the other
    copy is a silent `duplicate` (no effects)."""
    world = World()
    child = person(918)
    world.registered(child)
    repeat = referral_email(child, sender="school.nurse@nhs.net", message_id="<repeat@nhs.net>")
    first, copy = world.receive(repeat), world.receive(repeat)
    if race:
        world.faults.between(f"record email:before@{first}", lambda: world.process(copy))
        assert world.process(first) is not None
    else:
        assert world.process(first) is not None
        assert world.process(copy) is not None
    check_invariants(world)
    outcomes = [world.register.submission(m) for m in (first, copy)]
    assert [s.outcome if s else None for s in outcomes] == [Outcome.DUPLICATE] * 2
    assert sorted(bool(s.effects) for s in outcomes if s) == [False, True]
    answered = [e for e in world.sent() if "school.nurse@nhs.net" in e.to]
    assert len(answered) == 1
    notified = world.sent(EmailPurpose.COORDINATOR_NOTIFICATION.value)
    assert len([e for e in notified if "repeat referral" in e.subject + e.body]) <= 2
