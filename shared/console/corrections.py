"""A coordinator corrects one of a case's fields, with a reason: checked by the forms' own
readers, the old value kept in the case's correction history, audited without values."""

from __future__ import annotations

from datetime import date, datetime

from shared.case import Actor, Case, CaseChange, CaseStatus, Correction, Effect
from shared.console.roles import ConsoleAction, event_id_for, refusal, require
from shared.errors import ActionRefusedError
from shared.forms.fields import FormKind, RawForm
from shared.forms.reader import MAX_LONG_ANSWER_CHARS, FieldReader, clean_answer
from shared.forms.referral import Child, read_child
from shared.identifiers import is_valid_postcode, normalise_postcode
from shared.outcome import Reason, ReasonCode
from shared.reminders import reminder_effect
from shared.settings import Settings

# What a coordinator may correct (the audit label's name -> the form's field).
CORRECTABLE = {
    "given_name": "child_given_name",
    "family_name": "child_family_name",
    "date_of_birth": "child_date_of_birth",
    "postcode": "child_postcode",
}
# The NHS number is how the register finds the child (its keyed hash is the person lookup,
# held holds and the intake's matching): a case under a wrong number is withdrawn, which
# erases it, and the child referred again with the right one.
NHS_NUMBER_REFUSAL = (
    "The NHS number cannot be corrected: it is how the register finds the child. Withdraw "
    "this case (which erases it) and have the child referred again with the right number."
)


def _uk(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _checked(case: Case, field: str, value: str, today: date) -> tuple[str, str]:
    """The held value and the corrected one, as text, read by the referral form's own rules."""
    child = case.child
    assert child is not None
    if field == "postcode":
        if case.referral is None:
            raise refusal("no-referral", "The case has no referral yet, so no postcode.", field)
        reader = FieldReader(RawForm(kind=FormKind.REFERRAL, fields={CORRECTABLE[field]: value},
                                     source="the console"), today)  # fmt: skip
        typed = reader.text("child_postcode", required=True)
        if typed is not None and not is_valid_postcode(typed):
            reader.problem(
                ReasonCode.FIELD_INVALID, "child_postcode", "The postcode is not a UK postcode."
            )
        if reader.reasons or typed is None:
            raise ActionRefusedError("invalid", reader.reasons)
        return case.referral.postcode, normalise_postcode(typed)
    held = {
        "child_given_name": child.given_name,
        "child_family_name": child.family_name,
        "child_date_of_birth": _uk(child.date_of_birth),
        "child_nhs_number": child.nhs_number,
    }
    reader = FieldReader(
        RawForm(
            kind=FormKind.REFERRAL,
            fields={**held, CORRECTABLE[field]: value},
            source="the console",
        ),
        today,
    )
    corrected = read_child(reader)
    if corrected is None:
        raise ActionRefusedError("invalid", reader.reasons)
    new = {
        "given_name": corrected.given_name,
        "family_name": corrected.family_name,
        "date_of_birth": _uk(corrected.date_of_birth),
    }[field]
    return held[CORRECTABLE[field]], new


def _with_child(case: Case, field: str, new: str) -> Case:
    """The case with the corrected value on every form that holds it (a later consent is
    matched against the referral's child, and the register shows the referral's)."""
    updated = case.model_copy(deep=True)
    if field == "postcode":
        assert updated.referral is not None
        updated.referral = updated.referral.model_copy(update={"postcode": new})
        return updated

    def corrected(child: Child) -> Child:
        if field == "date_of_birth":
            return child.model_copy(
                update={"date_of_birth": datetime.strptime(new, "%d/%m/%Y").date()}
            )
        return child.model_copy(update={field: new})

    if updated.referral is not None:
        updated.referral = updated.referral.model_copy(
            update={"child": corrected(updated.referral.child)}
        )
    if updated.consent is not None:
        updated.consent = updated.consent.model_copy(
            update={"child": corrected(updated.consent.child)}
        )
    return updated


def correct_field(
    case: Case,
    field: str,
    value: str,
    reason: str,
    *,
    actor: Actor,
    token: str,
    settings: Settings,
    now: datetime,
) -> CaseChange:
    """The change that corrects `field` of `case` to `value` (as typed), for `reason`.

    Refused (ActionRefusedError, nothing recorded) for a panel member, a tombstone, the NHS
    number, a value the forms' rules refuse, no reason, or the value already held. A new date
    of birth moves the transition day: the case's schedule is set again."""
    require(actor, ConsoleAction.CORRECT)
    event_id = event_id_for(ConsoleAction.CORRECT, token)
    if case.status is CaseStatus.WITHDRAWN or case.child is None:
        raise refusal("erased", f"Nothing is held of case {case.case_id} to correct.")
    if field == "nhs_number":
        raise refusal("nhs-number", NHS_NUMBER_REFUSAL, field)
    if field not in CORRECTABLE:
        raise refusal("field", "That field cannot be corrected here.", field)
    why = clean_answer(reason).strip()
    if not why or len(why) > MAX_LONG_ANSWER_CHARS:
        raise ActionRefusedError(
            "reason",
            [Reason(code=ReasonCode.FIELD_MISSING if not why else ReasonCode.FIELD_INVALID,
                    field="reason",
                    message="Give the reason for the correction (at most "
                    f"{MAX_LONG_ANSWER_CHARS} characters).")],
        )  # fmt: skip
    old, new = _checked(case, field, value, now.date())
    if old == new:
        raise refusal("unchanged", "The case already holds that value.", field)
    updated = _with_child(case, field, new)
    updated.corrections.append(
        Correction(field=field, old=old, new=new, reason=why, by=actor, at=now)
    )
    updated.updated_at = now
    effects: list[Effect] = []
    transition = case.transition_day(settings.transition_age)
    if updated.transition_day(settings.transition_age) != transition:
        # The reminders before the transition at 18 follow the birthday.
        effects.append(reminder_effect(updated, settings, now))
    return CaseChange(
        event_id=event_id,
        label=f"{ConsoleAction.CORRECT.value}:{field}",
        case=updated,
        effects=effects,
        actor=actor,
    )
