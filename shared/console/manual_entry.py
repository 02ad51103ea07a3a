"""Entering a form by hand from a scan: a coordinator types the referral's or consent's
fields for a file of an email that could not be read (FORM_UNREADABLE, sent to them "for
manual entry"). The typed fields become a RawForm of that kind and the email is decided
again with it in place of the file (IntakeDecider.decide_entered): the outcome, the case
and the sender's answer are what the emailed form would have had.

Keyed `<message id>.entry`: entered once per email (all its unreadable forms together); the
case lists it, so its erasure finds the email and the scan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.case import Submission
from shared.console.act import ConsoleAct
from shared.console.roles import (
    ENTERED,
    ConsoleAction,
    ConsoleDecision,
    redecision_id,
    refusal,
    require,
)
from shared.console.waiting import awaits_verification, email_item
from shared.errors import ActionRefusedError
from shared.forms.fields import FormKind, RawForm
from shared.forms.found import find_forms
from shared.mail import InboundMail
from shared.outcome import Outcome
from templates.forms.layout import CONSENT, REFERRAL

_FIELDS = {
    FormKind.REFERRAL: frozenset(REFERRAL.field_names()),
    FormKind.CONSENT: frozenset(CONSENT.field_names()),
}


@dataclass(frozen=True)
class EnteredForm:
    """One form as a coordinator typed it from the email's file at `position`."""

    position: int
    kind: FormKind
    fields: Mapping[str, str]


def enter_by_hand(
    act: ConsoleAct,
    mail: InboundMail,
    message_id: str,
    outcome: Submission | None,
    entered: list[EnteredForm],
    *,
    send_rejection: bool = False,
) -> ConsoleDecision:
    """The email decided again with `entered` in place of its unreadable files.

    `outcome` is the email's standing outcome (its release's, when it was released). A
    rejection is recorded, and the sender told, only with `send_rejection` (the coordinator
    has checked the form says so): otherwise its reasons come back for the typing to be
    checked, and nothing is recorded."""
    require(act.actor, ConsoleAction.ENTER_BY_HAND)
    if outcome is None:
        raise refusal("undecided", "That email has no outcome yet: wait for it to be read.")
    if outcome.outcome is Outcome.QUARANTINED:
        raise refusal("quarantined", "That email is in quarantine: release it first.")
    if awaits_verification(outcome):
        raise refusal("self-referral", "That self-referral is not verified: verify it first.")
    if not entered:
        raise refusal("nothing", "No form was entered.")
    found = find_forms(mail, act.settings)
    readable = {form.kind for form in [*found.referrals, *found.consents]}
    kinds = [form.kind for form in entered]
    for form in entered:
        if form.kind not in _FIELDS:
            raise refusal("kind", "Only a referral or a consent form is entered by hand here.")
        if form.position not in found.unreadable:
            raise refusal("position", "That file of the email was read: nothing to enter.")
        if form.kind in readable or kinds.count(form.kind) > 1:
            raise refusal(
                "kind-held",
                f"The email holds a {form.kind.display_name} already: one of each is entered.",
            )
    sources = {attachment.position: attachment.source for attachment in mail.attachments}
    forms = [
        RawForm(
            kind=form.kind,
            fields={
                name: value for name, value in form.fields.items() if name in _FIELDS[form.kind]
            },
            source=f"{sources[form.position]}, entered by hand",
        )
        for form in entered
    ]
    event_id = redecision_id(message_id, ENTERED)
    decision = act.intake_decider().decide_entered(mail, event_id, forms)
    if decision.outcome is Outcome.REJECTED and not send_rejection:
        reasons = [r for part in [decision, *decision.parts] for r in part.reasons]
        raise ActionRefusedError("rejected", reasons)
    return ConsoleDecision(
        event_id=event_id,
        label=ConsoleAction.ENTER_BY_HAND.value,
        actor=act.actor,
        decision=decision,
        resolves=email_item(outcome.message_id),
    )
