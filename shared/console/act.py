"""What every console decision is made with: who acts, when, and the register and hasher it
reads - one ConsoleAct per attempt (the service decides again when the register changed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.case import Actor
from shared.intake import IdentityHasher, IntakeContext, IntakeDecider, Register
from shared.settings import Settings


@dataclass(frozen=True)
class ConsoleAct:
    actor: Actor
    settings: Settings
    now: datetime
    register: Register  # as this attempt reads it (shared.intake_service.ReadTracker)
    hasher: IdentityHasher

    def intake_decider(self) -> IntakeDecider:
        """The intake's own decider, for an email decided again from the console."""
        return IntakeDecider(IntakeContext(self.settings, self.now), self.register, self.hasher)
