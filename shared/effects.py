"""Delivering the effects recorded in the outbox, from the register's own copy.

The stream (and the sweeper, for whatever the stream did not finish) only says *which*
outbox item to deliver. The item itself is read again, consistently, before acting: an item
that is gone was delivered already or erased with its case, and is skipped. Schedules are
set from the case as it is now (shared.schedules). An email is sent at most once: the item
is marked "sending" before the mail service is called and deleted after; an item found
still "sending" after the lease is an email whose fate is unknown, and the coordinators are
told instead of it being sent blind (SES has no idempotency token).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import TypeAdapter

from shared.blank_forms import BlankForm, read_blank_form
from shared.case import (
    Effect,
    EmailEffect,
    EmailPurpose,
    EraseEffect,
    PanelPackEffect,
    ScheduleEffect,
    UnscheduleEffect,
)
from shared.errors import MailNotSentError
from shared.mail import Attachment
from shared.notices import Notices
from shared.schedules import ScheduleSync

EFFECT = TypeAdapter[Effect](Effect)

# SES takes messages up to 40 MB once encoded; base64 makes files a third larger.
MAX_ORIGINALS_BYTES = 25 * 1024 * 1024
# Longer than any function's timeout: a "sending" mark younger than this may belong to a
# delivery still running; an older one was left by a delivery that died or lost its answer.
SENDING_LEASE = timedelta(minutes=5)


class Mailer(Protocol):
    def send(
        self,
        email: EmailEffect,
        files: Sequence[Attachment] = (),
        case_reference: str | None = None,
        forms: Sequence[BlankForm] = (),
    ) -> str:
        """Send; raise MailNotSentError only when the service said it did not send. `files`
        are a received email's (named by position), `forms` the blank forms (by their name)."""
        ...


class PanelPackRenderer(Protocol):
    def emails(self, at: datetime) -> list[EmailEffect]:
        """The panel pack's emails as of `at`, from the register as it is now."""
        ...


class OriginalsReader(Protocol):
    def original_files(self, message_id: str, positions: tuple[int, ...]) -> list[Attachment]: ...


class MailEraser(OriginalsReader, Protocol):
    def erase(self, case_id: str, event_ids: list[str]) -> int: ...


@dataclass(frozen=True)
class OutboxEntry:
    """An undelivered outbox item as the register holds it."""

    outbox_id: str  # "<PK>|<SK>"
    effect: Effect
    case_id: str | None
    queued_at: datetime | None
    sending_since: datetime | None  # set while (or since) its email is being sent

    @property
    def event_id(self) -> str:
        return self.outbox_id.partition("|")[0].removeprefix("OUTBOX#")


class Outbox(Protocol):
    def outbox_entry(self, outbox_id: str) -> OutboxEntry | None: ...

    def mark_sending(self, outbox_id: str, now: datetime) -> bool:
        """Mark an item not yet being sent as sending; False if it is gone or already marked."""
        ...

    def release_sending(self, outbox_id: str) -> None: ...

    def delete_outbox_item(self, outbox_id: str) -> None: ...

    def replace_with_alert(
        self, entry: OutboxEntry, alerts: list[EmailEffect], now: datetime
    ) -> bool:
        """Swap an item left "sending" for the coordinators' alerts, once; False if lost."""
        ...

    def case_events(self, case_id: str) -> list[str]: ...

    def unrecorded_emails(self, case_id: str) -> list[str]:
        """The case's emails that have no recorded outcome of their own yet."""
        ...

    def erase_case_events(self, case_id: str, keep_event: str) -> int: ...


