"""Delivering the effects the intake recorded in the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import TypeAdapter

from shared.case import Effect, EmailEffect


class Mailer(Protocol):
    def send(self, email: EmailEffect) -> str: ...


class Scheduler(Protocol):
    def schedule_review(self, case_id: str, at: datetime) -> None: ...


EFFECT = TypeAdapter[Effect](Effect)


class EffectDelivery:
    def __init__(self, mailer: Mailer, scheduler: Scheduler) -> None:
        self.mailer = mailer
        self.scheduler = scheduler

    def deliver(self, effect: Effect) -> str:
        """Carry out one effect; returns what was done, for the log (no personal data)."""
        if isinstance(effect, EmailEffect):
            self.mailer.send(effect)
            return f"email:{effect.purpose.value}"
        self.scheduler.schedule_review(effect.case_id, effect.at)
        return "schedule:review"
