"""Delivering the effects recorded in the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import TypeAdapter

from shared.case import Effect, EmailEffect, EraseEffect, ScheduleEffect, UnscheduleEffect


class Mailer(Protocol):
    def send(self, email: EmailEffect) -> str: ...


class Scheduler(Protocol):
    def schedule_review(self, case_id: str, at: datetime) -> None: ...

    def cancel(self, case_id: str) -> None: ...


class MailEraser(Protocol):
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
            self.mailer.send(effect)
            return f"email:{effect.purpose.value}"
        if isinstance(effect, ScheduleEffect):
            self.scheduler.schedule_review(effect.case_id, effect.at)
            return "schedule:set"
        if isinstance(effect, UnscheduleEffect):
            self.scheduler.cancel(effect.case_id)
            return "schedule:cancelled"
        return self._erase(effect)

    def _erase(self, effect: EraseEffect) -> str:
        # Order matters: the list of events is what finds the emails, so it goes last.
        self.scheduler.cancel(effect.case_id)
        objects = self.mail.erase(effect.case_id, self.events.case_events(effect.case_id))
        outbox = self.events.erase_case_events(effect.case_id)
        return f"erase:objects={objects},outbox={outbox}"