class EffectDelivery:
    def __init__(
        self,
        outbox: Outbox,
        mailer: Mailer,
        schedules: ScheduleSync,
        mail: MailEraser,
        notices: Notices,
        clock: Callable[[], datetime],
        packs: PanelPackRenderer | None = None,
    ) -> None:
        self.outbox = outbox
        self.mailer = mailer
        self.schedules = schedules
        self.mail = mail
        self.notices = notices
        self.clock = clock
        self.packs = packs

    def deliver(self, outbox_id: str) -> str:
        """Carry out one outbox item; returns what was done, for the log (no personal data).

        Safe to call any number of times, from the stream and the sweeper at once.
        """
        entry = self.outbox.outbox_entry(outbox_id)
        if entry is None:
            return "skipped:already delivered or erased"
        effect = entry.effect
        if isinstance(effect, EmailEffect):
            return self._send(entry, effect)
        if isinstance(effect, PanelPackEffect):
            return self._send_pack(entry, effect)
        if isinstance(effect, ScheduleEffect | UnscheduleEffect):
            done = self.schedules.sync(effect.case_id)
        else:
            done = self._erase(entry, effect)
            if done == "erase:waiting":
                return done  # kept: the sweeper tries again
        self.outbox.delete_outbox_item(outbox_id)
        return done

    # ----- emails: at most once -----
    def _send(self, entry: OutboxEntry, email: EmailEffect) -> str:
        now = self.clock()
        marked = self._already_marked(entry, email, now)
        if marked is not None:
            return marked
        forms, email = _with_blank_forms(email)
        # Everything read before the mark: a failed read leaves the item free to try again.
        files, email = self._with_originals(email)
        if not self.outbox.mark_sending(entry.outbox_id, now):
            return "skipped:taken by another delivery"
        try:
            self.mailer.send(email, files, entry.case_id, forms=forms)
        except MailNotSentError:
            self.outbox.release_sending(entry.outbox_id)  # not sent: a retry may send it
            raise
        # Any other failure leaves the mark: its next delivery reports it, never resends it.
        self.outbox.delete_outbox_item(entry.outbox_id)
        attached = f":forms={len(forms)}" if forms else ""
        return f"email:{email.purpose.value}:files={len(files)}{attached}"

    def _send_pack(self, entry: OutboxEntry, pack: PanelPackEffect) -> str:
        """The panel pack's emails, built now, under the one item's "sending" mark."""
        assert self.packs is not None, "this delivery was wired without the panel pack"
        now = self.clock()
        described = EmailEffect(  # what an alert about it says (its emails are not built yet)
            purpose=EmailPurpose.PANEL_PACK,
            to=self.notices.settings.coordinator_addresses,
            subject=f"DSR panel pack of {pack.at:%d/%m/%Y}",
            body="",
        )
        marked = self._already_marked(entry, described, now)
        if marked is not None:
            return marked
        emails = self.packs.emails(pack.at)  # built before the mark, like files are read
        if not self.outbox.mark_sending(entry.outbox_id, now):
            return "skipped:taken by another delivery"
        for number, email in enumerate(emails):
            try:
                self.mailer.send(email, (), None)
            except MailNotSentError:
                if number == 0:  # nothing of the pack went out: it may be tried again
                    self.outbox.release_sending(entry.outbox_id)
                raise
        self.outbox.delete_outbox_item(entry.outbox_id)
        return f"panel_pack:emails={len(emails)}"

    def _already_marked(self, entry: OutboxEntry, email: EmailEffect, now: datetime) -> str | None:
        """An item already marked "sending": left alone within the lease (another delivery
        may be sending it), reported to the coordinators after it; None when unmarked."""
        if entry.sending_since is None:
            return None
        if now - entry.sending_since < SENDING_LEASE:
            return "skipped:being sent by another delivery"
        return self._uncertain(entry, email, now)

    def _uncertain(self, entry: OutboxEntry, email: EmailEffect, now: datetime) -> str:
        if email.purpose is EmailPurpose.SEND_UNCERTAIN:
            # An alert about an alert would never end: the EmailsUncertain metric is alarmed.
            self.outbox.delete_outbox_item(entry.outbox_id)
            return "uncertain:alert dropped"
        assert entry.sending_since is not None
        alerts = self.notices.send_uncertain(
            email, entry.case_id, entry.sending_since, entry.outbox_id
        )
        if not self.outbox.replace_with_alert(entry, alerts, now):
            return "skipped:reported by another delivery"
        return "uncertain:coordinators told"

    def _with_originals(self, email: EmailEffect) -> tuple[list[Attachment], EmailEffect]:
        if email.originals is None:
            return [], email
        files = self.mail.original_files(email.originals.message_id, email.originals.positions)
        if not files:
            note = "\n(The files are no longer held: the email was erased or has expired.)\n"
        elif sum(file.full_size for file in files) > MAX_ORIGINALS_BYTES:
            files = []
            note = (
                "\n(The files are too large to attach: an admin can fetch the raw email from the "
                "raw mail bucket under the key above.)\n"
            )
        else:
            note = ""
        return files, email.model_copy(update={"body": email.body + note})

    # ----- erasure -----
    def _erase(self, entry: OutboxEntry, effect: EraseEffect) -> str:
        self.schedules.scheduler.cancel(effect.case_id)
        if self.outbox.unrecorded_emails(effect.case_id):
            # An email of the case still waits for its own outcome (one with several
            # children, redelivered): erasing its raw copy now would lose that outcome.
            return "erase:waiting"
        events = self.outbox.case_events(effect.case_id)
        objects = self.mail.erase(effect.case_id, events)
        # The withdrawal's own answers (which hold no details of the child) still go out.
        outbox = self.outbox.erase_case_events(effect.case_id, keep_event=entry.event_id)
        return f"erase:objects={objects},outbox={outbox}"


