"""Mail loops: the intake answers what it receives, and an automatic answer to its answer
must not be answered again, or two machines mail each other for ever (each reply has a new
Message-ID, so it is never a duplicate). An out-of-office reply, an auto-generated message or
a delivery-status report is never answered; the team may be told."""

from __future__ import annotations

import pytest

from shared.outcome import Outcome
from tests.hostile.builders import REFERRER, from_line, message, raw_email, ses_results
from tests.hostile.desk import Desk

OUR_REJECTION = (
    "I am out of the office until Monday.\n\n"
    "> Thank you for emailing the Bromley Dynamic Support Register (DSR).\n"
    "> 1. [NO_FORM_FOUND] No DSR form was found in the email.\n"
)

AUTOMATIC = {
    "auto-replied": ["Auto-Submitted: auto-replied"],
    "auto-generated": ["Auto-Submitted: auto-generated"],
    "auto-replied with a comment": ["Auto-Submitted: auto-replied (vacation)"],
    "Exchange out of office": [
        "Auto-Submitted: auto-replied",
        "X-Auto-Response-Suppress: All",
        "X-MS-Exchange-Inbox-Rules-Loop: sam.patel@nhs.net",
    ],
}


@pytest.mark.parametrize("headers", AUTOMATIC.values(), ids=AUTOMATIC.keys())
def test_an_automatic_reply_is_never_answered(desk: Desk, headers: list[str]) -> None:
    raw = raw_email(
        (from_line(REFERRER, "Dr Sam Patel"), *headers),
        body=message(
            subject="Automatic reply: DSR forms could not be accepted", body=OUR_REJECTION
        ),
    )
    processed = desk.receive(raw)
    assert REFERRER not in processed.recipients, processed.emails
    assert processed.outcome in (Outcome.REJECTED, Outcome.QUARANTINED)


def test_a_delivery_status_report_is_never_answered(desk: Desk) -> None:
    """Our answer bounced: the report comes from the postmaster of an allowed domain, with an
    empty Return-Path. Answering it would bounce again."""
    boundary = "report"
    body = (
        "To: bromley.dsr@nhs.net\nSubject: Undeliverable: DSR referral accepted\n"
        "Message-ID: <dsn-1@nhs.net>\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain\n\nDelivery has failed to these recipients.\n"
        f"--{boundary}\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mail.nhs.net\n\nFinal-Recipient: rfc822; gone@nhs.net\n"
        "Action: failed\nStatus: 5.1.1\n"
        f"--{boundary}--\n"
    ).encode()
    raw = raw_email(
        ("Return-Path: <>", "From: Mail Delivery System <MAILER-DAEMON@nhs.net>"),
        auth=(ses_results(mailfrom="<>"),),
        body=body,
    )
    processed = desk.receive(raw)
    assert not any("mailer-daemon" in address.lower() for address in processed.recipients)


def test_an_ordinary_reply_is_still_answered(desk: Desk) -> None:
    """The control: a person's reply (no automatic marks) is answered as usual: passed to
    a coordinator, and the sender told so."""
    raw = raw_email(
        (from_line(REFERRER, "Dr Sam Patel"), "Auto-Submitted: no"),
        body=message(subject="RE: DSR forms could not be accepted", body="What form do I need?"),
    )
    processed = desk.receive(raw)
    assert processed.outcome is Outcome.PASSED_ON
    assert REFERRER in processed.recipients


@pytest.mark.parametrize(
    "headers",
    [
        (from_line("MAILER-DAEMON@nhs.net", "Mail Delivery System"),),
        (from_line("postmaster@nhs.net", "Postmaster"),),
        (from_line(REFERRER, "Dr Sam Patel"), "Precedence: bulk"),
        (from_line(REFERRER, "Dr Sam Patel"), "Return-Path: <>"),
        (from_line(REFERRER, "Dr Sam Patel"), "X-Autorespond: yes"),
    ],
    ids=["MAILER-DAEMON", "postmaster", "precedence bulk", "null return path", "x-autorespond"],
)
def test_a_bounce_or_bulk_mail_is_recorded_silently(desk: Desk, headers: tuple[str, ...]) -> None:
    """Quarantined with no answer and no alert: an alert's own bounce would come back."""
    raw = raw_email(
        headers, body=message(subject="Undeliverable: DSR referral accepted", body=OUR_REJECTION)
    )
    processed = desk.receive(raw)
    assert processed.outcome is Outcome.QUARANTINED
    assert processed.emails == []
