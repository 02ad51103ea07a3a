"""The consent form (DSR-CONSENT-1): who may consent, and how it must be recorded."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from shared.dates import age_on
from shared.forms.fields import FormKind, RawForm
from shared.forms.reader import FieldReader, label
from shared.forms.referral import Child, read_child
from shared.outcome import Reason, ReasonCode
from templates.forms.layout import ATTESTATION_FIELDS

SHARING = (
    "share_with_health",
    "share_with_education",
    "share_with_social_care",
    "share_with_keyworker",
    "share_with_positive_support",
)
SELF_CONSENT_MINIMUM_AGE = 16


class ConsentBasis(StrEnum):
    SELF = "self"
    PARENTAL_RESPONSIBILITY = "parental_responsibility"
    BEST_INTEREST = "best_interest"


_BASIS_WORDS = {
    "self": ConsentBasis.SELF,
    "young_person": ConsentBasis.SELF,
    "parental_responsibility": ConsentBasis.PARENTAL_RESPONSIBILITY,
    "parent": ConsentBasis.PARENTAL_RESPONSIBILITY,
    "parent_carer": ConsentBasis.PARENTAL_RESPONSIBILITY,
    "pr": ConsentBasis.PARENTAL_RESPONSIBILITY,
    "person_with_parental_responsibility": ConsentBasis.PARENTAL_RESPONSIBILITY,
    "young_person_self": ConsentBasis.SELF,
    "self_consent": ConsentBasis.SELF,
    "bid": ConsentBasis.BEST_INTEREST,
    "best_interests_decision": ConsentBasis.BEST_INTEREST,
    "best_interest": ConsentBasis.BEST_INTEREST,
    "best_interests": ConsentBasis.BEST_INTEREST,
    "best_interest_decision": ConsentBasis.BEST_INTEREST,
}


class ConsentMethod(StrEnum):
    SIGNATURE = "signature"
    VERBAL = "verbal"
    ELECTRONIC = "electronic"


_METHOD_WORDS = {
    "signature": ConsentMethod.SIGNATURE,
    "signed": ConsentMethod.SIGNATURE,
    "wet_signature": ConsentMethod.SIGNATURE,
    "written": ConsentMethod.SIGNATURE,
    "in_writing": ConsentMethod.SIGNATURE,
    "verbal": ConsentMethod.VERBAL,
    "verbally": ConsentMethod.VERBAL,
    "oral": ConsentMethod.VERBAL,
    "spoken": ConsentMethod.VERBAL,
    "electronic": ConsentMethod.ELECTRONIC,
    "electronically": ConsentMethod.ELECTRONIC,
    "electronic_signature": ConsentMethod.ELECTRONIC,
    "e_signature": ConsentMethod.ELECTRONIC,
    "esignature": ConsentMethod.ELECTRONIC,
    "email": ConsentMethod.ELECTRONIC,
    "online": ConsentMethod.ELECTRONIC,
}


class Consent(BaseModel):
    model_config = ConfigDict(frozen=True)

    child: Child
    basis: ConsentBasis
    capacity_confirmed: bool
    consenting_person_name: str | None
    consenting_person_relationship: str | None
    best_interest_decision_maker: str | None
    best_interest_decision_role: str | None
    best_interest_reason: str | None
    fact_sheet_given: bool
    share_with: tuple[str, ...]
    consent_date: date
    # The attestation: who gave consent, how, and when it was recorded. None on older copies
    # of the form, which have no such block.
    consent_given_by: str | None = None
    consent_method: ConsentMethod | None = None
    consent_attested_date: date | None = None


_REQUIRED_FOR_BASIS = {
    ConsentBasis.SELF: ("consenting_person_name",),
    ConsentBasis.PARENTAL_RESPONSIBILITY: (
        "consenting_person_name",
        "consenting_person_relationship",
    ),
    ConsentBasis.BEST_INTEREST: (
        "best_interest_decision_maker",
        "best_interest_decision_role",
        "best_interest_reason",
    ),
}


def validate_consent(form: RawForm, today: date) -> tuple[Consent | None, list[Reason]]:
    assert form.kind is FormKind.CONSENT
    reader = FieldReader(form, today)
    child = read_child(reader)
    basis_text = reader.choice(
        "consent_basis", {key: str(value) for key, value in _BASIS_WORDS.items()}
    )
    consent_date = reader.date_value("consent_date", required=True)
    # A form that carries the attestation block (any of its fields, filled or not: the
    # current form always has all three) must complete it; older copies without it need not.
    attested = any(field in form.fields for field in ATTESTATION_FIELDS)
    given_by = reader.text("consent_given_by", required=attested)
    method_text = reader.choice(
        "consent_method",
        {key: str(value) for key, value in _METHOD_WORDS.items()},
        required=attested,
        leading_word=True,
    )
    attested_date = reader.date_value("consent_attested_date", required=attested)
    capacity = reader.ticked("capacity_confirmed")
    fact_sheet = reader.ticked("fact_sheet_given")
    basis = ConsentBasis(basis_text) if basis_text else None

    def invalid(field: str, message: str) -> None:
        reader.problem(ReasonCode.CONSENT_INVALID, field, message)

    if basis is not None:
        for field in _REQUIRED_FOR_BASIS[basis]:
            if reader.text(field, required=True) is None:
                invalid(
                    field,
                    f"Consent given as '{basis.value.replace('_', ' ')}' must record "
                    f"{reader.label(field)}. Please complete it and send the form again.",
                )
        if basis is ConsentBasis.SELF:
            if not capacity:
                invalid(
                    "capacity_confirmed",
                    "A young person consenting for themselves must be confirmed to have capacity: "
                    "tick 'capacity confirmed', or have a person with parental responsibility consent.",
                )
            born = reader.quiet_date("child_date_of_birth")
            if (
                born is not None
                and consent_date is not None
                and age_on(born, consent_date) < SELF_CONSENT_MINIMUM_AGE
            ):
                invalid(
                    "consent_basis",
                    "A young person can consent for themselves only from 16. For a child under 16 "
                    "a person with parental responsibility must consent (or record a best "
                    "interest decision).",
                )
        if basis is not ConsentBasis.BEST_INTEREST and not fact_sheet:
            invalid(
                "fact_sheet_given",
                "Consent is informed only when the DSR fact sheet has been given: please give it "
                "and tick 'fact sheet given'.",
            )

    if reader.reasons:
        return None, reader.reasons
    assert child and basis and consent_date
    return (
        Consent(
            child=child,
            basis=basis,
            capacity_confirmed=capacity,
            consenting_person_name=reader.text("consenting_person_name"),
            consenting_person_relationship=reader.text("consenting_person_relationship"),
            best_interest_decision_maker=reader.text("best_interest_decision_maker"),
            best_interest_decision_role=reader.text("best_interest_decision_role"),
            best_interest_reason=reader.text("best_interest_reason"),
            fact_sheet_given=fact_sheet,
            share_with=tuple(field for field in SHARING if reader.ticked(field)),
            consent_date=consent_date,
            consent_given_by=given_by,
            consent_method=ConsentMethod(method_text) if method_text else None,
            consent_attested_date=attested_date,
        ),
        [],
    )


def _name_key(name: str) -> str:
    return re.sub(r"[\s\-]", "", name).casefold()


def identity_mismatches(referral_child: Child, consent_child: Child) -> list[Reason]:
    """Where the consent form is not about the child on the referral (no values echoed).
    Names match ignoring case, spaces and hyphens; a full name split differently on the two
    forms (`Name: Leo van Dijk` on one, `van Dijk` as the family name on the other) matches
    when the whole names do."""
    whole_name_matches = _name_key(referral_child.given_name + referral_child.family_name) == (
        _name_key(consent_child.given_name + consent_child.family_name)
    )
    checks = [
        ("child_nhs_number", referral_child.nhs_number == consent_child.nhs_number),
        ("child_date_of_birth", referral_child.date_of_birth == consent_child.date_of_birth),
        (
            "child_given_name",
            whole_name_matches
            or _name_key(referral_child.given_name) == _name_key(consent_child.given_name),
        ),
        (
            "child_family_name",
            whole_name_matches
            or _name_key(referral_child.family_name) == _name_key(consent_child.family_name),
        ),
    ]
    return [
        Reason(
            code=ReasonCode.IDENTITY_MISMATCH,
            field=field,
            form=FormKind.CONSENT.value,
            message=f"The {label(field, FormKind.CONSENT.value)} on the consent form does not match the referral form. "
            "Both forms must be about the same child: please check them and send them again.",
        )
        for field, matches in checks
        if not matches
    ]
