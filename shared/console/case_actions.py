"""Recording a review, closing a case and withdrawing consent from the console: the web
form's fields become the RawForm the PDF reader would have produced, checked by the same
validation and applied by the same CaseFormDecider as an emailed DSR-REVIEW-1 or
DSR-WITHDRAWAL-1, so the same rules hold and the same effects follow. Pure: the register
and the hasher come with the act (shared.console.act)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from shared.case import Actor, Case, Decision, EmailEffect, EmailPurpose
from shared.case_updates import CaseFormDecider
from shared.console.act import ConsoleAct
from shared.console.roles import (
    ROLE_NAMES,
    ConsoleAction,
    ConsoleDecision,
    event_id_for,
    refusal,
    require,
)
from shared.errors import ActionRefusedError
from shared.forms.case_forms import validate_review, validate_withdrawal
from shared.forms.fields import FormKind, RawForm
from shared.mail import InboundMail, MailVerdicts
from shared.outcome import Outcome
from templates.forms.layout import REVIEW, WITHDRAWAL

_IDENTITY = ("case_reference", "child_nhs_number", "child_date_of_birth")
_REVIEWER = ("reviewer_name", "reviewer_role")
# What the console's forms may fill in: the printed forms' own fields.
REVIEW_FIELDS = frozenset(REVIEW.field_names()) - {*_IDENTITY, *_REVIEWER}
# A withdrawal erases the child's case for good: the NHS number and date of birth are typed
# again, as on the paper form, and must be the case's.
WITHDRAWAL_FIELDS = frozenset(WITHDRAWAL.field_names()) - {"case_reference"}


def _uk(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _as_sent_by(actor: Actor, event_id: str) -> InboundMail:
    """The actor as the sender the decider answers: nobody outside the page is answered."""
    return InboundMail(sender=actor.email, header_message_id=event_id, verdicts=MailVerdicts())


def _held(case: Case | None, case_id: str) -> Case:
    if case is None or case.child is None:
        raise refusal("no-case", f"Nothing is held of case {case_id} to act on.")
    return case


def _accepted(decision: Decision, actor: Actor, event_id: str, done: Outcome) -> Decision:
    """The decision as the console records it, or the refusal its reasons make. The actor
    sees the outcome on the page: no email 'answering' an email they never sent. The case's
    submissions stay its emails."""
    if decision.outcome is not done:
        raise ActionRefusedError(decision.outcome.value, decision.reasons)
    effects = [
        effect
        for effect in decision.effects
        if not (
            isinstance(effect, EmailEffect)
            and effect.purpose is EmailPurpose.ACKNOWLEDGEMENT
            and effect.to == (actor.email,)
        )
    ]
    case = decision.case
    if case is not None:
        case = case.model_copy(
            update={"submissions": [s for s in case.submissions if s != event_id]}
        )
    return decision.model_copy(update={"effects": effects, "case": case})


def _form(typed: Mapping[str, str], allowed: frozenset[str]) -> dict[str, str]:
    """The typed fields the printed form has; anything else a request carries is ignored."""
    return {name: value for name, value in typed.items() if name in allowed}


def _decider(act: ConsoleAct) -> CaseFormDecider:
    return CaseFormDecider(act.settings, act.now, act.register, act.hasher)


def record_review(
    act: ConsoleAct,
    case: Case | None,
    case_id: str,
    typed: Mapping[str, str],
    token: str,
    action: ConsoleAction = ConsoleAction.REVIEW,
) -> ConsoleDecision:
    """A panel review of `case` from the console's review form (DSR-REVIEW-1's fields but the
    case's identity, which the page's case gives, and the reviewer, who is the actor)."""
    actor = act.actor
    require(actor, action)
    event_id = event_id_for(action, token)
    held = _held(case, case_id)
    child = held.child
    assert child is not None
    fields = {
        **_form(typed, REVIEW_FIELDS),
        "case_reference": held.case_id,
        "child_nhs_number": child.nhs_number,
        "child_date_of_birth": _uk(child.date_of_birth),
        "reviewer_name": actor.email,
        "reviewer_role": ROLE_NAMES[actor.role],
    }
    form = RawForm(kind=FormKind.REVIEW, fields=fields, source="the console's review form")
    review, problems = validate_review(form, act.now.date())
    if review is None:
        raise ActionRefusedError("invalid", problems)
    decision = _decider(act).review(_as_sent_by(actor, event_id), event_id, review)
    return ConsoleDecision(
        event_id=event_id,
        label=action.value,
        actor=actor,
        decision=_accepted(decision, actor, event_id, Outcome.UPDATED),
    )


def close_case(
    act: ConsoleAct,
    case: Case | None,
    case_id: str,
    removal_reason: str,
    token: str,
    outcome_summary: str = "Removed from the register by the panel.",
) -> ConsoleDecision:
    """The panel's removal of a case from the register, with its reason: a review outcome
    with 'remove from the register' ticked, as on the form (closed today, reminders end)."""
    typed = {
        "review_date": _uk(act.now.date()),
        "outcome_summary": outcome_summary,
        "remove_from_register": "Yes",
        "removal_reason": removal_reason,
    }
    return record_review(act, case, case_id, typed, token, ConsoleAction.CLOSE)


def withdraw_consent(
    act: ConsoleAct,
    case: Case | None,
    case_id: str,
    typed: Mapping[str, str],
    token: str,
) -> ConsoleDecision:
    """Consent withdrawn (a family asking by phone): DSR-WITHDRAWAL-1's fields, the NHS
    number and date of birth typed and matched to the case. The same erasure as the emailed
    form: the tombstone, the person lookup and the child's held withdrawals gone, and an
    EraseEffect for its stored emails, outbox and schedule."""
    actor = act.actor
    require(actor, ConsoleAction.WITHDRAW)
    event_id = event_id_for(ConsoleAction.WITHDRAW, token)
    _held(case, case_id)  # a tombstone holds nothing to withdraw
    fields = {**_form(typed, WITHDRAWAL_FIELDS), "case_reference": case_id}
    form = RawForm(kind=FormKind.WITHDRAWAL, fields=fields, source="the console's withdrawal form")
    withdrawal, problems = validate_withdrawal(form, act.now.date())
    if withdrawal is None:
        raise ActionRefusedError("invalid", problems)
    decision = _decider(act).withdraw(_as_sent_by(actor, event_id), event_id, withdrawal)
    return ConsoleDecision(
        event_id=event_id,
        label=ConsoleAction.WITHDRAW.value,
        actor=actor,
        decision=_accepted(decision, actor, event_id, Outcome.WITHDRAWN),
    )
