"""What every console decision is made with: who acts, when, and the register and hasher it
reads - one ConsoleAct per attempt (the service decides again when the register changed) -
and an email waiting in Triage decided again by the intake's own decider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.case import Actor, Decision
from shared.console.roles import TRIAGED, ConsoleAction, ConsoleDecision, redecision_id
from shared.console.waiting import email_item
from shared.errors import ActionRefusedError
from shared.intake import IdentityHasher, IntakeContext, IntakeDecider, Register
from shared.mail import InboundMail
from shared.outcome import Outcome
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


def decided_as_from_sender(
    act: ConsoleAct,
    action: ConsoleAction,
    mail: InboundMail,
    message_id: str,
    decide: Callable[[IntakeDecider, InboundMail, str], Decision],
    header_message_id: str | None = None,
) -> ConsoleDecision:
    """The email decided again as from its sender (`decide`: a release's or a verification's
    way of the intake decider) under `<message id>.triage`, and out of Triage; refused when
    it would still be quarantined for what it holds."""
    event_id = redecision_id(message_id, TRIAGED)
    decision = decide(act.intake_decider(), mail, event_id)
    if decision.outcome is Outcome.QUARANTINED:
        raise ActionRefusedError("still-quarantined", decision.reasons)
    return ConsoleDecision(
        event_id=event_id,
        label=action.value,
        actor=act.actor,
        decision=decision,
        header_message_id=header_message_id,
        resolves=email_item(message_id),
    )
