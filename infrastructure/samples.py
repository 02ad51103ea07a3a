"""Sample emails as referrers send them: the committed fillable PDFs filled in with pypdf,
attached to real MIME with the headers SES adds. Used by the demo, `dsr-intake samples`
and the tests. Every person here is fictional; dates are relative to today so the samples
stay valid (a 14-year-old stays 14).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from templates.forms.layout import CONSENT, REFERRAL, REVIEW, WITHDRAWAL, FormLayout

FORMS = Path(__file__).resolve().parent.parent / "templates" / "forms"
TODAY = date.today()
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


def years_ago(years: int, days: int = 40) -> date:
    """A birthday `years` whole years (and `days` days) before today."""
    anchor = TODAY - timedelta(days=days)
    try:
        return anchor.replace(year=anchor.year - years)
    except ValueError:  # 29 February
        return anchor.replace(year=anchor.year - years, day=28)


def referral_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "child_given_name": "Amira",
        "child_family_name": "Okafor-Lewis",
        "child_date_of_birth": uk(years_ago(14)),
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
        "referral_date": uk(TODAY - timedelta(days=3)),
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


def consent_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "child_given_name": "amira",
        "child_family_name": "Okafor Lewis",
        "child_date_of_birth": years_ago(14).isoformat(),
        "child_nhs_number": "9434765919",
        "consent_basis": "parental_responsibility",
        "consenting_person_name": "Grace Okafor",
        "consenting_person_relationship": "Mother",
        "fact_sheet_given": TICK,
        "share_with_health": TICK,
        "consent_date": uk(TODAY - timedelta(days=4)),
        # The attestation block of the current form (older copies have none).
        "consent_given_by": "Grace Okafor",
        "consent_method": "signature",
        "consent_attested_date": uk(TODAY - timedelta(days=4)),
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


def filled_form(layout: FormLayout, fields: dict[str, str], *, form_id: str | None = None) -> bytes:
    """The committed fillable PDF with `fields` filled in, as a referrer's PDF reader would.
    A radio group's value is the option's name (`signature`), chosen as a PDF reader does
    (`/signature`); a drop-down's is the option's stored value or any text."""
    writer = PdfWriter(clone_from=PdfReader(FORMS / layout.filename))
    radios = {field.name for field in layout.fields() if field.type == "radio"}
    values = {
        name: f"/{value}" if name in radios and value and not value.startswith("/") else value
        for name, value in fields.items()
    }
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


def _identity(person: dict[str, str], case_reference: str) -> dict[str, str]:
    return {
        "case_reference": case_reference,
        "child_nhs_number": person["child_nhs_number"],
        "child_date_of_birth": person["child_date_of_birth"],
    }


def review_pdf(person: dict[str, str], case_reference: str = "", **overrides: str) -> bytes:
    """A review outcome form for `person` (the child's identity fields), as a coordinator fills it."""
    fields = {
        **_identity(person, case_reference),
        "review_date": uk(TODAY),
        "rag_rating": "Amber",
        "outcome_summary": "Panel reviewed the support plan; crisis plan agreed with the family.",
        "actions": "CAMHS to review medication within two weeks; school to update the EHCP.",
        "reviewer_name": "Jo Adams",
        "reviewer_role": "DSR coordinator",
        **overrides,
    }
    return filled_form(REVIEW, {key: value for key, value in fields.items() if value is not None})


def withdrawal_pdf(person: dict[str, str], case_reference: str = "", **overrides: str) -> bytes:
    fields = {
        **_identity(person, case_reference),
        "withdrawn_by_name": "Grace Okafor",
        "withdrawn_by_relationship": "Mother",
        "withdrawal_date": uk(TODAY),
        "reason": "The family no longer wishes to be on the register.",
        **overrides,
    }
    return filled_form(
        WITHDRAWAL, {key: value for key, value in fields.items() if value is not None}
    )


def passing_auth(sender: str) -> str:
    """SES's Authentication-Results clauses for mail that passed SPF, DKIM and DMARC."""
    domain = sender.rsplit("@", 1)[-1].lower()
    return (
        f"spf=pass (spfCheck: domain of {domain} designates the sender as permitted) "
        f"smtp.mailfrom={domain}; dkim=pass header.i=@{domain}; dmarc=pass header.from={domain}"
    )


def email(
    *attachments: tuple[str, bytes] | tuple[str, bytes, str],
    sender: str = "sam.patel@nhs.net",
    spam: str = "PASS",
    virus: str = "PASS",
    auth: str | None = None,
    subject: str = "DSR referral",
    message_id: str | None = None,
) -> bytes:
    """A raw MIME email as SES stores it in S3 (with SES's verdict headers)."""
    message = EmailMessage()
    message["Authentication-Results"] = f"amazonses.com; {auth or passing_auth(sender)}"
    message["X-SES-Spam-Verdict"] = spam
    message["X-SES-Virus-Verdict"] = virus
    message["From"] = f"Referrer <{sender}>"
    message["To"] = "bromley.dsr@nhs.net"
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="nhs.net")
    message.set_content("Please find the DSR forms attached.")
    for attachment in attachments:
        name, content = attachment[0], attachment[1]
        maintype, subtype = (attachment[2] if len(attachment) == 3 else "application/pdf").split(
            "/"
        )
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return bytes(message)


