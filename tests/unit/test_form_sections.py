"""Labels read in their section's context (child, parent/carer, referrer), not by the order our
own form prints them: other areas' referrals in Word, typed into an email and printed to PDF,
whose `Name:`, `Email:`, `Tel/Mobile No:` mean the child's, the parent's or the referrer's by
the heading above them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infrastructure.sample_documents import text_pdf, word_document
from infrastructure.samples import child, email, uk, years_ago
from shared.forms.consent import validate_consent
from shared.forms.documents import read_attachment
from shared.forms.fields import FormKind, RawForm, section_named
from shared.forms.pdf import read_pdf_forms
from shared.forms.referral import split_full_name, validate_referral
from shared.forms.text_form import read_text_forms
from shared.mail import Attachment
from shared.outcome import Outcome
from shared.settings import Settings
from tests.unit.test_decisions import Desk

PERSON = child(91)
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TODAY = years_ago(0, days=0)

# Another area's referral, section by section: (heading, [(label, answer) ...]).
Section = tuple[str, list[tuple[str, str]]]
CHILD: Section = (
    "Child/young person details",
    [
        ("Name:", f"{PERSON['child_given_name']} {PERSON['child_family_name']}"),
        ("DoB or EDD", PERSON["child_date_of_birth"]),
        ("NHS/RiO No:", PERSON["child_nhs_number"]),
        ("Full Address, including postcode:", "12 Example Road, Anytown BR5 1AA"),
        ("Gender:", "Male"),
    ],
)
PARENT: Section = (
    "Parent/carer details",
    [
        ("Name:", "Grace Adeyemi"),
        ("Relationship to child:", "Mother"),
        ("Date of birth:", "01/01/1980"),  # the parent's: never the child's
        ("Full Address, including postcode:", "99 Other Street, Elsewhere SE1 7PB"),
        ("Tel/Mobile No:", "07700 900123"),
        ("Email:", "grace.adeyemi@example.com"),
    ],
)
CONCERN: Section = (
    "Reason for referral",
    [
        ("Diagnosis: Autism (ASC)", "Yes"),
        ("Mental health concern:", "Escalating self-harm; crisis team visiting."),
        ("Suggested RAG rating:", "Amber"),
        ("Reason for referral:", "Placement at risk of breakdown."),
    ],
)
REFERRER: Section = (
    "Referrer details",
    [
        ("Name:", "Alex Jones"),
        ("Job title:", "Social worker"),
        ("Agency:", "Anytown Children's Services"),
        ("Tel/Mobile No:", "020 7946 0000"),
        ("Email:", "alex.jones@nhs.net"),
        ("Date:", uk(years_ago(0, days=1))),
    ],
)
SECTIONS = [CHILD, PARENT, CONCERN, REFERRER]

EXPECTED = {
    "child_full_name": f"{PERSON['child_given_name']} {PERSON['child_family_name']}",
    "child_date_of_birth": PERSON["child_date_of_birth"],
    "child_nhs_number": PERSON["child_nhs_number"],
    "child_address": "12 Example Road, Anytown BR5 1AA",
    "child_gender": "Male",
    "parent_carer_name": "Grace Adeyemi",
    "parent_carer_relationship": "Mother",
    "parent_carer_phone": "07700 900123",
    "parent_carer_email": "grace.adeyemi@example.com",
    "referrer_name": "Alex Jones",
    "referrer_role": "Social worker",
    "referrer_organisation": "Anytown Children's Services",
    "referrer_phone": "020 7946 0000",
    "referrer_email": "alex.jones@nhs.net",
    "referral_date": uk(years_ago(0, days=1)),
}


def as_word_paragraphs(sections: list[Section]) -> bytes:
    """Headings as paragraphs, each section's answers a two-column table."""
    blocks: list[str | list[list[str]]] = ["Referral form"]
    for heading, rows in sections:
        blocks += [heading, [[label, answer] for label, answer in rows]]
    return word_document(blocks)


def as_word_one_table(sections: list[Section]) -> bytes:
    """One table: each heading a row spanning it, answers two pairs to a row."""
    table: list[list[str]] = []
    for heading, rows in sections:
        table.append([heading])
        for first, second in zip(rows[0::2], [*rows[1::2], ("", "")], strict=False):
            table.append([*first, *second])
    return word_document(["Dynamic Support Register referral", table])


