"""The forms' choice fields (drop-downs for the consent basis and the ratings, a radio group for
how consent was given), the consent form's attestation block, required fields marked `*`, and
where to send each form, as printed; older copies with text fields still read."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from infrastructure.samples import (
    consent_fields,
    consent_pdf,
    filled_form,
    referral_fields,
    referral_pdf,
    review_pdf,
    uk,
    withdrawal_pdf,
    years_ago,
)
from shared.forms.case_forms import validate_review, validate_withdrawal
from shared.forms.consent import ConsentBasis, ConsentMethod, validate_consent
from shared.forms.fields import FormKind, RawForm, is_ticked
from shared.forms.pdf import read_pdf_forms
from shared.forms.referral import validate_referral
from shared.outcome import Reason
from shared.rating import Rating
from shared.settings import Settings
from templates.forms.layout import (
    ATTESTATION_FIELDS,
    CONSENT,
    LAYOUTS,
    REFERRAL,
    REQUIRED_LEGEND,
    REVIEW,
    WITHDRAWAL,
    FormLayout,
)

TODAY = date.today()
FORMS = Path("templates/forms")
OLDER_FORMS = Path(__file__).parent / "older_forms"
_COMBO, _RADIO = 1 << 17, 1 << 15  # field flags (/Ff)


def pdf_fields(layout: FormLayout) -> dict[str, dict[str, object]]:
    return PdfReader(FORMS / layout.filename).get_fields() or {}


def fields_of(reasons: list[Reason]) -> set[str | None]:
    return {reason.field for reason in reasons}


# ----- the choice fields, as drawn -----


@pytest.mark.parametrize(
    ("layout", "name", "values"),
    [
        (REFERRAL, "suggested_rag", [rating.value for rating in Rating]),
        (REVIEW, "rag_rating", [rating.value for rating in Rating]),
        (CONSENT, "consent_basis", [basis.value for basis in ConsentBasis]),
    ],
)
def test_ratings_and_the_consent_basis_are_drop_downs_of_values_the_reader_maps(
    layout: FormLayout, name: str, values: list[str]
) -> None:
    field = pdf_fields(layout)[name]
    assert field["/FT"] == "/Ch" and int(field["/Ff"]) & _COMBO  # type: ignore[call-overload]
    options = [[str(part) for part in option] for option in field["/Opt"]]  # type: ignore[attr-defined]
    assert [value for value, _ in options if value.strip()] == values
    assert all(not value.strip() for value, _ in options if value not in values)  # a blank


def test_how_consent_was_given_is_a_radio_group() -> None:
    field = pdf_fields(CONSENT)["consent_method"]
    assert field["/FT"] == "/Btn" and int(field["/Ff"]) & _RADIO  # type: ignore[call-overload]
    assert sorted(field["/_States_"]) == ["/electronic", "/signature", "/verbal"]  # type: ignore[call-overload]


def test_yes_no_questions_are_tick_boxes() -> None:
    for layout in LAYOUTS:
        fields = pdf_fields(layout)
        for field in layout.fields():
            if field.type == "check":
                assert fields[field.name]["/FT"] == "/Btn"
                assert not int(fields[field.name].get("/Ff", 0)) & _RADIO  # type: ignore[call-overload]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.form_id)
def test_every_option_shown_reads_as_the_value_it_stores(layout: FormLayout) -> None:
    for field in layout.fields():
        for value, shown in field.options:
            for written in (value, shown, shown.upper()):
                if field.name == "consent_basis":
                    form = RawForm(
                        kind=FormKind.CONSENT,
                        fields=consent_fields(consent_basis=written),
                        source="a",
                    )
                    consent, _ = validate_consent(form, TODAY)
                    assert consent is None or consent.basis.value == value
                    assert consent is not None or value != "parental_responsibility"
                elif field.name == "consent_method":
                    form = RawForm(
                        kind=FormKind.CONSENT,
                        fields=consent_fields(consent_method=written),
                        source="a",
                    )
                    consent, reasons = validate_consent(form, TODAY)
                    assert consent is not None, reasons
                    assert consent.consent_method == ConsentMethod(value)
                else:
                    assert Rating.choices()[written.lower()] == value


# ----- filled in with pypdf's writer, as a referrer's PDF reader fills them -----


def test_filled_drop_downs_and_radio_group_are_read() -> None:
    [referral] = read_pdf_forms(referral_pdf(suggested_rag="Red"), "a")
    assert referral.fields["suggested_rag"] == "Red"
    [consent] = read_pdf_forms(
        consent_pdf(consent_basis="best_interest", consent_method="verbal"), "a"
    )
    assert consent.fields["consent_basis"] == "best_interest"
    assert consent.fields["consent_method"] == "/verbal"
    [review] = read_pdf_forms(review_pdf(referral_fields(), rag_rating="Blue"), "a")
    assert review.fields["rag_rating"] == "Blue"
    # (A best interest decision needs its own section, left blank here.)
    _, reasons = validate_consent(consent, TODAY)
    assert fields_of(reasons) == {
        "best_interest_decision_maker",
        "best_interest_decision_role",
        "best_interest_reason",
    }
    result, reasons = validate_consent(
        read_pdf_forms(consent_pdf(consent_method="electronic"), "a")[0], TODAY
    )
    assert result is not None, reasons
    assert result.consent_method is ConsentMethod.ELECTRONIC
    assert result.consent_given_by == "Grace Okafor"


def test_an_unfilled_drop_down_and_radio_group_read_as_blank() -> None:
    [consent] = read_pdf_forms(filled_form(CONSENT, {"consent_date": "01/01/2026"}), "a")
    assert consent.fields["consent_basis"] == ""
    assert consent.fields["consent_method"] == ""
    _, reasons = validate_consent(consent, TODAY)
    assert {"consent_basis", *ATTESTATION_FIELDS} <= fields_of(reasons)


def test_a_radio_group_chosen_only_on_its_button_is_read() -> None:
    """Some writers set the chosen button's /AS and leave the group's /V unset."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(consent_pdf())))
    for page in writer.pages:
        for annotation in page.get("/Annots", []):
            widget = annotation.get_object()
            parent = widget.get("/Parent")
            if parent is not None and parent.get_object().get("/T") == "consent_method":
                parent.get_object().pop("/V", None)
                states = [state for state in widget["/AP"]["/N"] if state != "/Off"]
                widget[NameObject("/AS")] = NameObject(
                    "/electronic" if states == ["/electronic"] else "/Off"
                )
    out = io.BytesIO()
    writer.write(out)
    [form] = read_pdf_forms(out.getvalue(), "a")
    assert form.fields["consent_method"] == "/electronic"