def forwarded(
    original: bytes,
    *,
    by: str = "dsr.mailbox@nhs.net",
    inline: bool = False,
    auth: str | None = None,
) -> bytes:
    """`original` as the DSR's NHSmail shared mailbox forwards it to the intake: attached as a
    message (`message/rfc822`), or inline as Outlook does, its files carried over."""
    from email import message_from_bytes, policy

    inner = message_from_bytes(original, policy=policy.default)
    assert isinstance(inner, EmailMessage)
    message = EmailMessage()
    message["Authentication-Results"] = f"amazonses.com; {auth or passing_auth(by)}"
    message["X-SES-Spam-Verdict"] = "PASS"
    message["X-SES-Virus-Verdict"] = "PASS"
    message["From"] = f"Bromley DSR <{by}>"
    message["To"] = "intake@dsr.example.org"
    message["Subject"] = f"FW: {inner['Subject']}"
    message["Message-ID"] = make_msgid(domain="nhs.net")
    if not inline:
        message.set_content("Forwarded from the DSR mailbox.")
        message.add_attachment(inner)
        return bytes(message)
    body = inner.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    original_sender = inner["From"].addresses[0]
    message.set_content(
        "\n\n________________________________\n"
        f"From: {original_sender.display_name or 'Referrer'} <{original_sender.addr_spec}>\n"
        f"Sent: {inner['Date'] or 'Monday, 23 November 2026 09:12'}\n"
        f"To: {inner['To']}\n"
        f"Subject: {inner['Subject']}\n\n{text}"
    )
    for part in inner.iter_attachments():
        content = part.get_content()
        maintype, subtype = part.get_content_type().split("/")
        message.add_attachment(
            content, maintype=maintype, subtype=subtype, filename=part.get_filename()
        )
    return bytes(message)


def child(seed: int, *, age: int = 14) -> dict[str, str]:
    """A fictional child's identity fields, the same on a referral and its consent."""
    given, family = [
        ("Amira", "Okafor-Lewis"),
        ("Leo", "Brennan"),
        ("Maya", "Shah"),
        ("Noah", "Adeyemi"),
        ("Isla", "Kowalski"),
        ("Ethan", "Murray"),
    ][seed % 6]
    return {
        "child_given_name": given,
        "child_family_name": family,
        "child_date_of_birth": uk(years_ago(age, days=40 + seed)),
        "child_nhs_number": valid_nhs_number(seed),
    }


@dataclass(frozen=True)
class SampleEmail:
    name: str
    story: str  # what a newcomer should expect to happen
    raw: bytes


