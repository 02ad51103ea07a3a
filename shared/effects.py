"""Delivering the effects recorded in the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pydantic import TypeAdapter

from shared.case import Effect, EmailEffect, EraseEffect, ScheduleEffect, UnscheduleEffect
from shared.mail import Attachment


class Mailer(Protocol):
    def send(self, email: EmailEffect, files: Sequence[Attachment] = ()) -> str: ...


class OriginalsReader(Protocol):
    def original_files(self, message_id: str, positions: tuple[int, ...]) -> list[Attachment]: ...


# SES takes messages up to 40 MB once encoded; base64 makes files a third larger.
MAX_ORIGINALS_BYTES = 25 * 1024 * 1024


class Scheduler(Protocol):
    def schedule_review(self, case_id: str, at: datetime) -> None: ...

    def cancel(self, case_id: str) -> None: ...


class MailEraser(OriginalsReader, Protocol):
    def erase(self, case_id: str, event_ids: list[str]) -> int: ...


class EventEraser(Protocol):
    def case_events(self, case_id: str) -> list[str]: ...

    def erase_case_events(self, case_id: str) -> int: ...


EFFECT = TypeAdapter[Effect](Effect)


class EffectDelivery:
    def __init__(
        self, mailer: Mailer, scheduler: Scheduler, mail: MailEraser, events: EventEraser
    ) -> None:
        self.mailer = mailer
        self.scheduler = scheduler
        self.mail = mail
        self.events = events

    def deliver(self, effect: Effect) -> str:
        """Carry out one effect; returns what was done, for the log (no personal data).

        Every effect is safe to carry out twice: Idempotency makes it rare, not impossible.
        """
        if isinstance(effect, EmailEffect):
            return self._send(effect)
        if isinstance(effect, ScheduleEffect):
            self.scheduler.schedule_review(effect.case_id, effect.at)
            return "schedule:set"
        if isinstance(effect, UnscheduleEffect):
            self.scheduler.cancel(effect.case_id)
            return "schedule:cancelled"
        return self._erase(effect)

    def _send(self, email: EmailEffect) -> str:
        if email.originals is None:
            self.mailer.send(email)
            return f"email:{email.purpose.value}"
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
        self.mailer.send(email.model_copy(update={"body": email.body + note}), files)
        return f"email:{email.purpose.value}:files={len(files)}"

    def _erase(self, effect: EraseEffect) -> str:
        # Order matters: the list of events is what finds the emails, so it goes last.
        self.scheduler.cancel(effect.case_id)
        objects = self.mail.erase(effect.case_id, self.events.case_events(effect.case_id))
        outbox = self.events.erase_case_events(effect.case_id)
        return f"erase:objects={objects},outbox={outbox}"
