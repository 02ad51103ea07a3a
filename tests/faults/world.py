"""An in-memory DSR Intake that can be made to fail at any step.

`World` wires the real services (IntakeService, EffectDelivery, ScheduleSync,
ReminderService, PanelPackService, sweep_outbox, reconcile) to in-memory stand-ins that keep
the DynamoDB adapter's conditions (`FaultRegister` extends tests.fakes.RecordingRegister with
`record_change` and the outbox). Every call the services make to "AWS" passes a named point,
before and after the call, where `Faults` can crash the invocation (`Crash`, which no
`except Exception` can swallow) or run another invocation in between (an interleaving).

The register also keeps a ledger of every outbox item ever written and what became of it,
and the mailer attributes every send to the outbox item that was being sent, so
tests/faults/invariants.py can check "nothing lost, nothing twice, nothing after erasure".
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from infrastructure.samples import child, consent_pdf, email, referral_pdf, withdrawal_pdf
from shared.blank_forms import BlankForm
from shared.case import (
    AuditEntry,
    Case,
    CaseChange,
    CaseStatus,
    Decision,
    Effect,
    EmailEffect,
    EmailPurpose,
    PanelPackEffect,
    RegisterReads,
    Submission,
    email_of,
)
from shared.effects import (
    EFFECT,
    MAX_ORIGINALS_BYTES,
    SENDING_LEASE,
    EffectDelivery,
    OutboxEntry,
    Sweep,
    sweep_outbox,
)
from shared.errors import AlreadyRecordedError
from shared.intake_service import IntakeResult, IntakeService
from shared.mail import Attachment, parse_mail
from shared.notices import Notices
from shared.outcome import Outcome
from shared.panel_pack import PanelPackService
from shared.reminders import ReminderService
from shared.schedules import ScheduleSync
from shared.settings import Settings
from tests.conftest import NOW, PlainHasher
from tests.fakes import MemoryMailStore, RecordingRegister, _Person
from tests.outbox_fakes import FakeMailer, MemoryScheduler

COORDINATOR = "dsr.coordinator@nhs.net"
LEAD = "dsr.lead@nhs.net"
PANEL_MEMBER = "panel.member@nhs.net"
REFERRER = "sam.patel@nhs.net"

# Two coordinators, as the local stack has them: an "uncertain" alert goes to each.
SETTINGS = Settings(
    coordinator_addresses=(COORDINATOR, LEAD),
    panel_addresses=(PANEL_MEMBER,),
    lead_address=LEAD,
    inbox_address="bromley.dsr@nhs.net",
)


class Crash(BaseException):
    """The invocation dies here (timeout, out of memory, the host lost): nothing after it
    runs. A BaseException, so no `except Exception` in the code under test can catch it."""


# ----- faults -----
@dataclass
class Faults:
    """Named points every call to "AWS" passes (`<call>:before`, `<call>:after`).

    `crash(point)` makes the next pass of that point raise `Crash`; `between(point, action)`
    runs `action` (another invocation) the next time the point is passed. Each fires once.
    A point may name its subject (`record email:before@<message id>`) to pick one email.
    """

    crashes: dict[str, int] = field(default_factory=dict)  # point -> passes to let by first
    actions: dict[str, list[Callable[[], object]]] = field(default_factory=dict)
    passed: list[str] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)

    def crash(self, point: str, *, after_passes: int = 0) -> None:
        self.crashes[point] = after_passes

    def between(self, point: str, action: Callable[[], object]) -> None:
        self.actions.setdefault(point, []).append(action)

    def clear(self) -> None:
        self.crashes.clear()
        self.actions.clear()

    def at(self, point: str, subject: str = "") -> None:
        names = [point, f"{point}@{subject}"] if subject else [point]
        self.passed.append(names[-1])
        for name in names:
            waiting = self.actions.pop(name, [])
            for action in waiting:
                self.fired.append(name)
                action()
        for name in names:
            if name not in self.crashes:
                continue
            if self.crashes[name] > 0:
                self.crashes[name] -= 1
                continue
            del self.crashes[name]
            self.fired.append(name)
            raise Crash(name)

    @contextlib.contextmanager
    def call(self, point: str, subject: str = "") -> Iterator[None]:
        self.at(f"{point}:before", subject)
        yield
        self.at(f"{point}:after", subject)


# ----- the register, with the outbox -----
@dataclass
class Ledger:
    """One outbox item ever written, and what became of it."""

    outbox_id: str
    effect: Effect
    case_id: str | None
    fate: str = "waiting"  # waiting | delivered | erased | alerted


def _point_of_record(message_id: str) -> str:
    _, dot, number = message_id.partition(".")
    return f"record part {number}" if dot else "record email"


@dataclass
class FaultRegister(RecordingRegister):
    """The register table in memory: RecordingRegister's conditions for `record`, the same
    for `record_change`, and the outbox items with their "sending" marks (tests/outbox_fakes
    MemoryOutbox's semantics), every call passing its fault points."""

    faults: Faults = field(default_factory=Faults)
    items: dict[str, dict[str, str]] = field(default_factory=dict)
    event_kinds: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # case events
    change_events: set[str] = field(default_factory=set)
    ledger: dict[str, Ledger] = field(default_factory=dict)
    stream: list[str] = field(default_factory=list)  # outbox inserts, in order
    erased_cases: list[str] = field(default_factory=list)

    # ----- recording -----
    def record(
        self,
        message_id: str,
        header_message_id: str | None,
        decision: Decision,
        now: datetime,
        reads: RegisterReads | None = None,
    ) -> Submission:
        with self.faults.call(_point_of_record(message_id), message_id):
            submission = super().record(message_id, header_message_id, decision, now, reads)
            if decision.case_id:
                self.event_kinds.setdefault(decision.case_id, []).append((message_id, "email"))
            self._add_outbox(message_id, decision.effects, decision.case_id, now)
        return submission

    def record_change(self, change: CaseChange, now: datetime) -> None:
        with self.faults.call("record change", change.event_id):
            if change.event_id in self.change_events:
                raise AlreadyRecordedError(change.event_id)
            case = change.case
            if case is not None:
                self._check_case(case, now)  # the version read; ConcurrentChangeError
            self.change_events.add(change.event_id)
            self.audit.append(
                AuditEntry(
                    at=now,
                    event_id=change.event_id,
                    outcome=None,
                    label=change.label,
                    reason_codes=(),
                    case_id=case.case_id if case else None,
                )
            )
            if case is not None:
                self.case_items[case.case_id] = (
                    case.version + 1,
                    case.model_dump_json(exclude={"version"}),
                )
                if case.status is not CaseStatus.WITHDRAWN:
                    self.people[case.person_key] = _Person(
                        case.case_id, case.status.is_open, case.pending_expires_at
                    )
                self.event_kinds.setdefault(case.case_id, []).append((change.event_id, "change"))
            self._add_outbox(change.event_id, change.effects, case.case_id if case else None, now)

    def _add_outbox(
        self, event_id: str, effects: Sequence[Effect], case_id: str | None, now: datetime
    ) -> list[str]:
        ids = []
        for number, effect in enumerate(effects):
            outbox_id = f"OUTBOX#{event_id}|EFFECT#{number:02d}"
            assert outbox_id not in self.items, f"outbox item {outbox_id} written twice"
            self.items[outbox_id] = {
                "effect": effect.model_dump_json(),
                **({"case_id": case_id} if case_id else {}),
                "outbox_since": now.isoformat(),
            }
            self.ledger[outbox_id] = Ledger(outbox_id, effect, case_id)
            self.stream.append(outbox_id)
            ids.append(outbox_id)
        return ids

    # ----- the Outbox protocol of shared.effects -----
    def outbox_entry(self, outbox_id: str) -> OutboxEntry | None:
        with self.faults.call("read outbox item", outbox_id):
            item = self.items.get(outbox_id)
            if item is None:
                return None
            return OutboxEntry(
                outbox_id=outbox_id,
                effect=EFFECT.validate_json(item["effect"]),
                case_id=item.get("case_id"),
                queued_at=datetime.fromisoformat(item["outbox_since"]),
                sending_since=(
                    datetime.fromisoformat(item["sending_since"])
                    if "sending_since" in item
                    else None
                ),
            )

    def mark_sending(self, outbox_id: str, now: datetime) -> bool:
        with self.faults.call("mark", outbox_id):
            item = self.items.get(outbox_id)
            if item is None or "sending_since" in item:
                return False
            item["sending_since"] = now.isoformat()
        return True

    def release_sending(self, outbox_id: str) -> None:
        with self.faults.call("release", outbox_id):
            item = self.items.get(outbox_id)
            if item is not None:
                item.pop("sending_since", None)

    def delete_outbox_item(self, outbox_id: str) -> None:
        with self.faults.call("delete", outbox_id):
            if self.items.pop(outbox_id, None) is not None:
                self.ledger[outbox_id].fate = "delivered"

    def replace_with_alert(
        self, entry: OutboxEntry, alerts: list[EmailEffect], now: datetime
    ) -> bool:
        with self.faults.call("replace with alert", entry.outbox_id):
            item = self.items.get(entry.outbox_id)
            if item is None or "sending_since" not in item:
                return False
            del self.items[entry.outbox_id]
            self.ledger[entry.outbox_id].fate = "alerted"
            event_id = f"{entry.event_id}~alert{entry.outbox_id.partition('|')[2]}"
            self._add_outbox(event_id, alerts, entry.case_id, now)
            if entry.case_id:
                self.event_kinds.setdefault(entry.case_id, []).append((event_id, "alert"))
        return True

    def outbox_case_events(self, case_id: str) -> list[str]:
        """`case_events` of the Outbox protocol (RecordingRegister's `case_events` is a dict)."""
        with self.faults.call("case events", case_id):
            return [event_id for event_id, _ in self.event_kinds.get(case_id, [])]

    def unrecorded_emails(self, case_id: str) -> list[str]:
        with self.faults.call("unrecorded emails", case_id):
            return list(
                dict.fromkeys(
                    email_of(event_id)
                    for event_id, kind in self.event_kinds.get(case_id, [])
                    if kind == "email" and email_of(event_id) not in self.submissions
                )
            )

    def erase_case_events(self, case_id: str, keep_event: str | None = None) -> int:
        with self.faults.call("erase outbox", case_id):
            deleted = 0
            for event_id, _ in self.event_kinds.get(case_id, []):
                if event_id == keep_event:
                    continue
                for outbox_id in [i for i in self.items if i.startswith(f"OUTBOX#{event_id}|")]:
                    del self.items[outbox_id]
                    self.ledger[outbox_id].fate = "erased"
                    deleted += 1
            self.event_kinds.pop(case_id, None)
            self.erased_cases.append(case_id)
        return deleted

    # ----- the sweeper's queries (the OutboxByAge index) -----
    def undelivered_outbox(self, queued_before: datetime) -> list[str]:
        with self.faults.call("query outbox"):
            waiting = [
                (item["outbox_since"], outbox_id)
                for outbox_id, item in self.items.items()
                if datetime.fromisoformat(item["outbox_since"]) < queued_before
            ]
        return [outbox_id for _, outbox_id in sorted(waiting)]

    def oldest_undelivered(self) -> datetime | None:
        since = sorted(item["outbox_since"] for item in self.items.values())
        return datetime.fromisoformat(since[0]) if since else None

    # ----- for the checks -----
    def case_ids(self) -> list[str]:
        return list(self.case_items)

    def held_text(self) -> str:
        """Everything the table holds now, as text (the test aids `decisions` excepted)."""
        return "\n".join(
            [
                *self.submissions.values(),
                *(text for _, text in self.case_items.values()),
                *(item["effect"] for item in self.items.values()),
                *self.headers,
            ]
        )


class OutboxPort:
    """The register as EffectDelivery and the sweeper see it (the Outbox protocol)."""

    def __init__(self, register: FaultRegister) -> None:
        self.register = register

    def outbox_entry(self, outbox_id: str) -> OutboxEntry | None:
        return self.register.outbox_entry(outbox_id)

    def mark_sending(self, outbox_id: str, now: datetime) -> bool:
        return self.register.mark_sending(outbox_id, now)

    def release_sending(self, outbox_id: str) -> None:
        self.register.release_sending(outbox_id)

    def delete_outbox_item(self, outbox_id: str) -> None:
        self.register.delete_outbox_item(outbox_id)

    def replace_with_alert(
        self, entry: OutboxEntry, alerts: list[EmailEffect], now: datetime
    ) -> bool:
        return self.register.replace_with_alert(entry, alerts, now)

    def case_events(self, case_id: str) -> list[str]:
        return self.register.outbox_case_events(case_id)

    def unrecorded_emails(self, case_id: str) -> list[str]:
        return self.register.unrecorded_emails(case_id)

    def erase_case_events(self, case_id: str, keep_event: str) -> int:
        return self.register.erase_case_events(case_id, keep_event)

    def undelivered_outbox(self, queued_before: datetime) -> list[str]:
        return self.register.undelivered_outbox(queued_before)

    def oldest_undelivered(self) -> datetime | None:
        return self.register.oldest_undelivered()


# ----- the other services -----
class FaultMailStore(MemoryMailStore):
    """The raw mail bucket: SES's stored emails, read by the intake, erased on withdrawal."""

    def __init__(self, faults: Faults) -> None:
        super().__init__()
        self.faults = faults

    def read(self, key: str) -> bytes:
        with self.faults.call("read mail", key.rsplit("/", 1)[-1]):
            raw = super().read(key)
        return raw

    # ----- the MailEraser of shared.effects -----
    def original_files(self, message_id: str, positions: tuple[int, ...]) -> list[Attachment]:
        raw = self.objects.get(f"inbound/{message_id}")
        if raw is None:
            return []
        files = parse_mail(raw, max_part_bytes=MAX_ORIGINALS_BYTES).attachments
        return [file for file in files if file.position in positions]

    def erase(self, case_id: str, event_ids: list[str]) -> int:
        with self.faults.call("erase mail", case_id):
            keys = list(dict.fromkeys(f"inbound/{email_of(event_id)}" for event_id in event_ids))
            for key in keys:
                self.objects.pop(key, None)
        return len(keys)


@dataclass(frozen=True)
class Sent:
    """One email the mail service accepted, and the outbox item it was sent for."""

    outbox_id: str
    email: EmailEffect
    after_erasures: tuple[str, ...]  # the cases whose erasure had completed when it was sent


@dataclass
class FaultMailer(FakeMailer):
    """The mail service (refuse / lose_answer / crash counters of FakeMailer), its calls
    passing fault points; each send is attributed to the outbox item marked for it."""

    register: FaultRegister = field(default_factory=FaultRegister)
    log: list[Sent] = field(default_factory=list)
    unattributed: list[EmailEffect] = field(default_factory=list)

    def send(
        self,
        email: EmailEffect,
        files: Sequence[Attachment] = (),
        case_reference: str | None = None,
        forms: Sequence[BlankForm] = (),
    ) -> str:
        faults = self.register.faults
        outbox_id = self._being_sent(email)
        faults.at("send:before", outbox_id or "")
        before = len(self.sent)
        try:
            return super().send(email, files, case_reference, forms)
        finally:
            if len(self.sent) > before:
                if outbox_id is None:
                    self.unattributed.append(email)
                else:
                    self.log.append(Sent(outbox_id, email, tuple(self.register.erased_cases)))
                # The call did its work: a crash now is an answer lost after the send.
                faults.at("send:after", outbox_id or "")

    def _being_sent(self, email: EmailEffect) -> str | None:
        """The outbox item marked "sending" that holds this email, not sent yet."""
        sent_for = {entry.outbox_id for entry in self.log}
        sent_to = {(entry.outbox_id, entry.email.to) for entry in self.log}
        for outbox_id, item in self.register.items.items():
            if "sending_since" not in item:
                continue
            effect = self.register.ledger[outbox_id].effect
            if isinstance(effect, PanelPackEffect):
                # The pack's emails are built when sent: one per group of recipients.
                if (
                    email.purpose is EmailPurpose.PANEL_PACK
                    and (outbox_id, email.to) not in sent_to
                ):
                    return outbox_id
                continue
            if outbox_id in sent_for:
                continue
            if (
                isinstance(effect, EmailEffect)
                and (effect.purpose, effect.to, effect.subject)
                == (email.purpose, email.to, email.subject)
                and email.body.startswith(effect.body)
            ):
                return outbox_id
        return None


@dataclass
class FaultScheduler(MemoryScheduler):
    faults: Faults = field(default_factory=Faults)

    def schedule_review(self, case_id: str, at: datetime) -> None:
        with self.faults.call("schedule set", case_id):
            super().schedule_review(case_id, at)

    def cancel(self, case_id: str) -> None:
        with self.faults.call("schedule cancel", case_id):
            super().cancel(case_id)


# ----- sample emails (built once per process: pypdf is slow) -----
WITHDRAWN_NAMES = [
    ("Ottoline", "Quarterfield"),
    ("Perpetua", "Winterbourne"),
    ("Leofric", "Ashdownhurst"),
    ("Isadora", "Fennimore"),
    ("Barnaby", "Thistlewood"),
    ("Clementine", "Haverstock"),
    ("Ignatius", "Pembertonne"),
    ("Rosamund", "Kilbrannan"),
]


def person(seed: int, *, unique_name: int | None = None) -> dict[str, str]:
    """child(seed), with a name no other sample child has (to search for after erasure)."""
    identity = child(seed)
    if unique_name is not None:
        given, family = WITHDRAWN_NAMES[unique_name]
        identity |= {"child_given_name": given, "child_family_name": family}
    return identity


def _key(identity: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(identity.items()))


@cache
def _referral(key: tuple[tuple[str, str], ...]) -> bytes:
    return referral_pdf(**dict(key))


@cache
def _consent(key: tuple[tuple[str, str], ...]) -> bytes:
    return consent_pdf(**dict(key))


@cache
def _withdrawal(key: tuple[tuple[str, str], ...], case_id: str) -> bytes:
    return withdrawal_pdf(dict(key), case_id)


def referral_email(*children: dict[str, str], sender: str = REFERRER,
                   message_id: str | None = None, consent: bool = True) -> bytes:  # fmt: skip
    """Each child's referral and (unless `consent=False`) consent form, in one email."""
    files: list[tuple[str, bytes]] = []
    for number, identity in enumerate(children, start=1):
        files.append((f"referral-{number}.pdf", _referral(_key(identity))))
        if consent:
            files.append((f"consent-{number}.pdf", _consent(_key(identity))))
    return email(*files, sender=sender, message_id=message_id)


def withdrawal_email(identity: dict[str, str], case_id: str, sender: str = COORDINATOR) -> bytes:
    return email(
        ("withdrawal.pdf", _withdrawal(_key(identity), case_id)),
        sender=sender,
        subject="DSR withdrawal",
    )


@dataclass(frozen=True)
class Withdrawn:
    """A case whose consent was withdrawn: erased after the withdrawal `by` was recorded.
    `identity` (when given) must then be found nowhere: a child who is referred again
    afterwards has a new case, so their identity is not searched for."""

    case_id: str
    by: str  # the withdrawal's SES message id: its own answers are still sent
    identity: dict[str, str] | None = None


# ----- the world -----
class World:
    """The real services over the in-memory register, bucket, mail service and Scheduler."""

    def __init__(self, settings: Settings = SETTINGS, now: datetime = NOW) -> None:
        self.settings = settings
        self.now = now
        self.faults = Faults()
        self.register = FaultRegister(faults=self.faults)
        self.store = FaultMailStore(self.faults)
        self.mailer = FaultMailer(register=self.register)
        self.scheduler = FaultScheduler(faults=self.faults)
        self.hasher = PlainHasher()
        self.received: list[str] = []  # SES message ids, as stored
        self.withdrawn: list[Withdrawn] = []
        self.failures: list[BaseException] = []  # what invocations raised (then retried)

    def clock(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    # ----- the services, wired as the functions wire them -----
    def intake(self) -> IntakeService:
        return IntakeService(self.settings, self.store, self.register, self.hasher, self.clock)

    def schedule_sync(self) -> ScheduleSync:
        return ScheduleSync(self.register, self.scheduler, self.settings, self.clock)

    def delivery(self) -> EffectDelivery:
        return EffectDelivery(
            OutboxPort(self.register),
            self.mailer,
            self.schedule_sync(),
            self.store,
            Notices(self.settings),
            self.clock,
            PanelPackService(self.settings, self.register),
        )

    def reminders(self) -> ReminderService:
        return ReminderService(self.settings, self.register, self.clock, self.schedule_sync())

    # ----- SES and the IntakeFunction -----
    def receive(self, raw: bytes, message_id: str | None = None) -> str:
        """SES stores an email; returns its SES message id."""
        message_id = message_id or uuid.uuid4().hex
        self.store.put(message_id, raw)
        self.received.append(message_id)
        return message_id

    def process(self, message_id: str) -> IntakeResult | None:
        """One IntakeFunction invocation for the email; None when it crashed or failed (SQS
        then delivers the message again)."""
        try:
            return self.intake().process(f"inbound/{message_id}")
        except (Crash, Exception) as failure:
            self.failures.append(failure)
            return None

    def submit(self, raw: bytes, message_id: str | None = None) -> Submission:
        """Receive and process an email without faults, its effects delivered by the stream."""
        message_id = self.receive(raw, message_id)
        result = self.process(message_id)
        assert result is not None, self.failures[-1]
        self.pump()
        return result.submission

    # ----- the stream, the EffectsFunction and the sweeper -----
    def deliver(self, outbox_id: str) -> str | None:
        """One delivery of an outbox item; None when it crashed or failed."""
        try:
            return self.delivery().deliver(outbox_id)
        except (Crash, Exception) as failure:
            self.failures.append(failure)
            return None

    def pump(self, retries: int = 3) -> list[str]:
        """The stream hands every new outbox insert to the EffectsFunction, retrying a failed
        record up to `retries` times; returns what was left (for the sweeper)."""
        records, self.register.stream = self.register.stream, []
        left = []
        for outbox_id in records:
            for _ in range(retries):
                if self.deliver(outbox_id) is not None:
                    break
            else:
                left.append(outbox_id)
        if self.register.stream:  # alerts written meanwhile are new inserts
            left += self.pump(retries)
        return left

    def sweep(self, older_than: timedelta | None = None,
              time_left: Callable[[], float] = lambda: float("inf")) -> Sweep | None:  # fmt: skip
        """One OutboxSweeperFunction run; None when it crashed."""
        if older_than is None:
            older_than = timedelta(minutes=self.settings.outbox_sweep_after_minutes)
        try:
            return sweep_outbox(
                OutboxPort(self.register), self.delivery(), self.now, older_than, time_left
            )
        except Crash as failure:
            self.failures.append(failure)
            return None

    # ----- Scheduler and the ReminderFunction -----
    def fire(self, case_id: str) -> str | None:
        try:
            return self.reminders().run(case_id)
        except (Crash, Exception) as failure:
            self.failures.append(failure)
            return None

    def fire_due(self) -> list[str]:
        """Fire every schedule due by now (Scheduler's at() fires once, then is spent)."""
        done = []
        for case_id, at in sorted(self.scheduler.schedules.items(), key=lambda item: item[1]):
            if at <= self.now:
                # An at() schedule that fired stays defined (ActionAfterCompletion NONE) but
                # never fires again: the firing must move it on.
                del self.scheduler.schedules[case_id]
                outcome = self.fire(case_id)
                done.append(outcome or "failed")
                self.pump()
        return done

    # ----- the DigestFunction -----
    def digest(self) -> bool:
        """The DigestFunction's body: True when the pack was recorded by this firing."""
        change = PanelPackService(self.settings, self.register).change(self.now)
        try:
            self.register.record_change(change, self.now)
        except AlreadyRecordedError:
            return False
        return True

    # ----- helpers for the scenarios -----
    def registered(self, identity: dict[str, str]) -> str:
        """The child put on the register, without faults; returns the case id."""
        submission = self.submit(referral_email(identity))
        assert submission.outcome is Outcome.ACCEPTED, submission.reasons
        assert submission.case_id is not None
        return submission.case_id

    def withdraw(self, identity: dict[str, str], case_id: str) -> Submission:
        """A coordinator's withdrawal of the child's consent, without faults."""
        submission = self.submit(withdrawal_email(identity, case_id))
        assert submission.outcome is Outcome.WITHDRAWN, submission.reasons
        self.withdrawn.append(Withdrawn(case_id, submission.message_id, identity))
        return submission

    def case_of(self, identity: dict[str, str]) -> Case | None:
        return self.register.case_for_person(self.hasher.person_key(identity["child_nhs_number"]))

    def settle(self, rounds: int = 12) -> None:
        """Let the system run on with no more faults: the stream, the sweeper after the
        sending lease, and the schedules falling due, until nothing is left to do."""
        self.faults.clear()
        self.mailer.refuse = self.mailer.lose_answer = self.mailer.crash = 0
        self.scheduler.fail = 0
        self.pump()
        for _ in range(rounds):
            if not self.register.items and not any(
                at <= self.now for at in self.scheduler.schedules.values()
            ):
                return
            self.advance(SENDING_LEASE + timedelta(seconds=1))
            self.sweep(older_than=timedelta(0))
            self.pump()
            self.fire_due()

    def sent(self, purpose: str | None = None) -> list[EmailEffect]:
        return [
            entry.email
            for entry in self.mailer.log
            if purpose is None or entry.email.purpose.value == purpose
        ]
