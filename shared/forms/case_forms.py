"""The coordinators' forms about a case already on the register: the review outcome form
(DSR-REVIEW-1) and the withdrawal of consent (DSR-WITHDRAWAL-1). Their models and the rules
that need no case; the rules that do are in shared.case_updates."""

from __future__ import annotations

import re
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict

from shared.forms.fields import FormKind, RawForm
from shared.forms.reader import FieldReader
from shared.outcome import Reason, ReasonCode
from shared.rating import Rating

# After leaving hospital the rating stays Red for at least this long (forms.md).
RED_AFTER_DISCHARGE = timedelta(days=14)
_REFERENCE = re.compile(r"^(?:DSR)?-?([A-Z0-9]{8})$")


class CaseIdentity(BaseModel):
    """How a case form names its case: the reference, checked against NHS number and birth date."""

    model_config = ConfigDict(frozen=True)

    case_reference: str | None
    nhs_number: str
    date_of_birth: date


class ReviewOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    identity: CaseIdentity
    review_date: date
    rating: Rating | None  # None only when the case leaves the register
    outcome_summary: str
    actions: str | None
    next_review_date: date | None
    discharge_date: date | None
    keyworker_referred: bool  # ticked, or a keyworker named
    keyworker_name: str | None
    ctr_recommended: bool
    ctr_date: date | None
    ctr_outcome: str | None
    remove_from_register: bool
    removal_reason: str | None
    reviewer_name: str
    reviewer_role: str | None

    @property
    def red_until(self) -> date | None:
        return self.discharge_date + RED_AFTER_DISCHARGE if self.discharge_date else None


class Withdrawal(BaseModel):
    model_config = ConfigDict(frozen=True)

    identity: CaseIdentity
    withdrawn_by_name: str
    withdrawn_by_relationship: str
    withdrawal_date: date


def normalise_case_reference(text: str) -> str | None:
    """`DSR-AB12CD34` from `dsr-ab12cd34`, `DSR AB12 CD34` or `AB12CD34`; None if not one."""
    cleaned = re.sub(r"[\s]", "", text.upper())
    match = _REFERENCE.match(cleaned)
    return f"DSR-{match.group(1)}" if match else None


def _identity(reader: FieldReader) -> CaseIdentity | None:
    reference_text = reader.text("case_reference")
    reference = normalise_case_reference(reference_text) if reference_text else None
    if reference_text and reference is None:
        reader.problem(
            ReasonCode.FIELD_INVALID,
            "case_reference",
            f"The {reader.label('case_reference')} on the {reader.form.kind.display_name} is not "
            "a DSR case reference (DSR- and 8 letters or digits). Please copy it from the "
            "register's email about the case, or leave it blank.",
        )
    nhs_number = reader.nhs_number()
    born = reader.date_value("child_date_of_birth", required=True)
    if nhs_number is None or born is None or (reference_text and reference is None):
        return None
    return CaseIdentity(case_reference=reference, nhs_number=nhs_number, date_of_birth=born)


def validate_review(form: RawForm, today: date) -> tuple[ReviewOutcome | None, list[Reason]]:
    """The review outcome, or None with every reason it cannot be recorded."""
    assert form.kind is FormKind.REVIEW
    reader = FieldReader(form, today)
    identity = _identity(reader)
    review_date = reader.date_value("review_date", required=True)
    removing = reader.ticked("remove_from_register")
    discharge_date = reader.date_value("discharge_date")
    rating_text = reader.choice(
        "rag_rating",
        Rating.choices(),
        required=not removing and discharge_date is None,
        leading_word=True,
    )
    rating = Rating(rating_text) if rating_text else None
    if rating is None and discharge_date is not None and not removing:
        rating = Rating.RED  # leaving hospital: Red, whatever the case was
    summary = reader.text("outcome_summary", required=True)
    actions = reader.text("actions")
    next_review = reader.date_value("next_review_date", not_future=False)
    if next_review is not None and next_review < today:
        reader.problem(
            ReasonCode.DATE_INVALID,
            "next_review_date",
            f"The {reader.label('next_review_date')} on the review outcome form is in the past. "
            "Please give a future date, or leave it blank to follow the rating's interval.",
        )
    if discharge_date and review_date and discharge_date > review_date:
        reader.problem(
            ReasonCode.DATE_INVALID,
            "discharge_date",
            f"The {reader.label('discharge_date')} on the review outcome form is after the date of "
            "the review. Please record a discharge once it has happened.",
        )
    red_until = discharge_date + RED_AFTER_DISCHARGE if discharge_date else None
    if red_until and review_date and review_date < red_until and rating not in (None, Rating.RED):
        reader.problem(
            ReasonCode.FIELD_INVALID,
            "rag_rating",
            "After a discharge from hospital the rating must stay Red for at least 14 days "
            f"(until {red_until:%d/%m/%Y}). Please rate the case Red, or leave the rating blank.",
        )
    removal_reason = reader.text("removal_reason", required=removing)
    ctr_date = reader.date_value("ctr_date")
    ctr_outcome = reader.text("ctr_outcome")
    keyworker_name = reader.text("keyworker_name")
    reviewer = reader.text("reviewer_name", required=True)
    if reader.reasons:
        return None, reader.reasons
    assert identity and review_date and summary and reviewer
    return (
        ReviewOutcome(
            identity=identity,
            review_date=review_date,
            rating=rating,
            outcome_summary=summary,
            actions=actions,
            next_review_date=next_review,
            discharge_date=discharge_date,
            # A keyworker named is a keyworker referred to, ticked or not.
            keyworker_referred=reader.ticked("keyworker_referred") or keyworker_name is not None,
            keyworker_name=keyworker_name,
            ctr_recommended=reader.ticked("ctr_recommended"),
            ctr_date=ctr_date,
            ctr_outcome=ctr_outcome,
            remove_from_register=removing,
            removal_reason=removal_reason,
            reviewer_name=reviewer,
            reviewer_role=reader.text("reviewer_role"),
        ),
        [],
    )


def validate_withdrawal(form: RawForm, today: date) -> tuple[Withdrawal | None, list[Reason]]:
    """The withdrawal, or None with every reason it cannot be acted on."""
    assert form.kind is FormKind.WITHDRAWAL
    reader = FieldReader(form, today)
    identity = _identity(reader)
    name = reader.text("withdrawn_by_name", required=True)
    relationship = reader.text("withdrawn_by_relationship", required=True)
    withdrawal_date = reader.date_value("withdrawal_date", required=True)
    if reader.reasons:
        return None, reader.reasons
    assert identity and name and relationship and withdrawal_date
    # The optional reason is read by nobody: it would be erased with everything else.
    return (
        Withdrawal(
            identity=identity,
            withdrawn_by_name=name,
            withdrawn_by_relationship=relationship,
            withdrawal_date=withdrawal_date,
        ),
        [],
    )
