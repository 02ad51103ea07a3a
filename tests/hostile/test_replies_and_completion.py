"""Answers people can act on: a reply to one of our emails that holds no form reaches a
person, and everyone who sent part of a case hears when it is complete."""

from __future__ import annotations

import pytest

from shared.case import Case, EmailEffect
from shared.outcome import Outcome
from tests.hostile.builders import (
    COORDINATOR,
    COUNCIL_COORDINATOR,
    PDF,
    REFERRER,
    SETTINGS_WITH_COUNCIL,
    consent_form,
    from_line,
    message,
    raw_email,
    referral_form,
    ses_results,
)
from tests.hostile.conftest import Seeded
from tests.hostile.desk import Desk

SCHOOL_NURSE = "school.nurse@nhs.net"


def reply(text: str, *, sender: str = REFERRER, subject: str = "Re: DSR forms could not be "
          "accepted - please correct and resend", ses_thread: bool = True) -> bytes:  # fmt: skip
    built = message(subject=subject, body=text)
    if ses_thread:
        built["In-Reply-To"] = "<0102019a-5e1f@eu-west-2.amazonses.com>"
    return raw_email((from_line(sender),), body=built)


def to(emails: list[EmailEffect], address: str) -> list[EmailEffect]:
    return [email for email in emails if address in email.to]


def test_a_reply_without_a_form_reaches_the_coordinators_not_a_second_rejection() -> None:
    desk = Desk(SETTINGS_WITH_COUNCIL)
    processed = desk.receive(reply("I don't understand what is wrong - please call me.\n"))
    assert processed.outcome is Outcome.PASSED_ON
    [secure] = to(processed.emails, COORDINATOR)
    assert "please call me" in secure.body and REFERRER in secure.body
    [council] = to(processed.emails, COUNCIL_COORDINATOR)
    assert "please call me" not in council.body and REFERRER not in council.body
    [answer] = to(processed.emails, REFERRER)
    assert "passed to a DSR coordinator" in answer.body


def test_a_reply_by_subject_alone_quoting_a_case_reference_names_that_case(seeded: Seeded) -> None:
    text = f"Is there any news?\n\n> Case reference {seeded.case_id.lower()}\n"
    processed = seeded.desk.receive(
        reply(text, subject=f"RE: DSR referral accepted - {seeded.case_id}", ses_thread=False)
    )
    assert processed.outcome is Outcome.PASSED_ON
    assert processed.submission.case_id == seeded.case_id
    [alert] = to(processed.emails, COORDINATOR)
    assert seeded.case_id in alert.subject


def test_a_reply_that_brings_forms_is_read_as_forms(desk: Desk) -> None:
    built = message(
        subject="Re: DSR forms could not be accepted",
        attachments=[(referral_form(), PDF), (consent_form(), PDF)],
    )
    built["In-Reply-To"] = "<0102019a-5e1f@eu-west-2.amazonses.com>"
    processed = desk.receive(raw_email((from_line(REFERRER),), body=built))
    assert processed.outcome is Outcome.ACCEPTED


def test_an_email_with_no_form_that_answers_nothing_is_still_rejected(desk: Desk) -> None:
    processed = desk.receive(reply("hello", subject="Referral question", ses_thread=False))
    assert processed.outcome is Outcome.REJECTED
    assert processed.codes == {"NO_FORM_FOUND"}


def test_everyone_who_sent_part_of_a_case_is_told_it_is_complete(desk: Desk) -> None:
    referral = message(subject="DSR referral", attachments=[(referral_form(), PDF)])
    waiting = desk.receive(raw_email((from_line(REFERRER),), body=referral))
    assert waiting.outcome is Outcome.PENDING
    consent = message(subject="Consent", attachments=[(consent_form(), PDF)])
    complete = desk.receive(raw_email((from_line(SCHOOL_NURSE),), body=consent))
    assert complete.outcome is Outcome.UPDATED
    case_id = complete.submission.case_id
    assert case_id is not None
    for sender in (REFERRER, SCHOOL_NURSE):
        [told] = to(complete.emails, sender)
        assert case_id in told.body, sender


def test_a_reply_to_our_passed_on_notice_is_not_answered_again(desk: Desk) -> None:
    """An auto-responder that does not mark its replies: one round, then silence."""
    processed = desk.receive(
        reply(
            "Thank you for your message.",
            subject="Re: DSR - your email has been passed to a coordinator",
        )
    )
    assert processed.outcome is Outcome.PASSED_ON
    assert to(processed.emails, REFERRER) == [] and to(processed.emails, COORDINATOR)


def test_a_reply_from_an_unproved_address_gets_no_answer(desk: Desk) -> None:
    """dmarc=none lets an email through as a referral would, but a forged sender must not be
    sent our notice (backscatter): the coordinators still see it."""
    built = message(subject="Re: DSR forms could not be accepted", body="call me")
    raw = raw_email((from_line(REFERRER),), auth=(ses_results(dmarc="none"),), body=built)
    processed = desk.receive(raw)
    assert processed.outcome is Outcome.PASSED_ON
    assert to(processed.emails, REFERRER) == [] and to(processed.emails, COORDINATOR)


def test_a_body_full_of_case_references_costs_a_few_lookups(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[str] = []
    real = desk.register.case

    def counted(case_id: str) -> Case | None:
        looked_up.append(case_id)
        return real(case_id)

    monkeypatch.setattr(desk.register, "case", counted)
    body = "".join(f"DSR-{n:08d} " for n in range(20_000)).replace("0", "A").replace("1", "B")
    processed = desk.receive(reply(body))
    assert processed.outcome is Outcome.PASSED_ON
    assert 0 < len(looked_up) <= 5


def test_a_sender_is_told_once_a_day_however_often_they_reply(desk: Desk) -> None:
    """A responder that answers every email without marking its replies: one round a day."""
    first = desk.receive(reply("Out of the office until Monday."))
    second = desk.receive(reply("Out of the office until Monday."))
    assert first.outcome is second.outcome is Outcome.PASSED_ON
    assert len(to(first.emails, REFERRER)) == 1
    assert to(second.emails, REFERRER) == [] and to(second.emails, COORDINATOR)


def test_a_waiting_case_answer_attaches_the_blank_form_it_asks_for(desk: Desk) -> None:
    referral = message(subject="DSR referral", attachments=[(referral_form(), PDF)])
    waiting = desk.receive(raw_email((from_line(REFERRER),), body=referral))
    assert waiting.outcome is Outcome.PENDING
    [answer] = to(waiting.emails, REFERRER)
    assert answer.blank_forms == ("dsr-consent-form.pdf",)
    assert "A blank consent\nform is attached." in answer.body
