"""The referral form (DSR-REFERRAL-1): its model and every rule of forms.md."""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict

from shared.dates import age_on
from shared.forms.fields import FormKind, RawForm
from shared.forms.reader import FieldReader
from shared.identifiers import is_valid_postcode, normalise_postcode
from shared.outcome import Reason, ReasonCode
from shared.rating import Rating
from shared.settings import Settings, domain_matches

RISK_FACTORS = (
    "risk_untreated_mental_illness",
    "risk_previous_admission",
    "risk_escalating_behaviour",
    "risk_no_fixed_address",
    "risk_unplanned_transition",
    "risk_youth_offending",
    "risk_unstable_environment",
    "risk_looked_after_or_care_leaver",
    "risk_family_or_placement_breakdown",
    "risk_crisis_last_year",
)
SERVICES = (
    "service_camhs",
    "service_social_care",
    "service_education",
    "service_paediatrics",
    "service_keyworker",
    "service_youth_offending",
)
_OPTIONAL_TEXT = (
    "child_preferred_name",
    "child_gender",
    "child_ethnicity",
    "child_first_language",
    "child_address",
    "local_authority",
    "school_or_setting",
    "diagnosis_details",
    "needs_health",
    "needs_education",
    "needs_social_care",
    "care_plans",
    "parent_carer_name",
    "parent_carer_relationship",
    "parent_carer_phone",
    "parent_carer_email",
    "referrer_role",
    "referrer_phone",
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A UK postcode inside an address ("12 Example Road, Bromley BR1 3AA"): checked again in full
# by is_valid_postcode.
_POSTCODE_IN_TEXT = re.compile(
    r"(?<![A-Z0-9])([A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})(?![A-Z0-9])"
)


class Child(BaseModel):
    """Who a form is about: the fields both forms carry and must agree on."""

    model_config = ConfigDict(frozen=True)

    given_name: str
    family_name: str
    date_of_birth: date
    nhs_number: str


class Referral(BaseModel):
    model_config = ConfigDict(frozen=True)

    child: Child
    postcode: str
    suggested_rating: Rating
    mental_health_concern: str
    reason_for_referral: str
    diagnosis_learning_disability: bool
    diagnosis_autism: bool
    diagnosis_awaiting_assessment: bool
    interpreter_needed: bool
    has_ehcp: bool
    child_looked_after: bool
    risk_factors: tuple[str, ...]
    services: tuple[str, ...]
    services_involved: tuple[str, ...]
    details: dict[str, str]  # the optional free-text fields that were filled in
    referrer_name: str
    referrer_organisation: str  # "" for a family or young person (from_a_professional)
    referrer_email: str
    referral_date: date


def split_full_name(name: str) -> tuple[str, str | None]:
    """Given and family names from a full name under one label (`Name: Amira Okafor-Lewis`):
    `FAMILY, Given` by its comma; else the words in capitals when the others are not
    (`Amira OKAFOR-LEWIS`); else the last word is the family name. One word: given only."""
    name = " ".join(name.split())
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
        if family and given:
            return given, family
    words = name.split()
    capitals = [word for word in words if word.isupper() and len(word) > 1]
    if capitals and len(capitals) < len(words) and words[-len(capitals) :] == capitals:
        return " ".join(words[: -len(capitals)]), " ".join(capitals)
    if len(words) < 2:
        return name, None
    return " ".join(words[:-1]), words[-1]


def postcode_in(address: str) -> str | None:
    """The last UK postcode in an address, or None."""
    found = [
        match for match in _POSTCODE_IN_TEXT.findall(address.upper()) if is_valid_postcode(match)
    ]
    return found[-1] if found else None


def read_child(reader: FieldReader) -> Child | None:
    given = reader.text("child_given_name")
    family = reader.text("child_family_name")
    if given is None and family is None:
        # Another area's form may print the child's name under one label (`Name:` in the
        # child's section, `Child's name:`): split it.
        full_name = reader.text("child_full_name")
        if full_name is not None:
            given, family = split_full_name(full_name)
    if given is None:
        reader.missing("child_given_name")
    if family is None:
        reader.missing("child_family_name")
    born = reader.date_value("child_date_of_birth", required=True)
    nhs_number = reader.nhs_number()
    if given and family and born and nhs_number:
        return Child(
            given_name=given, family_name=family, date_of_birth=born, nhs_number=nhs_number
        )
    return None


def read_referrer_email(reader: FieldReader) -> str | None:
    """The referrer's email address (required), or None with the reason."""
    referrer_email = reader.text("referrer_email", required=True)
    if referrer_email is not None and not _EMAIL.match(referrer_email):
        reader.problem(
            ReasonCode.FIELD_INVALID,
            "referrer_email",
            "The referrer email on the referral form is not an email address. Please give the "
            "referrer's email address and send the form again.",
        )
        return None
    return referrer_email


def from_a_professional(referrer_email: str | None, sender: str | None, settings: Settings) -> bool:
    """Whether the referrer is a professional, of whom the form asks an organisation: the
    email came from an allowed domain (`sender`; None when not known) and the referrer the
    form names writes from one too. A family or young person - a self-referral from their
    own address, or their form sent on by a professional - has no organisation to give."""
    addresses = [a for a in (sender, referrer_email) if a]
    return all(domain_matches(a, settings.allowed_sender_domains) for a in addresses)


def validate_referral(
    form: RawForm, today: date, settings: Settings, *, sender: str | None = None
) -> tuple[Referral | None, list[Reason]]:
    """The referral, or None with every reason it cannot be accepted. `sender`: the address
    the email came from (whether the referrer must name their organisation)."""
    assert form.kind is FormKind.REFERRAL
    reader = FieldReader(form, today)
    child = read_child(reader)
    born = reader.quiet_date("child_date_of_birth")
    if born is not None and born <= today:
        age = age_on(born, today)
        if not settings.minimum_age <= age <= settings.maximum_age:
            reader.problem(
                ReasonCode.NOT_ELIGIBLE_AGE,
                "child_date_of_birth",
                f"The register in {settings.area_name} is for children and young people aged "
                f"{settings.minimum_age} to {settings.maximum_age}; by the date of birth given "
                "the child is outside that range. If the date of birth is wrong, please correct "
                "it and send the form again; otherwise the child cannot join this register.",
            )

    postcode = reader.text("child_postcode")
    if postcode is None:
        # Another area's form may have no postcode field, only `Full address, including
        # postcode`: the postcode at its end.
        address = reader.text("child_address")
        postcode = postcode_in(address) if address else None
        if postcode is None:
            reader.missing("child_postcode")
    if postcode is not None and not is_valid_postcode(postcode):
        reader.problem(
            ReasonCode.FIELD_INVALID,
            "child_postcode",
            "The child's postcode on the referral form is not a UK postcode. Please check it.",
        )
        postcode = None

    learning_disability = reader.ticked("diagnosis_learning_disability")
    autism = reader.ticked("diagnosis_autism")
    awaiting = reader.ticked("diagnosis_awaiting_assessment")
    if not (learning_disability or autism):
        reader.problem(
            ReasonCode.NOT_ELIGIBLE_DIAGNOSIS,
            "diagnosis_learning_disability",
            "The register is for children with a diagnosed learning disability and/or autism; "
            "neither is ticked on the referral form"
            + (" (awaiting assessment alone is not enough)." if awaiting else ".")
            + " Please tick the diagnosis the child has, then send the form again.",
        )

    concern = reader.text("mental_health_concern")
    if concern is None:
        reader.problem(
            ReasonCode.NOT_ELIGIBLE_NO_CONCERN,
            "mental_health_concern",
            "The referral form does not describe a mental health concern that puts the child at "
            "risk of admission to hospital. Please describe it in 'mental health concern'.",
        )

    rating = reader.choice(
        "suggested_rag",
        Rating.choices(),
        leading_word=True,
    )
    reason_for_referral = reader.text("reason_for_referral", required=True)
    referrer_name = reader.text("referrer_name", required=True)
    referrer_email = read_referrer_email(reader)
    referrer_organisation = reader.text(
        "referrer_organisation", required=from_a_professional(referrer_email, sender, settings)
    )
    referral_date = reader.date_value("referral_date", required=True)

    if reader.reasons:
        return None, reader.reasons
    assert child and postcode and rating and concern and reason_for_referral
    assert referrer_name and referrer_email and referral_date
    services_involved = reader.text("services_involved") or ""
    return (
        Referral(
            child=child,
            postcode=normalise_postcode(postcode),
            suggested_rating=Rating(rating),
            mental_health_concern=concern,
            reason_for_referral=reason_for_referral,
            diagnosis_learning_disability=learning_disability,
            diagnosis_autism=autism,
            diagnosis_awaiting_assessment=awaiting,
            interpreter_needed=reader.ticked("interpreter_needed"),
            has_ehcp=reader.ticked("has_ehcp"),
            child_looked_after=reader.ticked("child_looked_after"),
            risk_factors=tuple(field for field in RISK_FACTORS if reader.ticked(field)),
            services=tuple(field for field in SERVICES if reader.ticked(field)),
            services_involved=tuple(
                line.strip() for line in services_involved.splitlines() if line.strip()
            ),
            details={
                field: value
                for field in _OPTIONAL_TEXT
                if (value := reader.text(field)) is not None
            },
            referrer_name=referrer_name,
            referrer_organisation=referrer_organisation or "",  # blank: a family's own
            referrer_email=referrer_email.lower(),
            referral_date=referral_date,
        ),
        [],
    )
