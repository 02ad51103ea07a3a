"""What each DSR form holds: sections, fields (named exactly as in docs/forms.md), labels and
guidance. The generator draws from this, and tests fill forms from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.rating import Rating

# text: one line; long: several lines; check: a tick box; choice: a drop-down (a PDF combo
# box); radio: a group of round buttons, one chosen. A choice's or radio's options are
# (stored value, text shown): the value is what the reader maps (see shared/forms).
FieldType = Literal["text", "long", "check", "choice", "radio"]

REQUIRED_MARK = "*"
REQUIRED_LEGEND = "* required"


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    type: FieldType = "text"
    hint: str = ""
    required: bool = False  # printed with a `*`: the form is refused without it
    options: tuple[tuple[str, str], ...] = ()

    @property
    def printed(self) -> str:
        """The label as printed: `Family name *` when required."""
        return f"{self.label} {REQUIRED_MARK}" if self.required else self.label


@dataclass(frozen=True)
class Section:
    title: str
    guidance: str
    fields: tuple[FormField, ...]


@dataclass(frozen=True)
class FormLayout:
    form_id: str
    filename: str
    title: str
    introduction: str
    sections: tuple[Section, ...]

    def field_names(self) -> list[str]:
        return [field.name for section in self.sections for field in section.fields]

    def fields(self) -> list[FormField]:
        return [field for section in self.sections for field in section.fields]


def _t(name: str, label: str, hint: str = "", *, required: bool = False) -> FormField:
    return FormField(name, label, "text", hint, required)


def _l(name: str, label: str, hint: str = "", *, required: bool = False) -> FormField:
    return FormField(name, label, "long", hint, required)


def _c(name: str, label: str) -> FormField:
    return FormField(name, label, "check")


def _choice(
    name: str,
    label: str,
    options: tuple[tuple[str, str], ...],
    hint: str = "",
    *,
    required: bool = False,
) -> FormField:
    return FormField(name, label, "choice", hint, required, options)


def _radio(
    name: str,
    label: str,
    options: tuple[tuple[str, str], ...],
    hint: str = "",
    *,
    required: bool = False,
) -> FormField:
    return FormField(name, label, "radio", hint, required, options)


# The ratings as a drop-down stores them: the rating's name (shared.rating reads it).
RATINGS = tuple((rating.value, rating.value) for rating in Rating)
# The consent bases: stored as the canonical value, shown in words (shared.forms.consent).
CONSENT_BASES = (
    ("self", "Self"),
    ("parental_responsibility", "Parental responsibility"),
    ("best_interest", "Best interest"),
)
CONSENT_METHODS = (
    ("signature", "Signature"),
    ("verbal", "Verbal"),
    ("electronic", "Electronic"),
)
# The attestation block of the consent form: a consent form carrying any of these fields
# (filled or not) must complete all three; older copies without the block need none.
ATTESTATION_FIELDS = ("consent_given_by", "consent_method", "consent_attested_date")

_CHILD = (
    _t("child_given_name", "Given name(s)", "legal name", required=True),
    _t("child_family_name", "Family name", "legal name", required=True),
    _t("child_date_of_birth", "Date of birth", "DD/MM/YYYY", required=True),
    _t("child_nhs_number", "NHS number", "10 digits, e.g. 943 476 5919", required=True),
)

REFERRAL = FormLayout(
    form_id="DSR-REFERRAL-1",
    filename="dsr-referral-form.pdf",
    title="Dynamic Support Register - Referral form",
    introduction=(
        "For children and young people with a learning disability and/or autism who are at risk of "
        "admission to a mental health hospital. Complete every section, save the form and email it "
        "with the consent form (DSR-CONSENT-1) to the DSR inbox."
    ),
    sections=(
        Section(
            "1. The child or young person",
            "Use the legal names and the NHS number from the child's records. Dates are day first.",
            (
                *_CHILD,
                _t("child_preferred_name", "Preferred name", "optional"),
                _t("child_gender", "Gender"),
                _t("child_ethnicity", "Ethnicity"),
                _t("child_first_language", "First language"),
                _c("interpreter_needed", "An interpreter is needed"),
                _l("child_address", "Address"),
                _t("child_postcode", "Postcode", "UK postcode", required=True),
                _t("local_authority", "Local authority"),
                _t("school_or_setting", "School or education setting"),
                _c("has_ehcp", "Has an Education, Health and Care plan (EHCP)"),
                _c("child_looked_after", "Child looked after"),
            ),
        ),
        Section(
            "2. Diagnosis",
            "The register is for a diagnosed learning disability and/or autism: tick at least one. "
            "Awaiting assessment alone is not eligible.",
            (
                _c("diagnosis_learning_disability", "Diagnosed learning disability"),
                _c("diagnosis_autism", "Diagnosed autism (ASC)"),
                _c("diagnosis_awaiting_assessment", "Awaiting assessment"),
                _l("diagnosis_details", "Diagnosis details"),
            ),
        ),
        Section(
            "3. Risk of admission",
            "Describe the mental health concern that places the child at risk of admission, tick "
            "every risk factor that applies, and suggest a RAG rating: Blue (inpatient now), Red "
            "(immediate risk, crisis), Amber (risk without urgent intervention), Green (risks "
            "managed in the community).",
            (
                _l("mental_health_concern", "Mental health concern", required=True),
                _c("risk_untreated_mental_illness", "Unstable, untreated mental illness"),
                _c("risk_previous_admission", "Previous admission"),
                _c("risk_escalating_behaviour", "Escalating behaviour that challenges"),
                _c("risk_no_fixed_address", "No fixed address"),
                _c("risk_unplanned_transition", "No effectively planned transition"),
                _c("risk_youth_offending", "Receiving Youth Offending Services"),
                _c("risk_unstable_environment", "Unstable environment or changing staff team"),
                _c(
                    "risk_looked_after_or_care_leaver",
                    "Looked after or care leaver with reduced support",
                ),
                _c("risk_family_or_placement_breakdown", "Risk of family or placement breakdown"),
                _c(
                    "risk_crisis_last_year",
                    "Unplanned admission or crisis-team care in the last year",
                ),
                _choice(
                    "suggested_rag",
                    "Suggested RAG rating",
                    RATINGS,
                    "Blue, Red, Amber or Green",
                    required=True,
                ),
                _l("reason_for_referral", "Reason for referral", required=True),
            ),
        ),
        Section(
            "4. Services and needs",
            "List the services involved, one per line, and describe health, education and social "
            "care needs and any specialist care plans (EHC plan, PBS plan, care plan).",
            (
                _l("services_involved", "Services involved (one per line)"),
                _c("service_camhs", "CAMHS"),
                _c("service_social_care", "Social care"),
                _c("service_education", "Education"),
                _c("service_paediatrics", "Paediatrics"),
                _c("service_keyworker", "Keyworker"),
                _c("service_youth_offending", "Youth offending"),
                _l("needs_health", "Health needs"),
                _l("needs_education", "Education needs"),
                _l("needs_social_care", "Social care needs"),
                _l("care_plans", "Specialist care plans"),
            ),
        ),
        Section(
            "5. Parent or carer",
            "Optional: the main parent or carer.",
            (
                _t("parent_carer_name", "Name"),
                _t("parent_carer_relationship", "Relationship"),
                _t("parent_carer_phone", "Phone"),
                _t("parent_carer_email", "Email"),
            ),
        ),
        Section(
            "6. Referrer",
            "Name and email address are required, and a professional's organisation; we reply "
            "to the address the form is emailed from.",
            (
                _t("referrer_name", "Name", required=True),
                _t("referrer_role", "Role"),
                # Required of a professional only (shared.forms.referral.from_a_professional).
                _t(
                    "referrer_organisation",
                    "Organisation",
                    "leave blank if you are the child's family or the young person",
                ),
                _t("referrer_email", "Email", required=True),
                _t("referrer_phone", "Phone"),
                _t(
                    "referral_date",
                    "Referral date",
                    "DD/MM/YYYY, not in the future",
                    required=True,
                ),
            ),
        ),
    ),
)

CONSENT = FormLayout(
    form_id="DSR-CONSENT-1",
    filename="dsr-consent-form.pdf",
    title="Dynamic Support Register - Consent form",
    introduction=(
        "Nobody is added to the register without consent. Give the DSR fact sheet first so consent "
        "is informed. Consent can be withdrawn at any time, and not consenting does not affect "
        "the support the child or young person receives now."
    ),
    sections=(
        Section(
            "1. The child or young person",
            "These must match the referral form exactly (NHS number and date of birth).",
            _CHILD,
        ),
        Section(
            "2. Who consents",
            "Choose the basis: Self (16 or over, with capacity: tick capacity confirmed), "
            "Parental responsibility (under 16 or lacking capacity: name and relationship of the "
            "person with parental responsibility) or Best interest (no consent but significant "
            "concern: complete section 3 instead).",
            (
                _choice(
                    "consent_basis",
                    "Consent basis",
                    CONSENT_BASES,
                    "Self / Parental responsibility / Best interest",
                    required=True,
                ),
                _c("capacity_confirmed", "The young person has capacity to consent"),
                _t("consenting_person_name", "Name of the person consenting"),
                _t("consenting_person_relationship", "Relationship to the child"),
            ),
        ),
        Section(
            "3. Best interest decision",
            "Only when the basis is Best interest: who made the decision, their role and why.",
            (
                _t("best_interest_decision_maker", "Decision maker"),
                _t("best_interest_decision_role", "Decision maker's role"),
                _l("best_interest_reason", "Reason for the decision"),
            ),
        ),
        Section(
            "4. Information sharing",
            "The DSR fact sheet must have been given (except for a best interest decision). Tick the "
            "agencies that may see the record.",
            (
                _c("fact_sheet_given", "The DSR fact sheet has been given and explained"),
                _c("share_with_health", "Health"),
                _c("share_with_education", "Education"),
                _c("share_with_social_care", "Social care"),
                _c("share_with_keyworker", "Keyworker service"),
                _c("share_with_positive_support", "Positive Support Group"),
                _t(
                    "consent_date",
                    "Date of consent",
                    "DD/MM/YYYY, not in the future",
                    required=True,
                ),
            ),
        ),
        Section(
            "5. Record of consent",
            "Who gave consent (for a best interest decision: the decision maker), how it was "
            "given, and the date this record was made.",
            (
                _t("consent_given_by", "Consent given by", required=True),
                _radio(
                    "consent_method",
                    "How consent was given",
                    CONSENT_METHODS,
                    required=True,
                ),
                _t(
                    "consent_attested_date",
                    "Date recorded",
                    "DD/MM/YYYY, not in the future",
                    required=True,
                ),
            ),
        ),
    ),
)

_CASE = (
    _t("case_reference", "Case reference", "DSR-XXXXXXXX, from the register's emails"),
    _t("child_nhs_number", "NHS number", "10 digits", required=True),
    _t("child_date_of_birth", "Date of birth", "DD/MM/YYYY", required=True),
)

REVIEW = FormLayout(
    form_id="DSR-REVIEW-1",
    filename="dsr-review-outcome-form.pdf",
    title="Dynamic Support Register - Review outcome form",
    introduction=(
        "For DSR coordinators and panel members: record the outcome of a multi-agency panel review "
        "and email this form to the DSR inbox from a coordinator or panel (nhs.net) address. The "
        "case is found by its reference; the NHS number and date of birth must match it. Leave the "
        "reference blank only if you do not have it."
    ),
    sections=(
        Section(
            "1. The case",
            "The case reference is in every email the register sends about the case.",
            _CASE,
        ),
        Section(
            "2. The review",
            "The rating is the panel's: Blue (inpatient now), Red (immediate risk, crisis), Amber "
            "(risk without urgent intervention), Green (risks managed in the community). The next "
            "review follows the rating's interval unless you give a date. After a discharge from "
            "hospital the rating stays Red for at least 14 days.",
            (
                _t(
                    "review_date",
                    "Date of the review",
                    "DD/MM/YYYY, not in the future",
                    required=True,
                ),
                _choice(
                    "rag_rating",
                    "RAG rating",
                    RATINGS,
                    "Blue / Red / Amber / Green; blank only on removal or discharge",
                    required=True,
                ),
                _l("outcome_summary", "Outcome summary", required=True),
                _l("actions", "Actions agreed", "who does what, by when"),
                _t("next_review_date", "Next review date", "optional: overrides the interval"),
                _t("discharge_date", "Discharge date", "only if discharged from hospital"),
                _c("keyworker_referred", "Referred to the keyworker service"),
                _c("ctr_recommended", "A C(E)TR is recommended"),
                _t("ctr_date", "Date of the C(E)TR", "DD/MM/YYYY, if one was held"),
                _l("ctr_outcome", "C(E)TR outcome", "optional"),
                _t("keyworker_name", "Keyworker's name", "optional"),
            ),
        ),
        Section(
            "3. Removal from the register",
            "Tick only if the panel agreed the case leaves the register, and say why.",
            (
                _c("remove_from_register", "Remove this case from the register"),
                _l("removal_reason", "Reason for removal"),
            ),
        ),
        Section(
            "4. Reviewer",
            "Who records this outcome for the panel.",
            (
                _t("reviewer_name", "Name", required=True),
                _t("reviewer_role", "Role"),
            ),
        ),
    ),
)

WITHDRAWAL = FormLayout(
    form_id="DSR-WITHDRAWAL-1",
    filename="dsr-withdrawal-form.pdf",
    title="Dynamic Support Register - Withdrawal of consent",
    introduction=(
        "Consent to be on the register can be withdrawn at any time, and withdrawing does not "
        "affect the support the child or young person receives. When this form is processed the "
        "person's details are erased from the register and its stored emails; only the case "
        "reference and dates are kept. Email it to the DSR inbox from a coordinator or panel "
        "(nhs.net) address."
    ),
    sections=(
        Section(
            "1. The case",
            "The case is found by its reference; the NHS number and date of birth must match it.",
            _CASE,
        ),
        Section(
            "2. The withdrawal",
            "Who withdrew consent and when.",
            (
                _t("withdrawn_by_name", "Withdrawn by", required=True),
                _t(
                    "withdrawn_by_relationship",
                    "Relationship to the child",
                    "e.g. self, mother",
                    required=True,
                ),
                _t(
                    "withdrawal_date",
                    "Date of withdrawal",
                    "DD/MM/YYYY, not in the future",
                    required=True,
                ),
                _l("reason", "Reason", "optional; it is not kept after erasure"),
            ),
        ),
    ),
)

LAYOUTS = (REFERRAL, CONSENT, REVIEW, WITHDRAWAL)


def printed_label(form_id: str, field_name: str) -> str | None:
    """Where a referrer finds a field on the form: "'Date of birth' (section 1)"."""
    for layout in LAYOUTS:
        if layout.form_id != form_id:
            continue
        for section in layout.sections:
            for field in section.fields:
                if field.name == field_name:
                    number = section.title.split(".", 1)[0]
                    return f"'{field.label}' (section {number})"
    return None
