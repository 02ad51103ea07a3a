"""Builds the corpus: realistic emails as referrers, the DSR shared mailbox and coordinators'
colleagues really send them, with what each should come to. The .eml files and
`expected.json` are committed; this script is how they were made (`python -m
tests.corpus.build`, needs nothing beyond the dev extra). Every person is fictional.

Dates are fixed relative to CORPUS_DAY, and the corpus is processed on that day
(`dsr-intake process --on`), so the children's ages never drift.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from infrastructure import samples

CORPUS_DAY = date(2026, 11, 23)
HERE = Path(__file__).resolve().parent
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Expected:
    outcome: str
    reasons: list[str] = field(default_factory=list)  # reason codes, sorted
    parts: list[str] = field(default_factory=list)  # each child's outcome, in order


def _body_email(body: str, sender: str = "kim.lee@nhs.net", subject: str = "DSR referral") -> bytes:
    message = EmailMessage()
    message["Authentication-Results"] = f"amazonses.com; {samples.passing_auth(sender)}"
    message["X-SES-Spam-Verdict"] = "PASS"
    message["X-SES-Virus-Verdict"] = "PASS"
    message["From"] = f"Kim Lee <{sender}>"
    message["To"] = "bromley.dsr@nhs.net"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="nhs.net")
    message.set_content(body)
    return bytes(message)


def build() -> list[tuple[str, str, bytes, Expected]]:
    samples.TODAY = CORPUS_DAY  # the samples' dates are relative to this day
    from infrastructure.sample_documents import (
        encrypted,
        printed_form,
        renamed_form,
        scanned_pdf,
        text_pdf,
        word_form,
    )
    from infrastructure.samples import (
        child,
        consent_fields,
        consent_pdf,
        email,
        forwarded,
        referral_fields,
        referral_pdf,
        uk,
    )
    from templates.forms.layout import CONSENT, REFERRAL

    # Distinct children: neighbouring seeds can share an NHS number (see valid_nhs_number).
    unique = {person["child_nhs_number"]: person for person in map(child, range(200, 320))}
    people = iter(unique.values())
    corpus: list[tuple[str, str, bytes, Expected]] = []

    def add(name: str, story: str, raw: bytes, expected: Expected) -> None:
        corpus.append((name, story, raw, expected))

    def pair(
        person: dict[str, str], **referral: str
    ) -> tuple[tuple[str, bytes], tuple[str, bytes]]:
        return (
            ("DSR referral.pdf", referral_pdf(**{**person, **referral})),
            ("DSR consent.pdf", consent_pdf(**{**person, **referral_identity(referral)})),
        )

    def referral_identity(changes: dict[str, str]) -> dict[str, str]:
        return {name: value for name, value in changes.items() if name.startswith("child_nhs")}

    accepted = Expected("accepted")

    # Our own fillable forms, as most referrers send them.
    add("fillable-pair", "our fillable referral and consent", email(*pair(next(people))), accepted)
    add(
        "fillable-referral-only",
        "referral first, consent to follow",
        email(pair(next(people))[0]),
        Expected("pending"),
    )
    add("fillable-consent-only", "consent first", email(pair(next(people))[1]), Expected("pending"))
    covering = text_pdf(
        ["Bromley CAMHS", "Dear DSR team,", "Please find our referral attached.", "Kind regards"]
    )
    add(
        "covering-letter",
        "a covering letter beside the forms",
        email(("letter.pdf", covering), *pair(next(people))),
        accepted,
    )

    # Other areas' and last year's forms.
    theirs = {
        "child_given_name": "Forename(s)",
        "child_family_name": "Surname",
        "child_date_of_birth": "Child's D.O.B.",
        "child_nhs_number": "NHS No.",
        "child_postcode": "Post code",
        "referrer_email": "Referrer's email",
        "diagnosis_autism": "Diagnosis: Autism (ASC)",
    }
    person = next(people)
    add(
        "other-area-fillable",
        "another area's fillable forms: their own field names, no form id",
        email(
            ("referral.pdf", renamed_form(REFERRAL, samples.referral_fields(**person), theirs)),
            ("consent.pdf", renamed_form(CONSENT, samples.consent_fields(**person), theirs)),
        ),
        accepted,
    )
    person = next(people)
    add(
        "printed-our-forms",
        "our forms filled in, then printed to PDF (flattened, no fields)",
        email(
            ("referral.pdf", printed_form(REFERRAL, referral_fields(**person))),
            ("consent.pdf", printed_form(CONSENT, consent_fields(**person))),
        ),
        accepted,
    )

    def other_area(person: dict[str, str], **changes: str) -> list[tuple[str, str] | str]:
        rows: dict[str, str] = {
            "Forename(s)": person["child_given_name"],
            "Surname": person["child_family_name"],
            "Child's D.O.B.": person["child_date_of_birth"],
            "NHS No.": person["child_nhs_number"],
            "Post code": "BR6 0AA",
            "Diagnosis: Autism (ASC)": "[X]",
            "Learning disability": "[ ]",
            "Mental health concern": "Escalating self-harm at home;\nCAMHS crisis team visiting daily.",
            "Suggested RAG rating": "Amber",
            "Reason for referral": "Family placement at risk of breakdown.",
            "Referrer's name": "Kim Lee",
            "Organisation": "Oxleas CAMHS",
            "Referrer's email": "kim.lee@nhs.net",
            "Date of referral": uk(CORPUS_DAY - timedelta(days=2)),
            **changes,
        }
        return ["Anytown ICB", "Dynamic Support Register - Referral form", *rows.items()]

    def other_consent(person: dict[str, str]) -> list[tuple[str, str] | str]:
        return [
            "Consent form",
            ("First name", person["child_given_name"]),
            ("Last name", person["child_family_name"]),
            ("Date of birth", person["child_date_of_birth"]),
            ("NHS Number", person["child_nhs_number"]),
            ("Basis of consent", "parental_responsibility"),
            ("Name of the person consenting", "Pat Lee"),
            ("Relationship to the child", "Mother"),
            ("DSR fact sheet given", "Yes"),
            ("Date of consent", uk(CORPUS_DAY - timedelta(days=3))),
        ]

    def rows_of(lines: list[tuple[str, str] | str]) -> list[tuple[str, str]]:
        return [
            (label, value.replace("[X]", "☒").replace("[ ]", "☐"))
            for label, value in (line for line in lines if isinstance(line, tuple))
        ]

    person = next(people)
    add(
        "other-area-printed-from-word",
        "another area's form printed from Word: label and answer in two columns",
        email(
            ("referral.pdf", text_pdf(other_area(person))),
            ("consent.pdf", text_pdf(other_consent(person))),
            sender="kim.lee@nhs.net",
        ),
        accepted,
    )
    person = next(people)
    add(
        "combined-one-pdf",
        "a referral and consent combined in one PDF",
        email(
            ("forms.pdf", text_pdf(other_area(person) + other_consent(person))),
            sender="kim.lee@nhs.net",
        ),
        accepted,
    )
    person = next(people)
    add(
        "rating-with-gloss",
        "a rating written with a gloss: 'Red (crisis)' reads as Red",
        email(
            (
                "forms.pdf",
                text_pdf(
                    other_area(person, **{"Suggested RAG rating": "Red (crisis)"})
                    + other_consent(person)
                ),
            ),
            sender="kim.lee@nhs.net",
        ),
        accepted,
    )
    person = next(people)
    add(
        "rating-two-colours",
        "'Red/Amber' is refused, never guessed",
        email(
            (
                "forms.pdf",
                text_pdf(
                    other_area(person, **{"Suggested RAG rating": "Red/Amber"})
                    + other_consent(person)
                ),
            ),
            sender="kim.lee@nhs.net",
        ),
        Expected("rejected", ["FIELD_INVALID"]),
    )

    # Word forms.
    person = next(people)
    add(
        "word-table-forms",
        "Word forms: a two-column table of labels and answers",
        email(
            (
                "referral.docx",
                word_form(heading="DSR referral form", table=rows_of(other_area(person))),
                WORD,
            ),
            (
                "consent.docx",
                word_form(heading="Consent form", table=rows_of(other_consent(person))),
                WORD,
            ),
            sender="kim.lee@nhs.net",
        ),
        accepted,
    )
    person = next(people)
    consent_controls: list[tuple[str, str | bool | None]] = [
        ("Given name", person["child_given_name"]),
        ("Family name", person["child_family_name"]),
        ("Date of birth", person["child_date_of_birth"]),
        ("NHS number", person["child_nhs_number"]),
        ("Consent basis", "parental_responsibility"),
        ("Name of the person consenting", "Sam Green"),
        ("Relationship to the child", "Father"),
        ("DSR fact sheet given", True),
        ("Date of consent", uk(CORPUS_DAY - timedelta(days=1))),
    ]
    add(
        "word-content-controls",
        "a Word referral table and a consent built of content controls",
        email(
            (
                "referral.docx",
                word_form(heading="Referral form", table=rows_of(other_area(person))),
                WORD,
            ),
            ("consent.docx", word_form(heading="Consent form", controls=consent_controls), WORD),
            sender="kim.lee@nhs.net",
        ),
        accepted,
    )
    person = next(people)
    blank_date = [
        (title, None if title == "Date of consent" else value) for title, value in consent_controls
    ]
    blank_date[:4] = [
        (t, person[k])
        for (t, _), k in zip(
            blank_date[:4],
            ("child_given_name", "child_family_name", "child_date_of_birth", "child_nhs_number"),
            strict=True,
        )
    ]
    add(
        "word-placeholder-left",
        "a Word consent with a content control still showing its placeholder",
        email(
            ("consent.docx", word_form(heading="Consent form", controls=blank_date), WORD),
            sender="kim.lee@nhs.net",
        ),
        Expected("rejected", ["FIELD_MISSING"]),
    )
    add(
        "word-macros",
        "a Word document with macros is refused",
        email(
            (
                "referral.docm",
                word_form(
                    heading="Referral form", table=rows_of(other_area(next(people))), macros=True
                ),
                "application/vnd.ms-word.document.macroEnabled.12",
            )
        ),
        Expected("rejected", ["FORM_UNREADABLE"]),
    )
    add(
        "legacy-doc",
        "a legacy .doc is refused",
        email(
            (
                "referral.doc",
                b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2048,
                "application/msword",
            )
        ),
        Expected("rejected", ["FORM_UNREADABLE"]),
    )

    # What cannot be read.
    add("opendocument", "an OpenDocument (.odt) form: a kind of file that cannot be read", email(("referral.odt", b"PK\x03\x04mimetypeapplication/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.text")), Expected("rejected", ["FORM_UNREADABLE"]))
    add(
        "scan-pdf",
        "a scanned form: images only",
        email(("scan.pdf", scanned_pdf())),
        Expected("rejected", ["FORM_UNREADABLE"]),
    )
    add(
        "phone-photo",
        "a photo of the form",
        email(("IMG_0042.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 4096, "image/jpeg")),
        Expected("rejected", ["FORM_UNREADABLE"]),
    )
    add(
        "password-protected",
        "a password-protected PDF",
        email(("referral.pdf", encrypted(referral_pdf(**next(people))))),
        Expected("rejected", ["FORM_UNREADABLE"]),
    )
    add(
        "scan-beside-forms",
        "a scan beside valid forms does not block them",
        email(("scan.pdf", scanned_pdf()), *pair(next(people))),
        accepted,
    )

    # Typed into the email body.
    person = next(people)
    typed = (
        (
            "Hello,\n\nWe have no PDF reader here, so the forms are typed below.\n\nReferral form\n"
            + "\n".join(
                f"{label}: {value}"
                for label, value in rows_of(other_area(person))
                if "\n" not in value
            )
            + "\nMental health concern: Escalating self-harm at home.\n\nConsent form\n"
            + "\n".join(f"{label}: {value}" for label, value in rows_of(other_consent(person)))
            + "\n\nKind regards,\nKim\n"
        )
        .replace("☒", "Yes")
        .replace("☐", "No")
    )
    add("typed-in-body", "referral and consent typed into the email", _body_email(typed), accepted)
    gaps = "\n".join(
        line for line in typed.splitlines() if not line.startswith(("NHS No.", "Post code"))
    )
    add(
        "typed-with-gaps",
        "a typed referral missing its NHS number and postcode",
        _body_email(gaps.replace("Consent form", "").split("First name")[0]),
        Expected("rejected", ["FIELD_MISSING"]),
    )
    add(
        "ordinary-question",
        "an ordinary email, no form",
        _body_email(
            "Hi,\nCould you call me about a possible referral?\nThanks, Kim\n", subject="Question"
        ),
        Expected("rejected", ["NO_FORM_FOUND"]),
    )

    # Forwarded by the DSR shared mailbox (a trusted forwarder).
    add(
        "forwarded-as-attachment",
        "the shared mailbox forwards the referrer's email as an attachment",
        forwarded(email(*pair(next(people)), sender="jo.smith@oxleas.nhs.uk")),
        accepted,
    )
    add(
        "forwarded-inline",
        "the shared mailbox forwards inline (Outlook)",
        forwarded(email(*pair(next(people)), sender="jo.smith@oxleas.nhs.uk"), inline=True),
        accepted,
    )
    add(
        "forwarded-from-gmail",
        "a forward of an email from a personal address: quarantined",
        forwarded(email(*pair(next(people)), sender="parent@gmail.com")),
        Expected("quarantined", ["SENDER_NOT_ALLOWED"]),
    )
    add(
        "forwarded-no-original",
        "the shared mailbox sends a form with no original inside",
        email(pair(next(people))[0], sender="dsr.mailbox@nhs.net"),
        Expected("quarantined", ["SENDER_NOT_ALLOWED"]),
    )

    # Several children in one email.
    first, second = next(people), next(people)
    add(
        "two-children",
        "two children's referral and consent in one email",
        email(*pair(first), *pair(second)),
        Expected("accepted", parts=["accepted", "accepted"]),
    )
    first, second = next(people), next(people)
    add(
        "two-children-one-bad",
        "two children's forms, one referral missing its postcode",
        email(*pair(first), *pair(second, child_postcode="")),
        Expected("rejected", parts=["accepted", "rejected"]),
    )

    # The rules the forms are checked against.
    add(
        "nhs-number-placeholder",
        "an NHS number of one repeated digit",
        email(*pair(next(people), child_nhs_number="1111111111")),
        Expected("rejected", ["NHS_NUMBER_INVALID"]),
    )
    person = child(250, age=18)
    add(
        "aged-eighteen",
        "an 18-year-old is not eligible here",
        email(*pair(person)),
        Expected("rejected", ["NOT_ELIGIBLE_AGE"]),
    )
    add(
        "awaiting-assessment-only",
        "awaiting assessment alone is not eligible",
        email(*pair(next(people), diagnosis_autism="/Off", diagnosis_awaiting_assessment="/Yes")),
        Expected("rejected", ["NOT_ELIGIBLE_DIAGNOSIS"]),
    )
    person = next(people)
    add(
        "identity-mismatch",
        "referral and consent with different dates of birth",
        email(
            ("referral.pdf", referral_pdf(**person)),
            ("consent.pdf", consent_pdf(**{**person, "child_date_of_birth": "01/01/2015"})),
        ),
        Expected("rejected", ["IDENTITY_MISMATCH"]),
    )
    add(
        "personal-address",
        "forms from a personal email address, its sender proved: a self-referral to verify",
        email(*pair(next(people)), sender="someone@gmail.com"),
        Expected("pending", ["AWAITING_VERIFICATION"]),
    )
    add(
        "spam",
        "SES's spam verdict failed",
        email(*pair(next(people)), spam="FAIL"),
        Expected("quarantined", ["SPAM"]),
    )
    first_raw = corpus[0][2]
    add("sent-twice", "the first email delivered again", first_raw, Expected("duplicate"))
    return corpus


def main() -> None:
    folder = HERE / "emails"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.eml"):
        old.unlink()
    expected = {}
    for number, (name, story, raw, outcome) in enumerate(build(), start=1):
        filename = f"{number:02d}-{name}.eml"
        (folder / filename).write_bytes(raw)
        expected[filename] = {
            "story": story,
            **{k: v for k, v in vars(outcome).items() if v or k == "outcome"},
        }
    (HERE / "expected.json").write_text(
        json.dumps({"processed_on": CORPUS_DAY.isoformat(), "emails": expected}, indent=2) + "\n"
    )
    print(f"wrote {len(expected)} emails to {folder}")


if __name__ == "__main__":
    main()
