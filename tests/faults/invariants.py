"""The promises of issue #10, checked over a whole `World` after a scenario.

`check_invariants(world)` first lets the world settle (no more faults; the stream, the
sweeper after the sending lease and the schedules falling due run until nothing is left),
then checks, and reports every broken promise at once:

- one outcome per email and per child; an email of several children summarised from its
  parts as recorded;
- no person with a second open case;
- every outbox email sent at most once, exactly once unless its outcome was unknown, and
  then each coordinator told exactly once that it may not have been sent;
- nothing of a withdrawn child sent after the erasure, nor held anywhere (register, raw mail
  bucket, Scheduler);
- every open case with exactly one schedule, at `due_schedule(case)`, no other schedule;
- no outbox item left that another delivery or sweep cannot clear.
"""

from __future__ import annotations

import io
from collections import Counter
from email import message_from_bytes
from email.policy import default

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from shared.case import EmailEffect, EmailPurpose, PanelPackEffect
from shared.errors import ConcurrentChangeError, MailNotSentError
from shared.intake import summary_outcome
from shared.schedules import TOLERANCE, due_schedule
from tests.end_to_end.personal_data import forms_of
from tests.faults.world import Crash, World
from tests.outbox_fakes import LostAnswerError

IDENTITY_FIELDS = ("child_given_name", "child_family_name", "child_date_of_birth",
                   "child_nhs_number")  # fmt: skip


def identifiers(identity: dict[str, str]) -> set[str]:
    """Every way the child's name, date of birth and NHS number could be written down."""
    values: set[str] = set()
    for name in IDENTITY_FIELDS:
        values |= forms_of(identity[name])
    return {value for value in values if len(value) >= 4}


def found(identity: dict[str, str], text: str) -> set[str]:
    lowered = text.lower()
    return {value for value in identifiers(identity) if value.lower() in lowered}


def readable_text(raw: bytes) -> str:
    """What a person could read in a stored email: its MIME, each decoded part and the
    fields and text of every PDF in it."""
    texts = [raw.decode("utf-8", "replace")]
    for part in message_from_bytes(raw, policy=default).walk():
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        texts.append(payload.decode("utf-8", "replace"))
        if payload.startswith(b"%PDF"):
            try:
                reader = PdfReader(io.BytesIO(payload))
                texts += [
                    str(field.get("/V", "")) for field in (reader.get_fields() or {}).values()
                ]
            except PyPdfError:
                continue
    return "\n".join(texts)


def email_text(email: EmailEffect) -> str:
    return "\n".join(
        [*email.to, email.subject, email.body, *(file.text for file in email.attachments)]
    )


# ----- each promise -----
def outcome_problems(world: World) -> list[str]:
    register = world.register
    problems = []
    audited = Counter(entry.event_id for entry in register.audit if entry.outcome is not None)
    expected_parts: set[str] = set()
    for message_id in world.received:
        submission = register.submission(message_id)
        if submission is None:
            problems.append(f"email {message_id} has no recorded outcome")
            continue
        if audited[message_id] != 1:
            problems.append(f"email {message_id} recorded {audited[message_id]} times")
        outcomes = []
        for part_id in submission.parts:
            expected_parts.add(part_id)
            part = register.submission(part_id)
            if part is None:
                problems.append(f"child {part_id} of an email has no recorded outcome")
                continue
            if audited[part_id] != 1:
                problems.append(f"child {part_id} recorded {audited[part_id]} times")
            outcomes.append(part.outcome)
        if outcomes and submission.outcome is not summary_outcome(outcomes):
            problems.append(
                f"email {message_id} recorded {submission.outcome.value}, its children as "
                f"recorded {[outcome.value for outcome in outcomes]}"
            )
    stray = set(register.submissions) - set(world.received) - expected_parts
    if stray:
        problems.append(f"outcomes recorded for no email received: {sorted(stray)}")
    return problems


def person_problems(world: World) -> list[str]:
    register = world.register
    open_cases = Counter(
        case.person_key for case in register.cases() if case.status.is_open and case.person_key
    )
    return [f"a person has {count} open cases" for person, count in open_cases.items() if count > 1]