def demo_emails() -> list[SampleEmail]:
    """The demo's story: each kind of email the inbox meets, in an order that tells it."""
    amira, leo, maya, noah, isla = (
        child(1),
        child(2, age=16),
        child(3),
        child(4, age=19),
        child(5, age=13),
    )
    turning_18 = {**child(6), "child_date_of_birth": uk(years_ago(18, days=-21))}
    valid_pair = email(
        ("referral.pdf", referral_pdf(**amira)),
        ("consent.pdf", consent_pdf(**amira)),
        message_id="<demo-valid-pair@nhs.net>",
    )
    return [
        SampleEmail(
            "01-valid-pair.eml",
            "referral and consent together: a new case on the register",
            valid_pair,
        ),
        SampleEmail(
            "02-referral-only.eml",
            "a referral without its consent: pending",
            email(
                ("referral.pdf", referral_pdf(**leo, suggested_rag="Red")),
                sender="camhs.team@nhs.net",
            ),
        ),
        SampleEmail(
            "03-consent-follows.eml",
            "the consent arrives later: the waiting case is completed",
            email(
                (
                    "consent.pdf",
                    consent_pdf(
                        **leo,
                        consent_basis="self",
                        capacity_confirmed=TICK,
                        consenting_person_name="Leo Brennan",
                    ),
                ),
                sender="social.worker@bromley.gov.uk",
            ),
        ),
        SampleEmail(
            "04-bad-nhs-number-undiagnosed.eml",
            "every problem listed: bad NHS number, no diagnosis",
            email(
                (
                    "referral.pdf",
                    referral_pdf(
                        **{**maya, "child_nhs_number": "123 456 7890"},
                        diagnosis_autism="/Off",
                        diagnosis_awaiting_assessment=TICK,
                    ),
                ),
                ("consent.pdf", consent_pdf(**maya)),
            ),
        ),
        SampleEmail(
            "05-over-age.eml",
            "a young person over the register's age limit",
            email(("referral.pdf", referral_pdf(**noah)), ("consent.pdf", consent_pdf(**noah))),
        ),
        SampleEmail(
            "06-under-16-self-consent.eml",
            "a 13-year-old cannot consent for themselves",
            email(
                ("referral.pdf", referral_pdf(**isla)),
                (
                    "consent.pdf",
                    consent_pdf(
                        **isla,
                        consent_basis="self",
                        capacity_confirmed=TICK,
                        consenting_person_name="Isla Kowalski",
                    ),
                ),
            ),
        ),
        SampleEmail(
            "07-mismatched-identity.eml",
            "the consent form is about someone else",
            email(
                ("referral.pdf", referral_pdf(**maya)),
                ("consent.pdf", consent_pdf(**{**maya, "child_date_of_birth": uk(years_ago(12))})),
            ),
        ),
        SampleEmail(
            "08-untrusted-sender.eml",
            "a personal address failing DMARC: quarantined, not answered",
            email(
                ("referral.pdf", referral_pdf(**maya)),
                sender="someone@gmail.com",
                auth="spf=fail smtp.mailfrom=gmail.com; dkim=none; dmarc=fail header.from=gmail.com",
            ),
        ),
        SampleEmail(
            "09-virus.eml",
            "SES found a virus: quarantined",
            email(("referral.pdf", referral_pdf(**maya)), virus="FAIL"),
        ),
        SampleEmail(
            "10-no-form.eml",
            "an email with a letter but no DSR form",
            email(("letter.txt", b"Please add this child to the register.", "text/plain")),
        ),
        SampleEmail(
            "11-corrupt-pdf.eml",
            "a damaged PDF cannot be read",
            email(("referral.pdf", b"%PDF-1.7\n%broken\n1 0 obj <<\ntrailer\n")),
        ),
        SampleEmail(
            "12-redelivered.eml", "the first email delivered again: already processed", valid_pair
        ),
        SampleEmail(
            "14-turning-18-soon.eml",
            "a 17-year-old who turns 18 in three weeks: the transition alert comes at once",
            email(
                ("referral.pdf", referral_pdf(**turning_18, suggested_rag="Red")),
                (
                    "consent.pdf",
                    consent_pdf(
                        **turning_18,
                        consent_basis="self",
                        capacity_confirmed=TICK,
                        consenting_person_name="Ethan Murray",
                    ),
                ),
            ),
        ),
        *_forms_as_sent(),
        SampleEmail(
            "13-already-on-register.eml",
            "a new referral for a child already on the register",
            email(
                ("referral.pdf", referral_pdf(**amira)),
                ("consent.pdf", consent_pdf(**amira)),
                sender="school.senco@bromleyschool.sch.uk",
            ),
        ),
    ]


