"""Real test material: filled PDF forms (pypdf fills the committed templates) and real MIME."""

from __future__ import annotations

import io
from datetime import date
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from templates.forms.layout import CONSENT, REFERRAL, FormLayout

FORMS = Path(__file__).resolve().parent.parent / "templates" / "forms"
TICK = "/Yes"


def valid_nhs_number(seed: int) -> str:
    """A Modulus-11 valid NHS number derived from a seed (skipping seeds with no check digit)."""
    from shared.identifiers import nhs_check_digit

    while True:
        first_nine = f"{(400_000_000 + seed * 7919) % 1_000_000_000:09d}"
        check = nhs_check_digit(first_nine)
        if check is not None:
            return first_nine + str(check)
        seed += 1


def uk(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def referral_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "child_given_name": "Amira",
        "child_family_name": "Okafor-Lewis",
        "child_date_of_birth": "14/03/2012",
        "child_nhs_number": "943 476 5919",
        "child_gender": "Female",
        "child_address": "12 Example Road, Bromley",
        "child_postcode": "BR1 3AA",
        "diagnosis_autism": TICK,
        "mental_health_concern": "Escalating self-harm; CAMHS crisis team involved twice this month.",
        "risk_escalating_behaviour": TICK,
        "risk_crisis_last_year": TICK,
        "suggested_rag": "Amber",
        "reason_for_referral": "Placement at risk of breakdown; admission being considered.",
        "services_involved": "CAMHS\nSocial care",
        "service_camhs": TICK,
        "referrer_name": "Dr Sam Patel",
        "referrer_role": "Consultant psychiatrist",
        "referrer_organisation": "Bromley CAMHS",
        "referrer_email": "sam.patel@nhs.net",
        "referral_date": "02/11/2026",
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


def consent_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "child_given_name": "amira",
        "child_family_name": "Okafor Lewis",
        "child_date_of_birth": "2012-03-14",
        "child_nhs_number": "9434765919",
        "consent_basis": "parental_responsibility",
        "consenting_person_name": "Grace Okafor",
        "consenting_person_relationship": "Mother",
        "fact_sheet_given": TICK,
        "share_with_health": TICK,
        "consent_date": "01/11/2026",
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


def filled_form(layout: FormLayout, fields: dict[str, str], *, form_id: str | None = None) -> bytes:
    """The committed fillable PDF with `fields` filled in, as a referrer's PDF reader would."""
    writer = PdfWriter(clone_from=PdfReader(FORMS / layout.filename))
    values = dict(fields)
    if form_id is not None:
        values["form_id"] = form_id
    for page in writer.pages:
        writer.update_page_form_field_values(page, values, auto_regenerate=False)
    writer.set_need_appearances_writer(True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def referral_pdf(**overrides: str) -> bytes:
    return filled_form(REFERRAL, referral_fields(**overrides))


def consent_pdf(**overrides: str) -> bytes:
    return filled_form(CONSENT, consent_fields(**overrides))


def email(
    *attachments: tuple[str, bytes] | tuple[str, bytes, str],
    sender: str = "sam.patel@nhs.net",
    spam: str = "PASS",
    virus: str = "PASS",
    auth: str = "spf=pass smtp.mailfrom=nhs.net; dkim=pass header.i=@nhs.net; dmarc=pass header.from=nhs.net",
    subject: str = "DSR referral",
    message_id: str | None = None,
) -> bytes:
    """A raw MIME email as SES stores it in S3 (with SES's verdict headers)."""
    message = EmailMessage()
    message["Authentication-Results"] = f"amazonses.com; {auth}"
    message["X-SES-Spam-Verdict"] = spam
    message["X-SES-Virus-Verdict"] = virus
    message["From"] = f"Referrer <{sender}>"
    message["To"] = "bromley.dsr@nhs.net"
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="nhs.net")
    message.set_content("Please find the DSR forms attached.")
    for attachment in attachments:
        name, content = attachment[0], attachment[1]
        maintype, subtype = (attachment[2] if len(attachment) == 3 else "application/pdf").split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return bytes(message)