def email_problems(world: World) -> list[str]:
    register, mailer = world.register, world.mailer
    problems = [
        f"sent with no outbox item marked: {email.subject!r}" for email in mailer.unattributed
    ]
    sends = Counter(entry.outbox_id for entry in mailer.log)
    for outbox_id, entry in register.ledger.items():
        if isinstance(entry.effect, PanelPackEffect):
            recipients = Counter(
                sent.email.to for sent in mailer.log if sent.outbox_id == outbox_id
            )
            if any(count > 1 for count in recipients.values()):
                problems.append(f"{outbox_id} (panel pack) sent twice to {recipients}")
            if entry.fate == "delivered" and not recipients:
                problems.append(f"{outbox_id} (panel pack) deleted, never sent")
            continue
        if not isinstance(entry.effect, EmailEffect):
            continue
        count = sends[outbox_id]
        if count > 1:
            problems.append(f"{outbox_id} ({entry.effect.purpose.value}) sent {count} times")
        if (
            entry.fate == "delivered"
            and count == 0
            and (entry.effect.purpose is not EmailPurpose.SEND_UNCERTAIN)
        ):
            problems.append(f"{outbox_id} ({entry.effect.purpose.value}) deleted, never sent")
        if entry.fate == "alerted":
            event_id, _, effect = outbox_id.removeprefix("OUTBOX#").partition("|")
            prefix = f"OUTBOX#{event_id}~alert{effect}|"
            alerts = [
                item for item in register.ledger.values() if item.outbox_id.startswith(prefix)
            ]
            if any(item.fate == "erased" for item in alerts):
                continue  # the case was withdrawn meanwhile: the alert went with it
            told = Counter(
                address
                for item in alerts
                for _ in range(sends[item.outbox_id])
                for address in item.effect.to  # type: ignore[union-attr]
            )
            if told != Counter(world.settings.coordinator_addresses):
                problems.append(
                    f"{outbox_id} had an unknown outcome; the coordinators were told {dict(told)}"
                )
    return problems


def erasure_problems(world: World) -> list[str]:
    register = world.register
    problems = []
    raw_text = "\n".join(readable_text(raw) for raw in world.store.objects.values())
    held = register.held_text()
    for withdrawn in world.withdrawn:
        case_id, identity = withdrawn.case_id, withdrawn.identity
        if case_id not in register.erased_cases:
            problems.append(f"withdrawn case {case_id} was never erased")
        for sent in world.mailer.log:
            if case_id not in sent.after_erasures:
                continue
            item = register.ledger[sent.outbox_id]
            if item.case_id == case_id and not sent.outbox_id.startswith(f"OUTBOX#{withdrawn.by}"):
                problems.append(f"{sent.outbox_id} of erased case {case_id} sent after the erasure")
            if identity is not None and found(identity, email_text(sent.email)):
                problems.append(
                    f"sent after the erasure of {case_id}: {sent.email.purpose.value} "
                    f"naming {sorted(found(identity, email_text(sent.email)))}"
                )
        if case_id in world.scheduler.schedules:
            problems.append(f"withdrawn case {case_id} still has a schedule")
        if identity is None:
            continue
        if found(identity, held):
            problems.append(f"the register still holds {sorted(found(identity, held))}")
        if found(identity, raw_text):
            problems.append(f"the mail bucket still holds {sorted(found(identity, raw_text))}")
        person = register.people.get(world.hasher.person_key(identity["child_nhs_number"]))
        if person is not None and person.case_id == case_id:
            problems.append(f"the person lookup still names withdrawn case {case_id}")
    return problems


def schedule_problems(world: World) -> list[str]:
    register, held = world.register, world.scheduler.schedules
    problems = []
    for case_id in register.case_ids():
        case = register.case(case_id)
        due = due_schedule(case, world.settings, world.now)
        at = held.get(case_id)
        status = case.status.value if case else "gone"
        if due is None and at is not None:
            problems.append(f"{status} case {case_id} has a schedule at {at}")
        elif due is not None and (at is None or abs(at - due) > TOLERANCE):
            problems.append(f"{status} case {case_id}: schedule at {at}, due at {due}")
    orphans = set(held) - set(register.case_ids())
    if orphans:
        problems.append(f"schedules for cases not held: {sorted(orphans)}")
    return problems


def outbox_problems(world: World) -> list[str]:
    return [
        f"outbox item left undeliverable: {outbox_id} "
        f"({world.register.ledger[outbox_id].effect.kind})"
        for outbox_id in world.register.items
    ]


def failure_problems(world: World) -> list[str]:
    """Every invocation that failed was failed on purpose (a crash, a lost answer, a refusal,
    three lost races): a bug of the code under test is never passed off as a retry."""
    injected = (Crash, LostAnswerError, MailNotSentError, ConcurrentChangeError)
    return [
        f"an invocation failed unexpectedly: {failure!r}"
        for failure in world.failures
        if not isinstance(failure, injected)
    ]


def check_invariants(world: World, *, settle: bool = True) -> None:
    """Let the world settle, then check every promise; fail listing all that are broken."""
    if settle:
        world.settle()
    problems = [
        *failure_problems(world),
        *outcome_problems(world),
        *person_problems(world),
        *email_problems(world),
        *erasure_problems(world),
        *schedule_problems(world),
        *outbox_problems(world),
    ]
    assert not problems, "broken promises:\n- " + "\n- ".join(problems)
