"""What waits for a person, as the register marks it: which recorded outcomes, holds and
changes join the triage queue, and the id each is dealt with by. Pure: the register table
(shared.adapters.register_table) writes the mark in the transaction that records the
outcome, and removes it in the one that records what a coordinator did about it.

An item id is `<kind>:<ref>`: `email:<message id>` (an email's outcome, or a re-decision's
`<message id>.triage`), `hold:<hold reference>`, `event:<change event id>`."""

from __future__ import annotations

from enum import StrEnum

from shared.case import CaseChange, Decision, EmailEffect, EmailPurpose, Submission
from shared.outcome import Outcome, ReasonCode


class Waiting(StrEnum):
    """Why an item waits, oldest first within the queue."""

    QUARANTINED = "quarantined"  # a quarantined email the coordinators were alerted to
    SELF_REFERRAL = "self_referral"  # awaiting verification
    MANUAL_ENTRY = "manual_entry"  # files that could not be read, to enter by hand
    HELD_WITHDRAWAL = "held_withdrawal"  # a withdrawal from outside the team, to confirm
    BOUNCED = "bounced"  # one of our answers bounced or was refused
    LAPSING = "lapsing"  # a pending case about to lapse
    REVIEW_OVERDUE = "review_overdue"  # a case on the register past its review day


def email_item(message_id: str) -> str:
    return f"email:{message_id}"


def hold_item(reference: str) -> str:
    return f"hold:{reference}"


def event_item(event_id: str) -> str:
    return f"event:{event_id}"


def awaits_verification(submission: Submission | Decision) -> bool:
    return submission.outcome is Outcome.PENDING and any(
        reason.code is ReasonCode.AWAITING_VERIFICATION for reason in submission.reasons
    )


def _purposes(decision: Decision) -> set[EmailPurpose]:
    return {e.purpose for e in decision.effects if isinstance(e, EmailEffect)}


def decision_waits(decision: Decision) -> Waiting | None:
    """Whether an email's outcome waits for a person, and why. A quarantined email waits
    when the coordinators were alerted (an automatic reply is not: nobody is asked to act),
    or when it is a bounce of one of our answers (Graph route); a dismissal, a release or an
    entry never waits again for the same thing."""
    purposes = _purposes(decision)
    if awaits_verification(decision):
        return Waiting.SELF_REFERRAL
    if decision.outcome is Outcome.QUARANTINED:
        if EmailPurpose.QUARANTINE_ALERT in purposes:
            return Waiting.QUARANTINED
        if EmailPurpose.MAIL_PROBLEM in purposes:
            return Waiting.BOUNCED
        return None
    if EmailPurpose.MANUAL_ENTRY in purposes:
        return Waiting.MANUAL_ENTRY
    return None


def change_waits(change: CaseChange) -> Waiting | None:
    """A report that one of our answers bounced, was refused or complained of (SES route)."""
    if change.label.startswith("mail_problem:") and change.actor is None:
        return Waiting.BOUNCED
    return None
