"""Answers people can act on (#13 part 2): every answer to an email threads to it, says which
email it answers (when, which files) and which child (initials only), puts each problem in
plain words, and a rejection brings the blank forms to use. Nothing beyond the initials and
the case reference reaches an address outside the secure domains: the desk's leak check
runs on every email here, and the tests below name the child in the very filenames and
subject the answers must not repeat there."""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.blank_forms import CONSENT_FORM, REFERRAL_FORM, REVIEW_FORM, WITHDRAWAL_FORM
from shared.case import EmailEffect, EmailPurpose
from shared.mail import parse_mail
from shared.outcome import Outcome
from tests.end_to_end.personal_data import leaks
from tests.hostile.builders import (
    COORDINATOR,
    INBOX,
    PDF,
    REFERRER,
    consent_form,
    from_line,
    raw_email,
    referral_form,
    review_form,
    ses_results,
    withdrawal_form,
)
from tests.hostile.conftest import Seeded
from tests.hostile.desk import Desk

COUNCIL_REFERRER = "sw.team@bromley.gov.uk"  # allowed to send, not a secure address
THEIR_ID = "<CAF7pQ2x.9d1@mail.nhs.net>"
EARLIER = ("<first.1@mail.nhs.net>", "<second.2@mail.nhs.net>")
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NAMED_FILES = ("Amira Okafor-Lewis referral.pdf", "Amira consent.pdf")


def email_with(
    files: list[tuple[bytes, str, str]],
    *,
    sender: str = REFERRER,
    subject: str = "DSR referral for Amira Okafor-Lewis",
    message_id: str | None = THEIR_ID,
    references: tuple[str, ...] = EARLIER,
    date: str | None = "Mon, 23 Nov 2026 09:12:00 +0000",
    body: str = "Please find the forms attached.",
) -> bytes:
    """An email from `sender` (SES's pass for its domain) with `files` (content, type, name)."""
    built = EmailMessage()
    built["To"] = INBOX
    built["Subject"] = subject
    if message_id is not None:
        built["Message-ID"] = message_id
    if date is not None:
        built["Date"] = date
    built.set_content(body)
    for content, content_type, filename in files:
        maintype, subtype = content_type.split("/", 1)
        built.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    domain = sender.rsplit("@", 1)[1]
    raw = raw_email((from_line(sender, "Sam Patel"),), auth=(ses_results(domain),), body=built)
    if references:  # as clients write them: folded between ids, never inside one
        thread = f"References: {chr(10).join(' ' + r for r in references).lstrip()}\n"
        thread += f"In-Reply-To: {references[-1]}\n"
        raw = raw.replace(b"\nTo: ", b"\n" + thread.encode() + b"To: ", 1)
    return raw


def pair(**overrides: str) -> list[tuple[bytes, str, str]]:
    return [
        (referral_form(**overrides), PDF, NAMED_FILES[0]),
        (consent_form(**overrides), PDF, NAMED_FILES[1]),
    ]


def answer_to(emails: list[EmailEffect], address: str) -> EmailEffect:
    [answer] = [email for email in emails if email.to == (address,)]
    return answer


def assert_threaded(answer: EmailEffect, their_id: str = THEIR_ID) -> None:
    assert answer.in_reply_to == their_id
    assert answer.references == (*EARLIER, their_id)


# ----- 1. threading, and the subject -----
def test_an_acknowledgement_at_a_secure_address_threads_as_re_their_subject() -> None:
    processed = Desk().receive(email_with(pair()))
    assert processed.outcome is Outcome.ACCEPTED
    answer = answer_to(processed.emails, REFERRER)
    assert_threaded(answer)
    assert answer.subject == "Re: DSR referral for Amira Okafor-Lewis"
    assert str(processed.submission.case_id) in answer.body  # the reference is in the body


def test_elsewhere_the_answer_threads_under_our_own_subject_with_the_initials() -> None:
    processed = Desk().receive(email_with(pair(), sender=COUNCIL_REFERRER))
    assert processed.outcome is Outcome.ACCEPTED
    answer = answer_to(processed.emails, COUNCIL_REFERRER)
    assert_threaded(answer)
    case_id = processed.submission.case_id
    assert answer.subject == f"DSR referral accepted - case {case_id} - child A. O."
    assert "Amira" not in answer.subject and leaks(answer.subject) == set()