def _forms_as_sent() -> list[SampleEmail]:
    """Forms as referrers also send them: printed, in Word, forwarded, several children."""
    from infrastructure.sample_documents import printed_form, scanned_pdf, word_form

    ruby, sami, tess = child(7, age=15), child(8, age=12), child(11, age=10)
    word = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    labels = {"child_given_name": "Forename(s)", "child_family_name": "Surname",
              "child_date_of_birth": "Child's D.O.B.", "child_nhs_number": "NHS No."}  # fmt: skip
    return [
        SampleEmail(
            "15-printed-forms-forwarded.eml",
            "printed (flattened) forms, forwarded inline by the DSR shared mailbox: answered "
            "to the original referrer",
            forwarded(
                email(
                    ("referral.pdf", printed_form(REFERRAL, referral_fields(**ruby))),
                    ("consent.pdf", printed_form(CONSENT, consent_fields(**ruby))),
                    sender="jo.smith@oxleas.nhs.uk",
                ),
                inline=True,
            ),
        ),
        SampleEmail(
            "16-word-form-and-scan.eml",
            "a Word referral (a table of labels and answers) and a scanned consent: pending, "
            "and the scan goes to the coordinators for manual entry",
            email(
                (
                    "referral.docx",
                    word_form(
                        heading="Referral form",
                        table=[
                            (labels.get(name, name), value)
                            for name, value in referral_fields(**sami, diagnosis_autism="☒").items()
                            if not value.startswith("/")
                        ],
                    ),
                    word,
                ),
                ("consent-scan.pdf", scanned_pdf()),
            ),
        ),
        SampleEmail(
            "17-two-children.eml",
            "one email with a second child's referral and consent: each handled on its own",
            email(
                ("referral.pdf", referral_pdf(**tess)),
                ("consent.pdf", consent_pdf(**tess)),
                ("referral-2.pdf", referral_pdf(**child(12, age=11))),
            ),
        ),
    ]


def case_form_samples() -> list[SampleEmail]:
    """Coordinators' forms about cases the demo emails create: process them after those."""
    coordinator = "dsr.coordinator@nhs.net"
    return [
        SampleEmail(
            "20-review-outcome.eml",
            "after 01: the panel's review of that case, found by NHS number and date of birth",
            email(
                ("review.pdf", review_pdf(child(1), "", rag_rating="Red", keyworker_referred=TICK)),
                sender=coordinator,
                subject="DSR review outcome",
            ),
        ),
        SampleEmail(
            "21-review-unknown-case.eml",
            "a review outcome form with a case reference the register does not hold",
            email(
                ("review.pdf", review_pdf(child(1), "DSR-ZZZZ9999")),
                sender=coordinator,
                subject="DSR review outcome",
            ),
        ),
        SampleEmail(
            "22-withdrawal.eml",
            "after 02 and 03: the young person withdraws consent; their details are erased",
            email(
                (
                    "withdrawal.pdf",
                    withdrawal_pdf(
                        child(2, age=16),
                        "",
                        withdrawn_by_name="{child_given_name} {child_family_name}".format(
                            **child(2, age=16)
                        ),
                        withdrawn_by_relationship="self",
                    ),
                ),
                sender=coordinator,
                subject="DSR consent withdrawn",
            ),
        ),
    ]
