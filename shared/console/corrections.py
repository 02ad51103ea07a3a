"""A coordinator corrects one of a case's fields, with a reason: the child's names, date of
birth, address, postcode and gender, and the referrer's contact details - each checked by the
referral form's own readers, the old value kept in the case's correction history, audited
without values. Never the NHS number (NHS_NUMBER_REFUSAL)."""

from __future__ import annotations

from datetime import date, datetime

from shared.case import Actor, Case, CaseChange, CaseStatus, Correction, Effect
from shared.console.roles import ConsoleAction, event_id_for, refusal, require
from shared.errors import ActionRefusedError
from shared.forms.fields import FormKind, RawForm
from shared.forms.reader import MAX_LONG_ANSWER_CHARS, FieldReader, clean_answer
from shared.forms.referral import (
    Child,
    Referral,
    from_a_professional,
    read_child,
    read_referrer_email,
)
from shared.identifiers import is_valid_postcode, normalise_postcode
from shared.outcome import Reason, ReasonCode
from shared.reminders import reminder_effect
from shared.settings import Settings

# What a coordinator may correct (the audit label's name -> the referral form's field).
CORRECTABLE = {
    "given_name": "child_given_name",
    "family_name": "child_family_name",
    "date_of_birth": "child_date_of_birth",
    "postcode": "child_postcode",
    "address": "child_address",
    "gender": "child_gender",
    "referrer_name": "referrer_name",
    "referrer_organisation": "referrer_organisation",
    "referrer_email": "referrer_email",
    "referrer_phone": "referrer_phone",
}
# The child as both forms hold them; the rest is the referral's alone.
_CHILD_FIELDS = ("given_name", "family_name", "date_of_birth")
# The referral's optional answers, kept in its `details` (left blank: no longer held).
_DETAILS = ("address", "gender", "referrer_phone")
# The NHS number is how the register finds the child (its keyed hash is the person lookup,
# held holds and the intake's matching): a case under a wrong number is withdrawn, which
# erases it, and the child referred again with the right one.
NHS_NUMBER_REFUSAL = (
    "The NHS number cannot be corrected: it is how the register finds the child. Withdraw "
    "this case (which erases it) and have the child referred again with the right number."
)


def _uk(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _held(referral: Referral, field: str) -> str:
    """The referral's value of one of its own fields, as text ("" when not given)."""
    if field in _DETAILS:
        return referral.details.get(CORRECTABLE[field], "")
    return str(getattr(referral, field))


def _checked_referral(
    case: Case, field: str, value: str, today: date, settings: Settings
) -> tuple[str, str]:
    """The held value and the corrected one of a field of the referral alone, read as the
    referral form reads it: required where the form requires it, else it may be cleared."""
    referral = case.referral
    if referral is None:
        raise refusal("no-referral", "The case has no referral yet, so nothing of it to "
                      "correct.", field)  # fmt: skip
    name = CORRECTABLE[field]
    reader = FieldReader(
        RawForm(kind=FormKind.REFERRAL, fields={name: value}, source="the console"), today
    )
    if field == "postcode":
        typed = reader.text(name, required=True)
        if typed is not None and not is_valid_postcode(typed):
            reader.problem(ReasonCode.FIELD_INVALID, name, "The postcode is not a UK postcode.")
        typed = normalise_postcode(typed) if typed else typed
    elif field == "referrer_email":
        typed = read_referrer_email(reader)
        typed = typed.lower() if typed else typed
    elif field == "referrer_organisation":
        # Required of a professional only, as on the form (judged by the referrer's address).
        professional = from_a_professional(referral.referrer_email, None, settings)
        typed = reader.text(name, required=professional)
    else:
        typed = reader.text(name, required=field == "referrer_name")
    if reader.reasons:
        raise ActionRefusedError("invalid", reader.reasons)
    return _held(referral, field), typed or ""


def _checked(
    case: Case, field: str, value: str, today: date, settings: Settings
) -> tuple[str, str]:
    """The held value and the corrected one, as text, read by the referral form's own rules."""
    child = case.child
    assert child is not None
    if field not in _CHILD_FIELDS:
        return _checked_referral(case, field, value, today, settings)
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
    if field not in _CHILD_FIELDS:
        assert updated.referral is not None
        if field in _DETAILS:
            details = {**updated.referral.details, CORRECTABLE[field]: new}
            if not new:
                del details[CORRECTABLE[field]]
            updated.referral = updated.referral.model_copy(update={"details": details})
        else:
            updated.referral = updated.referral.model_copy(update={field: new})
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
    old, new = _checked(case, field, value, now.date(), settings)
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