def test_without_a_message_id_there_are_no_threading_headers() -> None:
    processed = Desk().receive(email_with(pair(), message_id=None))
    answer = answer_to(processed.emails, REFERRER)
    assert answer.in_reply_to is None and answer.references == ()


@pytest.mark.parametrize("bad_id", ["not-an-id", "<two words@x>", "<>", "<caf\u00e9@x.nhs.net>"])
def test_a_message_id_we_could_not_write_into_a_header_is_not_threaded_to(bad_id: str) -> None:
    raw = email_with(pair(), message_id=None).replace(
        b"\nTo: ", f"\nMessage-ID: {bad_id}\nTo: ".encode(), 1
    )
    answer = answer_to(Desk().receive(raw).emails, REFERRER)
    assert answer.in_reply_to is None and answer.references == ()


def test_without_references_the_chain_is_their_message_id_alone() -> None:
    answer = answer_to(Desk().receive(email_with(pair(), references=())).emails, REFERRER)
    assert answer.in_reply_to == THEIR_ID and answer.references == (THEIR_ID,)


def test_a_long_chain_is_cut_from_its_oldest_end_to_fit_a_header() -> None:
    chain = tuple(f"<{'x' * 200}.{n}@mail.nhs.net>" for n in range(20))
    answer = answer_to(Desk().receive(email_with(pair(), references=chain)).emails, REFERRER)
    assert answer.references[-1] == THEIR_ID and answer.references[-2] == chain[-1]
    assert len(" ".join(answer.references)) <= 900


# ----- 2. which email, which files, which child -----
def test_a_secure_answer_names_the_email_its_files_and_the_childs_initials() -> None:
    files = [*pair(), (b"PK\x03\x04 word/document.xml", WORD, "notes.docx")]
    answer = answer_to(Desk().receive(email_with(files)).emails, REFERRER)
    assert "This answers your email of 23/11/2026 09:12, with 3 attachments:" in answer.body
    assert f"  1. {NAMED_FILES[0]} (PDF)" in answer.body
    assert f"  2. {NAMED_FILES[1]} (PDF)" in answer.body
    assert "  3. notes.docx (Word)" in answer.body
    assert "the child with initials A. O." in answer.body


def test_elsewhere_files_are_named_by_position_and_kind_only() -> None:
    processed = Desk().receive(email_with(pair(), sender=COUNCIL_REFERRER))
    answer = answer_to(processed.emails, COUNCIL_REFERRER)
    assert "with 2 attachments:\n  attachment 1 (PDF)\n  attachment 2 (PDF)\n" in answer.body
    assert "the child with initials A. O." in answer.body
    text = answer.subject + answer.body
    assert not any(name in text for name in NAMED_FILES) and "Amira" not in text


def test_the_time_is_the_uk_time_of_their_date_header_else_when_received() -> None:
    summer = email_with(pair(), date="Tue, 23 Jun 2026 08:12:00 +0000")
    answer = answer_to(Desk().receive(summer).emails, REFERRER)
    assert "your email of 23/06/2026 09:12" in answer.body  # British Summer Time
    answer = answer_to(Desk().receive(email_with(pair(), date=None)).emails, REFERRER)
    assert "your email received " in answer.body


@pytest.mark.parametrize("date", ["yesterday", "Mon, 99 Nov 2026 09:12:00 +0000", "x" * 5000])
def test_an_unreadable_date_is_said_as_when_received(date: str) -> None:
    answer = answer_to(Desk().receive(email_with(pair(), date=date)).emails, REFERRER)
    assert "your email received " in answer.body


def test_a_rejection_with_no_name_on_the_forms_gives_no_initials() -> None:
    files = pair(child_given_name="", child_family_name="")
    processed = Desk().receive(email_with(files, sender=COUNCIL_REFERRER))
    assert processed.outcome is Outcome.REJECTED
    answer = answer_to(processed.emails, COUNCIL_REFERRER)
    assert "initials" not in answer.body
    assert answer.subject == "DSR forms could not be accepted - please correct and resend"