@pytest.mark.parametrize(("value", "ticked"), [("/No", False), ("No", False), ("/Yes", True)])
def test_a_yes_no_radio_reads_as_a_tick(value: str, ticked: bool) -> None:
    assert is_ticked(value) is ticked


# ----- older copies: text fields, no attestation block -----


def _older(name: str, fields: dict[str, str]) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(OLDER_FORMS / name))
    for page in writer.pages:
        writer.update_page_form_field_values(page, fields, auto_regenerate=False)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _without_attestation(**overrides: str) -> dict[str, str]:
    fields = consent_fields(**overrides)
    return {name: value for name, value in fields.items() if name not in ATTESTATION_FIELDS}


@pytest.mark.parametrize(
    "written",
    ["Parental responsibility", "Parent", "PR", "parental_responsibility", "parent/carer"],
)
def test_an_older_consent_with_text_fields_still_reads(written: str) -> None:
    older = _older("dsr-consent-form-text-fields.pdf", _without_attestation(consent_basis=written))
    fields = PdfReader(io.BytesIO(older)).get_fields() or {}
    assert fields["consent_basis"]["/FT"] == "/Tx"  # the old form: a text field
    [form] = read_pdf_forms(older, "a")
    consent, reasons = validate_consent(form, TODAY)
    assert reasons == []
    assert consent is not None and consent.basis is ConsentBasis.PARENTAL_RESPONSIBILITY
    assert consent.consent_method is None and consent.consent_given_by is None