def as_text(sections: list[Section]) -> str:
    lines = ["Referral form"]
    for heading, rows in sections:
        lines += ["", heading, *(f"{label.rstrip(':')}: {answer}" for label, answer in rows)]
    return "\n".join(lines)


def as_printed_pdf(sections: list[Section]) -> bytes:
    rows: list[tuple[str, str] | str] = ["Referral form"]
    for heading, answers in sections:
        rows += [heading, *answers]
    return text_pdf(rows)


def read_word(content: bytes) -> list[RawForm]:
    return read_attachment(Attachment(position=1, content_type=WORD, content=content))


READERS: dict[str, Callable[[list[Section]], list[RawForm]]] = {
    "word, headings as paragraphs": lambda s: read_word(as_word_paragraphs(s)),
    "word, headings inside one four-column table": lambda s: read_word(as_word_one_table(s)),
    "typed into an email": lambda s: read_text_forms(as_text(s), "the email body"),
    "printed (flattened) pdf": lambda s: read_pdf_forms(as_printed_pdf(s), "attachment 1"),
}


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_generic_labels_mean_their_sections_fields(
    reader: Callable[[list[Section]], list[RawForm]],
) -> None:
    [form] = reader(SECTIONS)
    assert form.kind is FormKind.REFERRAL
    assert {name: form.fields.get(name) for name in EXPECTED} == EXPECTED
    # The parent's date of birth and address are not the child's.
    assert form.fields["child_date_of_birth"] == PERSON["child_date_of_birth"]


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_the_order_of_the_sections_does_not_matter(
    reader: Callable[[list[Section]], list[RawForm]],
) -> None:
    # Referrer first, then the parent, then the child: our own form prints them the other way.
    [form] = reader([REFERRER, PARENT, CONCERN, CHILD])
    assert {name: form.fields.get(name) for name in EXPECTED} == EXPECTED


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_the_referral_is_valid_with_the_childs_name_split_and_postcode_from_the_address(
    reader: Callable[[list[Section]], list[RawForm]],
) -> None:
    [form] = reader(SECTIONS)
    referral, reasons = validate_referral(form, TODAY, Settings())
    assert reasons == []
    assert referral is not None
    assert referral.child.given_name == PERSON["child_given_name"]
    assert referral.child.family_name == PERSON["child_family_name"]
    assert referral.postcode == "BR5 1AA"  # the child's, not the parent's
    assert referral.referrer_email == "alex.jones@nhs.net"
    assert referral.referrer_organisation == "Anytown Children's Services"
    assert referral.details["parent_carer_email"] == "grace.adeyemi@example.com"


def test_a_generic_label_its_section_has_no_field_for_is_ignored() -> None:
    # The parent's section comes first: its date of birth must not become the child's.
    [form] = read_text_forms(as_text([PARENT, CHILD, REFERRER]), "the email body")
    assert form.fields["child_date_of_birth"] == PERSON["child_date_of_birth"]
    assert form.fields["child_address"] == "12 Example Road, Anytown BR5 1AA"
    # A heading that names another party (a GP) keeps its generic labels to itself.
    gp: Section = ("GP details", [("Name:", "Dr Who"), ("Email:", "gp@nhs.net")])
    [form] = read_text_forms(as_text([gp, CHILD, PARENT, REFERRER]), "the email body")
    assert {name: form.fields.get(name) for name in EXPECTED} == EXPECTED


def test_a_numbered_heading_naming_no_section_ends_the_section() -> None:
    text = "\n".join(
        ["Referral form", "1. About the child", "Name: Amira Okafor-Lewis", "2. Contacts",
         # Outside any section a generic label means what our own form prints it for: its
         # first `Name` is the parent's.
         "Name: Grace Okafor"]
    )  # fmt: skip
    [form] = read_text_forms(text, "the email body")
    assert form.fields["child_full_name"] == "Amira Okafor-Lewis"
    assert form.fields["parent_carer_name"] == "Grace Okafor"


@pytest.mark.parametrize(
    ("heading", "section"),
    [
        ("Child/young person details", "child"),
        ("Section A: about the young person", "child"),
        ("1. The child or young person", "child"),
        ("Patient details", "child"),
        ("Parent/carer", "parent_carer"),
        ("Details of the child's parent or carer", "parent_carer"),
        ("Family details", "parent_carer"),
        ("Guardian", "parent_carer"),
        ("Referrer details", "referrer"),
        ("Referring professional", "referrer"),
        ("Agency details", "referrer"),
        ("Child's GP", "other"),
        ("3. Risk of admission", None),
        ("4. Reviewer", None),
    ],
)
def test_section_headings_are_recognised_by_their_words(heading: str, section: str | None) -> None:
    assert section_named(heading) == section