@pytest.mark.parametrize(
    "filename",
    [
        b'"Amira\x07\x00\x1b[2J Okafor-Lewis.pdf"',
        '"\u202eAmira fdp.exe"'.encode(),
        b"=?utf-8?b?QW1pcmEgT2thZm9yLUxld2lzLnBkZg==?=",
        b"\"Amira\n Bcc: someone@gmail.com.pdf\"",  # a folded line inside the name
        b"a" * 3000 + b".pdf",
    ],
)
def test_hostile_filenames_reach_secure_answers_on_one_bounded_line(filename: bytes) -> None:
    files = [(referral_form(), PDF, "PLACEHOLDER.pdf"), (consent_form(), PDF, "c.pdf")]
    for sender in (REFERRER, COUNCIL_REFERRER):
        raw = email_with(files, sender=sender).replace(b'"PLACEHOLDER.pdf"', filename)
        raw = raw.replace(b"PLACEHOLDER.pdf", filename)
        processed = Desk().receive(raw)
        assert processed.outcome is Outcome.ACCEPTED
        answer = answer_to(processed.emails, sender)
        listed = answer.body.split("attachments:\n", 1)[1].split("\nIt is about", 1)[0]
        [first, second] = listed.splitlines()
        assert len(first) <= 120 and second.strip().startswith(("2. c.pdf", "attachment 2"))
        assert not any(c in first for c in "\x00\x07\x1b\u202e")
        if sender == COUNCIL_REFERRER:  # elsewhere the name is never shown
            assert first == "  attachment 1 (PDF)"


# ----- 3. problems in plain words -----
def test_a_rejection_says_which_form_and_field_by_its_label_and_never_a_code() -> None:
    files = pair(consent_basis="sometimes")
    processed = Desk().receive(email_with(files, sender=COUNCIL_REFERRER))
    assert processed.outcome is Outcome.REJECTED
    assert "FIELD_INVALID" in processed.codes  # the register keeps the code
    answer = answer_to(processed.emails, COUNCIL_REFERRER)
    assert answer.purpose is EmailPurpose.REJECTION
    assert "FIELD_INVALID" not in answer.body and "(field:" not in answer.body
    assert "consent_basis" not in answer.body
    [line] = [line for line in answer.body.splitlines() if line.startswith("1. ")]
    assert "consent form" in line.lower() and "Please" in line
    assert "'" in line  # the field by the label the form prints


# ----- 4. the blank forms -----
def test_a_referral_or_consent_rejection_attaches_both_blank_forms_by_name() -> None:
    processed = Desk().receive(email_with(pair(consent_basis="sometimes")))
    answer = answer_to(processed.emails, REFERRER)
    assert answer.blank_forms == (REFERRAL_FORM, CONSENT_FORM)
    assert f"attached: {REFERRAL_FORM}, {CONSENT_FORM}" in answer.body
    # The outbox item names them: it never carries their bytes.
    stored = json.dumps(answer.model_dump(mode="json"))
    assert len(stored) < 10_000 and "%PDF" not in stored


def test_an_email_with_no_form_gets_the_referral_and_consent_forms() -> None:
    processed = Desk().receive(email_with([], body="Hello, how do I refer a child?"))
    assert processed.outcome is Outcome.REJECTED
    answer = answer_to(processed.emails, REFERRER)
    assert answer.blank_forms == (REFERRAL_FORM, CONSENT_FORM)
    assert "(no attachments)" in answer.body


def test_a_review_problem_attaches_the_review_outcome_form(seeded: Seeded) -> None:
    files = [(review_form(review_date="not a date"), PDF, "review.pdf")]
    processed = seeded.desk.receive(email_with(files, sender=COORDINATOR))
    assert processed.outcome is Outcome.REJECTED
    assert answer_to(processed.emails, COORDINATOR).blank_forms == (REVIEW_FORM,)


