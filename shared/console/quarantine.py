"""Releasing or dismissing a quarantined email.

Release: a named coordinator waives the quarantine's trust reasons and the email is decided
again as from its sender, by the intake decider (IntakeDecider.decide_as_trusted), so its
outcome, case and answers are what a trusted email's would be. Never for a virus or spam
verdict ("never answer spam or virus mail"), nor for mail that cannot safely be answered (no
sender, unreadable, our own, or an automatic reply): those can only be dismissed.
Dismiss: recorded, nobody answered; the service erases the raw email.
Both are keyed `<message id>.triage`, so an email is released or dismissed once, never both.
"""

from __future__ import annotations

from shared.case import Actor, Decision, Submission
from shared.console.act import ConsoleAct, decided_as_from_sender
from shared.console.roles import (
    TRIAGED,
    ConsoleAction,
    ConsoleDecision,
    redecision_id,
    refusal,
    require,
)
from shared.console.waiting import email_item
from shared.intake import IntakeDecider
from shared.mail import InboundMail, trust_reasons
from shared.outcome import Outcome, ReasonCode
from shared.settings import Settings

NEVER_RELEASED = frozenset({ReasonCode.VIRUS, ReasonCode.SPAM})


def _quarantined(recorded: Submission | None, triaged: Submission | None) -> Submission:
    if recorded is None or recorded.outcome is not Outcome.QUARANTINED:
        raise refusal("not-quarantined", "That email is not in quarantine.")
    if triaged is not None:
        done = "released" if triaged.outcome is not Outcome.QUARANTINED else "dismissed"
        raise refusal("triaged", f"That email was {done} already.")
    return recorded


def _unanswerable(mail: InboundMail, settings: Settings) -> str | None:
    """Why the email's sender cannot safely be answered, whoever vouches for it."""
    if mail.problems or not mail.sender:
        return "it has no single sender that can be read"
    if mail.sender == settings.inbox_address.lower():
        return "it is one of the DSR's own emails come back"
    if mail.automatic:
        return "it is an automatic reply or delivery report"
    return None


def release(
    act: ConsoleAct,
    mail: InboundMail,
    message_id: str,
    recorded: Submission | None,
    triaged: Submission | None,
) -> ConsoleDecision:
    """The email decided again as from its sender; refused when it may only be dismissed,
    or when it stays quarantined for what it holds (a review or withdrawal form from outside
    the team is never taken on a coordinator's word: they record it in the console)."""
    require(act.actor, ConsoleAction.RELEASE)
    quarantined = _quarantined(recorded, triaged)
    verdicts = {r.code for r in [*quarantined.reasons, *trust_reasons(mail, act.settings)]}
    if verdicts & NEVER_RELEASED:
        raise refusal(
            "spam-or-virus",
            "An email that failed the virus or spam check is never released or answered: "
            "it can only be dismissed.",
        )
    why_not = _unanswerable(mail, act.settings)
    if why_not:
        raise refusal("unanswerable", f"That email cannot be released: {why_not}. Dismiss it.")
    return decided_as_from_sender(
        act, ConsoleAction.RELEASE, mail, message_id, IntakeDecider.decide_as_trusted,
        header_message_id=mail.duplicate_key,
    )  # fmt: skip


def dismiss(
    message_id: str,
    recorded: Submission | None,
    triaged: Submission | None,
    *,
    actor: Actor,
) -> ConsoleDecision:
    """Dismissed: its quarantine recorded as final, with its reasons; nobody is answered."""
    require(actor, ConsoleAction.DISMISS)
    quarantined = _quarantined(recorded, triaged)
    return ConsoleDecision(
        event_id=redecision_id(message_id, TRIAGED),
        label=ConsoleAction.DISMISS.value,
        actor=actor,
        decision=Decision(outcome=Outcome.QUARANTINED, reasons=quarantined.reasons),
        resolves=email_item(message_id),
    )