def test_an_older_referral_with_a_text_rating_still_reads() -> None:
    older = _older("dsr-referral-form-text-fields.pdf", referral_fields(suggested_rag="amber"))
    [form] = read_pdf_forms(older, "a")
    referral, reasons = validate_referral(form, TODAY, Settings())
    assert reasons == []
    assert referral is not None and referral.suggested_rating is Rating.AMBER


# ----- the attestation block -----


def consent(**overrides: str) -> RawForm:
    fields = {name: value for name, value in consent_fields(**overrides).items() if value != "-"}
    return RawForm(kind=FormKind.CONSENT, fields=fields, source="a")


def test_a_consent_without_the_attestation_block_is_valid() -> None:
    result, reasons = validate_consent(
        RawForm(kind=FormKind.CONSENT, fields=_without_attestation(), source="a"), TODAY
    )
    assert reasons == [] and result is not None
    assert result.consent_attested_date is None


@pytest.mark.parametrize("blank", ATTESTATION_FIELDS)
def test_a_consent_with_the_block_must_complete_it(blank: str) -> None:
    result, reasons = validate_consent(consent(**{blank: ""}), TODAY)
    assert result is None
    assert ("FIELD_MISSING", blank) in {(r.code.value, r.field) for r in reasons}


def test_the_block_is_required_when_any_of_its_fields_is_there() -> None:
    fields = {**_without_attestation(), "consent_method": ""}
    _, reasons = validate_consent(RawForm(kind=FormKind.CONSENT, fields=fields, source="a"), TODAY)
    assert set(ATTESTATION_FIELDS) <= fields_of(reasons)


@pytest.mark.parametrize(
    ("written", "method"),
    [
        ("Signed", ConsentMethod.SIGNATURE),
        ("verbally", ConsentMethod.VERBAL),
        ("Verbal (by phone)", ConsentMethod.VERBAL),
        ("e-signature", ConsentMethod.ELECTRONIC),
        ("☐ Signature ☒ Verbal ☐ Electronic", ConsentMethod.VERBAL),
        ("X  Signature     Verbal     Electronic", ConsentMethod.SIGNATURE),
    ],
)
def test_how_consent_was_given_is_read_in_other_words(written: str, method: ConsentMethod) -> None:
    result, reasons = validate_consent(consent(consent_method=written), TODAY)
    assert result is not None, reasons
    assert result.consent_method is method


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"consent_method": "carrier pigeon"}, ("FIELD_INVALID", "consent_method")),
        ({"consent_method": "X Signature X Verbal"}, ("FIELD_INVALID", "consent_method")),
        (
            {"consent_attested_date": uk(TODAY + timedelta(days=1))},
            ("DATE_INVALID", "consent_attested_date"),
        ),
        ({"consent_attested_date": "31/02/2026"}, ("DATE_INVALID", "consent_attested_date")),
    ],
)
def test_each_attestation_rule(overrides: dict[str, str], expected: tuple[str, str]) -> None:
    result, reasons = validate_consent(consent(**overrides), TODAY)
    assert result is None
    assert expected in {(r.code.value, r.field) for r in reasons}


# ----- required fields, marked consistently -----


def _review_fields() -> dict[str, str]:
    person = referral_fields()
    return {
        "case_reference": "",
        "child_nhs_number": person["child_nhs_number"],
        "child_date_of_birth": person["child_date_of_birth"],
        "review_date": uk(TODAY),
        "rag_rating": "Amber",
        "outcome_summary": "Reviewed.",
        "reviewer_name": "Jo Adams",
    }


def _withdrawal_fields() -> dict[str, str]:
    person = referral_fields()
    return {
        "child_nhs_number": person["child_nhs_number"],
        "child_date_of_birth": person["child_date_of_birth"],
        "withdrawn_by_name": "Grace Okafor",
        "withdrawn_by_relationship": "Mother",
        "withdrawal_date": uk(TODAY),
    }


def _validate(layout: FormLayout, fields: dict[str, str]) -> list[Reason]:
    form = RawForm(kind=FormKind(layout.form_id), fields=fields, source="a")
    if layout is REFERRAL:
        return validate_referral(form, TODAY, Settings())[1]
    if layout is CONSENT:
        return validate_consent(form, TODAY)[1]
    if layout is REVIEW:
        return validate_review(form, TODAY)[1]
    return validate_withdrawal(form, TODAY)[1]


