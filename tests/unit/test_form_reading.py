import io

import pytest
from pypdf import PdfReader, PdfWriter

from infrastructure.sample_documents import text_pdf
from infrastructure.samples import TICK, consent_pdf, filled_form, referral_fields, referral_pdf
from shared.forms.fields import (
    FormKind,
    FormUnreadableError,
    canonical_field_name,
    detect_kind,
    is_ticked,
)
from shared.forms.pdf import read_pdf_forms
from templates.forms.layout import CONSENT, LAYOUTS, REFERRAL


def test_the_committed_forms_carry_the_contract_field_names() -> None:
    for layout in LAYOUTS:
        fields = PdfReader(f"templates/forms/{layout.filename}").get_fields() or {}
        assert fields["form_id"]["/V"] == layout.form_id
        assert set(layout.field_names()) <= set(fields), layout.form_id
        # form_id is read-only (field flag bit 1)
        assert int(fields["form_id"].get("/Ff", 0)) & 1


def test_referral_layout_has_every_field_of_forms_md() -> None:
    expected = {
        "child_given_name",
        "child_family_name",
        "child_preferred_name",
        "child_date_of_birth",
        "child_nhs_number",
        "child_gender",
        "child_ethnicity",
        "child_first_language",
        "interpreter_needed",
        "child_address",
        "child_postcode",
        "local_authority",
        "school_or_setting",
        "has_ehcp",
        "child_looked_after",
        "diagnosis_learning_disability",
        "diagnosis_autism",
        "diagnosis_awaiting_assessment",
        "diagnosis_details",
        "mental_health_concern",
        "suggested_rag",
        "reason_for_referral",
        "services_involved",
        "needs_health",
        "needs_education",
        "needs_social_care",
        "care_plans",
        "parent_carer_name",
        "parent_carer_relationship",
        "parent_carer_phone",
        "parent_carer_email",
        "referrer_name",
        "referrer_role",
        "referrer_organisation",
        "referrer_email",
        "referrer_phone",
        "referral_date",
    }
    assert expected <= set(REFERRAL.field_names())
    assert {
        "consent_basis",
        "capacity_confirmed",
        "fact_sheet_given",
        "consent_date",
        "best_interest_reason",
        "share_with_positive_support",
    } <= set(CONSENT.field_names())


def test_a_filled_referral_reads_back() -> None:
    [form] = read_pdf_forms(referral_pdf(), "attachment 1")
    assert form.kind is FormKind.REFERRAL
    assert form.fields["child_nhs_number"] == "943 476 5919"
    assert is_ticked(form.fields["diagnosis_autism"])
    assert not is_ticked(form.fields["diagnosis_learning_disability"])


def test_kind_comes_from_fields_when_form_id_is_blank() -> None:
    [form] = read_pdf_forms(filled_form(REFERRAL, referral_fields(), form_id=""), "attachment 1")
    assert form.kind is FormKind.REFERRAL
    [consent] = read_pdf_forms(
        filled_form(CONSENT, {"consent_basis": "self", "consent_date": "01/01/2026"}, form_id=""),
        "a",
    )
    assert consent.kind is FormKind.CONSENT


def test_other_names_map_through_the_alias_table() -> None:
    assert canonical_field_name("NHS No.") == "child_nhs_number"
    assert canonical_field_name("Child's D.O.B.") == "child_date_of_birth"
    assert canonical_field_name("Forename(s)") == "child_given_name"
    assert canonical_field_name("Diagnosis: Autism (ASC)") == "diagnosis_autism"
    assert canonical_field_name("Post code") == "child_postcode"
    assert canonical_field_name("something_else") == "something_else"
    assert detect_kind({"consent_basis": "self", "consent_date": "x"}) is FormKind.CONSENT
    assert detect_kind({"child_given_name": "x"}) is None


def test_a_letter_is_not_a_form() -> None:
    letter = text_pdf(["Dear DSR team,", "Please find the referral attached.", "Date: today"])
    assert read_pdf_forms(letter, "attachment 1") == []


def test_damaged_and_encrypted_pdfs_are_unreadable() -> None:
    with pytest.raises(FormUnreadableError, match="damaged"):
        read_pdf_forms(b"%PDF-1.7\n%garbage", "attachment 1")
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(consent_pdf())))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(FormUnreadableError, match="encrypted"):
        read_pdf_forms(out.getvalue(), "attachment 1")


@pytest.mark.parametrize(
    ("value", "ticked"),
    [("/Yes", True), ("/On", True), ("X", True), ("/Off", False), ("", False), ("  ", False)],
)
def test_checkbox_rule(value: str, ticked: bool) -> None:
    assert is_ticked(value) is ticked


def test_ticked_is_the_layouts_on_value() -> None:
    assert TICK == "/Yes"


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /AcroForm 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF",
        b"%PDF-1.4\n" + b"[" * 5000,
        b"%PDF-1.7\nxref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 /Root 9 0 R >>\nstartxref\n9\n%%EOF",
    ],
)
def test_hostile_pdfs_are_unreadable_not_crashes(content: bytes) -> None:
    try:
        forms = read_pdf_forms(content, "attachment 1")
    except FormUnreadableError:
        return
    assert forms == []  # opened, but holds no form