def test_labels_that_name_their_party_mean_it_in_any_section() -> None:
    text = "\n".join(
        [
            "Referral form",
            "Referrer details",
            "Child's name: Amira Okafor-Lewis",  # specific: the child's, even here
            "Parent/carer email: grace@example.com",
            "Name: Alex Jones",
        ]
    )
    [form] = read_text_forms(text, "the email body")
    assert form.fields["child_full_name"] == "Amira Okafor-Lewis"
    assert form.fields["parent_carer_email"] == "grace@example.com"
    assert form.fields["referrer_name"] == "Alex Jones"


def test_our_own_typed_form_without_headings_still_reads_by_printed_order() -> None:
    lines = ["Referral form", "Name: Grace Okafor", "Email: grace@example.com"]
    text = "\n".join([*lines, "Name: Sam Patel", "Email: sam.patel@nhs.net"])
    [form] = read_text_forms(text, "the email body")
    assert form.fields["parent_carer_name"] == "Grace Okafor"
    assert form.fields["referrer_name"] == "Sam Patel"
    assert form.fields["referrer_email"] == "sam.patel@nhs.net"


@pytest.mark.parametrize(
    ("name", "given", "family"),
    [
        ("Amira Okafor-Lewis", "Amira", "Okafor-Lewis"),
        ("OKAFOR-LEWIS, Amira", "Amira", "OKAFOR-LEWIS"),
        ("Amira Grace OKAFOR LEWIS", "Amira Grace", "OKAFOR LEWIS"),
        ("Mary Ann Smith", "Mary Ann", "Smith"),
        ("Cher", "Cher", None),
    ],
)
def test_a_full_name_is_split(name: str, given: str, family: str | None) -> None:
    assert split_full_name(name) == (given, family)


def test_a_full_name_with_no_family_name_is_missing_one() -> None:
    text = as_text([("Child details", [("Name:", "Cher")]), CONCERN, REFERRER])
    [form] = read_text_forms(text, "the email body")
    _, reasons = validate_referral(form, TODAY, Settings())
    assert ("FIELD_MISSING", "child_family_name") in {(r.code.value, r.field) for r in reasons}


def _other_area_consent() -> bytes:
    return word_document(
        [
            "Consent form",
            [
                ["Child/young person details"],
                ["Name:", f"{PERSON['child_given_name']} {PERSON['child_family_name']}"],
                ["DoB or EDD", PERSON["child_date_of_birth"], "NHS/RiO No:", PERSON["child_nhs_number"]],
                ["Parent/carer giving consent"],
                ["Name:", "Grace Adeyemi", "Relationship to child:", "Mother"],
                ["Basis of consent", "☐ Self ☒ Parental responsibility ☐ Best interest"],
                ["DSR fact sheet given", "☒"],
                ["Date of consent", uk(years_ago(0, days=1))],
            ],
        ]
    )  # fmt: skip


def test_on_a_consent_form_the_parent_carers_name_is_the_consenting_persons() -> None:
    [form] = read_word(_other_area_consent())
    assert form.kind is FormKind.CONSENT
    consent, reasons = validate_consent(form, TODAY)
    assert reasons == []
    assert consent is not None
    assert consent.consenting_person_name == "Grace Adeyemi"
    assert consent.consenting_person_relationship == "Mother"
    assert consent.basis.value == "parental_responsibility"
    assert consent.consent_method is None  # no attestation block on this older layout


def test_another_areas_word_referral_and_consent_put_the_child_on_the_register(
    settings: Settings,
) -> None:
    decision = Desk(settings).receive(
        email(
            ("referral.docx", as_word_one_table(SECTIONS), WORD),
            ("consent.docx", _other_area_consent(), WORD),
            sender="alex.jones@nhs.net",
        )
    )
    assert decision.outcome is Outcome.ACCEPTED, decision.reasons
    assert decision.case is not None and decision.case.referral is not None
    assert decision.case.referral.child.family_name == PERSON["child_family_name"]