def _with_blank_forms(email: EmailEffect) -> tuple[list[BlankForm], EmailEffect]:
    """The blank forms the email names, read from the package now (the outbox holds only
    their names). One that cannot be read is left off and the email says so."""
    forms: list[BlankForm] = []
    missing = False
    for name in email.blank_forms:
        try:
            forms.append(read_blank_form(name))
        except (OSError, ValueError):  # a packaging fault: the answer still goes
            missing = True
    if not missing:
        return forms, email
    note = "\n(The blank forms could not be attached: reply to this email to be sent them.)\n"
    return forms, email.model_copy(update={"body": email.body + note})


class UndeliveredOutbox(Protocol):
    def undelivered_outbox(self, queued_before: datetime) -> list[str]: ...

    def oldest_undelivered(self) -> datetime | None: ...


@dataclass(frozen=True)
class Sweep:
    """What one sweep of the outbox did, in counts (never personal data)."""

    found: int
    done: int  # delivered, or found already delivered
    uncertain: int  # emails whose send could not be confirmed: the coordinators told
    waiting: int  # left for a later sweep (an erasure waiting for an outcome, a send running)
    failed: int  # the delivery raised: left for the next sweep
    left: int  # not tried: the time ran short
    oldest_age_seconds: float  # of what is still undelivered after the sweep (0: none)

    def summary(self) -> str:
        return (
            f"{self.found} outbox items waiting: {self.done} delivered, {self.uncertain} "
            f"uncertain (coordinators told), {self.waiting} still waiting, {self.failed} "
            f"failed, {self.left} left for the next sweep"
        )


def sweep_outbox(
    outbox: UndeliveredOutbox,
    delivery: EffectDelivery,
    now: datetime,
    older_than: timedelta,
    time_left: Callable[[], float] = lambda: float("inf"),
    on_failure: Callable[[str, Exception], None] = lambda outbox_id, error: None,
) -> Sweep:
    """Deliver every outbox item queued more than `older_than` ago (the stream failed them,
    or never brought them); stop while `time_left()` (seconds) allows one more delivery."""
    found = outbox.undelivered_outbox(now - older_than)
    done = uncertain = waiting = failed = 0
    for tried, outbox_id in enumerate(found):
        if time_left() < 20:  # one delivery (with a 25 MB original) takes well under this
            left = len(found) - tried
            break
        try:
            result = delivery.deliver(outbox_id)
        except Exception as error:  # one item's failure never stops the sweep
            failed += 1
            on_failure(outbox_id, error)
            continue
        if result.startswith("uncertain:"):
            uncertain += 1
        elif result.startswith(("skipped:being sent", "erase:waiting")):
            waiting += 1
        else:
            done += 1
    else:
        left = 0
    oldest = outbox.oldest_undelivered()
    age = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    return Sweep(len(found), done, uncertain, waiting, failed, left, age)