def test_a_withdrawal_problem_attaches_the_withdrawal_form() -> None:
    from infrastructure.samples import withdrawal_pdf
    from tests.hostile.builders import IDENTITY

    form = withdrawal_pdf(IDENTITY, "", withdrawal_date="31/02/2026")
    processed = Desk().receive(email_with([(form, PDF, "w.pdf")], sender=COORDINATOR))
    assert processed.outcome is Outcome.REJECTED
    assert answer_to(processed.emails, COORDINATOR).blank_forms == (WITHDRAWAL_FORM,)


def test_acknowledgements_attach_no_forms() -> None:
    answer = answer_to(Desk().receive(email_with(pair())).emails, REFERRER)
    assert answer.blank_forms == ()


# ----- every answer to an email, threaded -----
def test_the_passed_on_notice_and_the_held_withdrawal_receipt_thread_too() -> None:
    desk = Desk()
    passed = desk.receive(
        email_with([], subject="Re: DSR forms could not be accepted", body="Please call me.")
    )
    assert passed.outcome is Outcome.PASSED_ON
    assert_threaded(answer_to(passed.emails, REFERRER))
    other_id = "<another.3@mail.nhs.net>"
    held = desk.receive(
        email_with([(withdrawal_form(), PDF, "withdraw Amira.pdf")], message_id=other_id)
    )
    assert held.outcome is Outcome.HELD
    receipt = answer_to(held.emails, REFERRER)
    assert_threaded(receipt, other_id)
    assert "withdraw Amira.pdf" in receipt.body  # a secure address


def test_already_on_register_answers_thread_with_the_initials_of_their_own_forms(
    seeded: Seeded,
) -> None:
    processed = seeded.desk.receive(email_with(pair(), sender=COUNCIL_REFERRER))
    assert processed.outcome is Outcome.DUPLICATE
    answer = answer_to(processed.emails, COUNCIL_REFERRER)
    assert_threaded(answer)
    assert answer.subject.endswith(" - child A. O.") and seeded.case_id in answer.subject


def test_a_forwarded_email_is_answered_as_the_original_inside_it() -> None:
    from tests.hostile.builders import rfc822_forward

    inner = email_with(pair(), subject="Referral")
    processed = Desk().receive(rfc822_forward(inner))
    assert processed.outcome is Outcome.ACCEPTED
    answer = answer_to(processed.emails, REFERRER)
    assert_threaded(answer)
    assert answer.subject == "Re: Referral"


# ----- the new headers read, fuzzed -----
_TEXT = st.text(st.characters(codec="utf-8"), max_size=300)


@settings(
    max_examples=150,
    deadline=None,
    database=None,  # nothing written to the working tree
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(filename=_TEXT, date=_TEXT, references=_TEXT, message_id=_TEXT)
def test_any_filename_date_or_thread_header_reads_safely(
    filename: str, date: str, references: str, message_id: str
) -> None:
    def line(value: str) -> bytes:
        return " ".join(value.split()).encode("utf-8", "surrogatepass")

    raw = (
        b"From: Sam <sam.patel@nhs.net>\nSubject: x\nMessage-ID: " + line(message_id)
        + b"\nDate: " + line(date) + b"\nReferences: " + line(references)
        + b'\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n'
        b"Content-Type: text/plain\n\nhello\n--b\nContent-Type: application/pdf\n"
        b'Content-Disposition: attachment; filename="' + line(filename).replace(b'"', b"")
        + b'"\n\n%PDF-1.7\n--b--\n'
    )  # fmt: skip
    mail = parse_mail(raw)
    for attachment in mail.attachments:
        name = attachment.filename
        assert len(name) <= 100 and name == " ".join(name.split())
        assert not any(ord(c) < 32 or c in "\u202a\u202b\u202c\u202d\u202e" for c in name)
    for thread_id in (*mail.references, *([mail.reply_to_id] if mail.reply_to_id else [])):
        assert thread_id.isascii() and " " not in thread_id and thread_id.startswith("<")
    assert mail.sent_at is None or mail.sent_at.tzinfo is not None
