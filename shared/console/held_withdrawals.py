"""A held withdrawal (shared.holds) dealt with from Triage: confirmed - applied exactly as a
coordinator's emailed `CONFIRM WITHDRAWAL HOLD-...` is, by the same HoldDecider - or
declined: the hold dismissed and nothing erased, as when a hold lapses (its sender is not
emailed then either). Pure: the register and the hasher come with the act."""

from __future__ import annotations

from shared.case import Decision, EmailEffect, EmailPurpose
from shared.console.act import ConsoleAct
from shared.console.case_actions import _as_sent_by
from shared.console.roles import ConsoleAction, ConsoleDecision, event_id_for, refusal, require
from shared.hold_decisions import HoldDecider
from shared.holds import HOLD_RETENTION, HeldWithdrawal
from shared.notices import Notices
from shared.outcome import Outcome, Reason, ReasonCode

# What the actor would have been emailed, had they confirmed by email: they see it on the
# page instead.
_TO_THE_CONFIRMER = frozenset({EmailPurpose.ACKNOWLEDGEMENT, EmailPurpose.REJECTION})


def _not_held(reference: str) -> Exception:
    return refusal(
        "no-hold",
        f"No withdrawal is held as {reference} any more: it was confirmed or declined "
        "already, or it lapsed.",
    )


def _live(act: ConsoleAct, reference: str) -> HeldWithdrawal:
    held = act.register.held_withdrawal(reference)
    if held is None or held.received_at + HOLD_RETENTION < act.now:
        raise _not_held(reference)
    return held


def confirm_withdrawal(act: ConsoleAct, reference: str, token: str) -> ConsoleDecision:
    """The hold applied against the register as it is now, as the emailed confirmation is:
    the case erased and the hold's sender told, or - the child not found, or their case
    opened after the hold came - the hold released and the refusal recorded."""
    require(act.actor, ConsoleAction.CONFIRM_WITHDRAWAL)
    event_id = event_id_for(ConsoleAction.CONFIRM_WITHDRAWAL, token)
    _live(act, reference)
    decider = HoldDecider(act.settings, act.now, act.register, act.hasher)
    decision = decider.confirm(_as_sent_by(act.actor, event_id), event_id, reference)
    if decision.release_hold is None:  # gone between the read and the decision
        raise _not_held(reference)
    effects = [
        effect
        for effect in decision.effects
        if not (
            isinstance(effect, EmailEffect)
            and effect.purpose in _TO_THE_CONFIRMER
            and effect.to == (act.actor.email,)
        )
    ]
    case = decision.case
    if case is not None:  # the case's submissions stay its emails
        case = case.model_copy(
            update={"submissions": [s for s in case.submissions if s != event_id]}
        )
    return ConsoleDecision(
        event_id=event_id,
        label=ConsoleAction.CONFIRM_WITHDRAWAL.value,
        actor=act.actor,
        decision=decision.model_copy(update={"effects": effects, "case": case}),
    )


def decline_withdrawal(act: ConsoleAct, reference: str, token: str) -> ConsoleDecision:
    """The hold dismissed: nothing looked up or erased, and out of Triage (its link to the
    child gone with it); its sender told it was not carried out; recorded with who
    declined it."""
    require(act.actor, ConsoleAction.DECLINE_WITHDRAWAL)
    event_id = event_id_for(ConsoleAction.DECLINE_WITHDRAWAL, token)
    held = _live(act, reference)
    reason = Reason(
        code=ReasonCode.WITHDRAWAL_HELD,
        message=f"The withdrawal held as {reference} was declined by a coordinator: nothing "
        "was erased.",
    )
    decision = Decision(
        outcome=Outcome.REJECTED,
        reasons=[reason],
        release_hold=reference,
        purged_holds=[held],
        effects=Notices(act.settings).withdrawal_declined(held),  # its sender was promised word
    )
    return ConsoleDecision(
        event_id=event_id,
        label=ConsoleAction.DECLINE_WITHDRAWAL.value,
        actor=act.actor,
        decision=decision,
    )