VALID = {
    REFERRAL.form_id: referral_fields,
    CONSENT.form_id: consent_fields,
    REVIEW.form_id: _review_fields,
    WITHDRAWAL.form_id: _withdrawal_fields,
}
# Required only in some cases, so not starred: the guidance beside them says when.
CONDITIONAL = {
    "consenting_person_name",
    "consenting_person_relationship",
    "referrer_organisation",  # a professional's (shared.forms.referral.from_a_professional)
}


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.form_id)
def test_the_fields_marked_required_are_those_the_form_is_refused_without(
    layout: FormLayout,
) -> None:
    valid = VALID[layout.form_id]()
    assert _validate(layout, valid) == []
    for field in layout.fields():
        if field.type == "check":
            continue
        reasons = _validate(layout, {**valid, field.name: ""})
        if field.required:
            assert field.name in fields_of(reasons), field.name
        elif field.name not in CONDITIONAL:
            assert field.name not in fields_of(reasons), field.name


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.form_id)
def test_the_childs_identity_is_required_on_every_form(layout: FormLayout) -> None:
    required = {field.name for field in layout.fields() if field.required}
    names = {field.name for field in layout.fields()}
    identity = {"child_given_name", "child_family_name", "child_date_of_birth", "child_nhs_number"}
    assert identity & names <= required
    assert {"child_date_of_birth", "child_nhs_number"} <= required


def _text(layout: FormLayout, folder: Path = FORMS) -> str:
    reader = PdfReader(folder / layout.filename)
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.form_id)
def test_each_form_prints_its_required_marks_legend_and_where_to_send_it(
    layout: FormLayout,
) -> None:
    text = _text(layout)
    assert REQUIRED_LEGEND in text
    for field in layout.fields():
        if field.required:
            assert f"{field.label} *" in text, field.label
    # The area's own inbox once `make forms INBOX=...` has printed it; the default until then.
    assert re.search(r"Email the completed form to \S+@\S+ from a secure \(nhs\.net\) address\.", text)
    assert "Blank forms:" in text


def test_the_generator_prints_the_inbox_it_is_given(tmp_path: Path) -> None:
    from templates.forms.generate import main  # reportlab: in the dev dependencies

    main(str(tmp_path), inbox="bromley.dsr@nhs.net", blank_forms="Blank forms: www.example.org")
    for layout in LAYOUTS:
        text = _text(layout, tmp_path)
        assert "Email the completed form to bromley.dsr@nhs.net from a secure (nhs.net)" in text
        assert "Blank forms: www.example.org" in text
        fields = PdfReader(tmp_path / layout.filename).get_fields() or {}
        assert set(layout.field_names()) <= set(fields)


def test_the_review_form_has_the_ctr_and_keyworker_fields() -> None:
    fields = pdf_fields(REVIEW)
    for name in ("ctr_date", "ctr_outcome", "keyworker_name"):
        assert name in fields and name in REVIEW.field_names()
        assert not next(field for field in REVIEW.fields() if field.name == name).required
    [form] = read_pdf_forms(
        review_pdf(referral_fields(), ctr_date=uk(years_ago(0, days=2)), keyworker_name="Sam Lee"),
        "a",
    )
    assert form.fields["keyworker_name"] == "Sam Lee"
    assert form.fields["ctr_date"] == uk(years_ago(0, days=2))


def test_a_withdrawal_still_fills() -> None:
    [form] = read_pdf_forms(withdrawal_pdf(referral_fields()), "a")
    assert form.kind is FormKind.WITHDRAWAL


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.form_id)
def test_the_pdfs_own_required_flags_are_the_printed_stars(layout: FormLayout) -> None:
    """A PDF viewer highlights the fields whose Required flag (bit 2 of /Ff) is set: exactly
    the starred ones, never a tick box."""
    fields = PdfReader(FORMS / layout.filename).get_fields() or {}
    for field in layout.fields():
        flags = int(fields[field.name].get("/Ff", 0))
        assert bool(flags & 2) == field.required, field.name
