"""Verifying or declining a self-referral: an email from a family's or young person's own
address (outside the allowed domains, SPF, DKIM and DMARC passing, clean, with forms),
recorded `pending` with AWAITING_VERIFICATION and no case (IntakeDecider.decide).

Verify: a coordinator who has checked with the family has it decided as from its sender
(IntakeDecider.decide_verified): a new case, or the child's case completed, and answers as
usual - within the secure-domains rule, so the family gets references, never details.
When the register meanwhile holds the child (a professional's referral came first), that
referral wins: the family's consent may complete the waiting case, but their referral
never replaces the professional's; a child already on the register is answered "already
on the register" with the reference only.
Decline: the sender is told in plain words that it was not taken forward, with the
reference and nothing of the child; the service erases the raw email.
Both are keyed `<message id>.triage` (as a quarantine's release or dismissal): once, and
never both."""

from __future__ import annotations

from shared.case import Decision, Submission, case_reference_for
from shared.console.act import ConsoleAct, decided_as_from_sender
from shared.console.roles import (
    TRIAGED,
    ConsoleAction,
    ConsoleDecision,
    redecision_id,
    refusal,
    require,
)
from shared.console.waiting import awaits_verification, email_item
from shared.intake import IntakeDecider
from shared.mail import InboundMail
from shared.notices import Answering, Notices
from shared.outcome import Outcome, Reason, ReasonCode

DECLINED = (
    "A self-referral a DSR coordinator declined: not taken forward, nothing added to the "
    "register; the sender was told."
)


def self_referral_reference(message_id: str) -> str:
    """The reference its sender was given: that of the case its verification opens."""
    return case_reference_for(redecision_id(message_id, TRIAGED))


def _awaiting(recorded: Submission | None, triaged: Submission | None) -> Submission:
    if recorded is None or not awaits_verification(recorded):
        raise refusal("not-self-referral", "That email is not a self-referral to verify.")
    if triaged is not None:
        done = "declined" if any(r.message == DECLINED for r in triaged.reasons) else "verified"
        raise refusal("triaged", f"That self-referral was {done} already.")
    return recorded


def verify(
    act: ConsoleAct,
    mail: InboundMail,
    message_id: str,
    recorded: Submission | None,
    triaged: Submission | None,
) -> ConsoleDecision:
    """The self-referral decided as from its sender. Its duplicate key was reserved when it
    was recorded as awaiting, so nothing is reserved again."""
    require(act.actor, ConsoleAction.VERIFY)
    _awaiting(recorded, triaged)
    return decided_as_from_sender(
        act, ConsoleAction.VERIFY, mail, message_id, IntakeDecider.decide_verified
    )


def decline(
    act: ConsoleAct,
    mail: InboundMail,
    message_id: str,
    recorded: Submission | None,
    triaged: Submission | None,
) -> ConsoleDecision:
    """Declined: recorded (`rejected`), the sender told in plain words; no case, and the
    register is not read."""
    require(act.actor, ConsoleAction.DECLINE)
    _awaiting(recorded, triaged)
    reason = Reason(code=ReasonCode.SENDER_NOT_ALLOWED, message=DECLINED)
    answer = Notices(act.settings).self_referral_declined(
        mail.sender, self_referral_reference(message_id), answering=Answering.to(mail, act.now)
    )
    return ConsoleDecision(
        event_id=redecision_id(message_id, TRIAGED),
        label=ConsoleAction.DECLINE.value,
        actor=act.actor,
        decision=Decision(outcome=Outcome.REJECTED, reasons=[reason], effects=list(answer)),
        resolves=email_item(message_id),
    )
