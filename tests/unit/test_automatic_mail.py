"""RFC 3834 and delivery reports: which emails are automatic (recorded, never answered, no
alert). Each case is real bytes read by `parse_mail`."""

from __future__ import annotations

import pytest

from shared.mail import parse_mail

HEADERS = (
    "Authentication-Results: amazonses.com; spf=pass smtp.mailfrom=nhs.net; "
    "dkim=pass header.i=@nhs.net; dmarc=pass header.from=nhs.net\n"
)


def _raw(*lines: str, sender: str = "From: Sam Patel <sam.patel@nhs.net>", body: str = "") -> bytes:
    head = "\n".join([sender, "To: bromley.dsr@nhs.net", "Subject: DSR", *lines])
    return (HEADERS + head + "\n\n" + (body or "Hello.\n")).encode()


AUTOMATIC = {
    "auto-replied": ["Auto-Submitted: auto-replied"],
    "auto-generated": ["Auto-Submitted: auto-generated"],
    "auto-notified": ["Auto-Submitted: auto-notified"],
    "an unknown value": ["Auto-Submitted: yes-please"],
    "a value starting with no": ["Auto-Submitted: notified"],
    "with a comment": ["Auto-Submitted: auto-replied (vacation)"],
    "upper case": ["AUTO-SUBMITTED: Auto-Replied"],
    "precedence bulk": ["Precedence: bulk"],
    "precedence junk": ["Precedence: junk"],
    "precedence list": ["Precedence: List"],
    "precedence auto_reply": ["Precedence: auto_reply"],
    "x-autoreply": ["X-Autoreply: yes"],
    "x-autorespond": ["X-Autorespond: Out of office"],
    "null return path": ["Return-Path: <>"],
    "null return path with spaces": ["Return-Path: < >"],
    "empty return path": ["Return-Path: "],
}


@pytest.mark.parametrize("lines", AUTOMATIC.values(), ids=AUTOMATIC.keys())
def test_automatic_headers_mark_the_email_automatic(lines: list[str]) -> None:
    assert parse_mail(_raw(*lines)).automatic


@pytest.mark.parametrize(
    "sender",
    [
        "From: Mail Delivery System <MAILER-DAEMON@nhs.net>",
        "From: mailer-daemon@mail.example.org",
        "From: Postmaster <postmaster@nhs.net>",
        # A bounce's From we could not accept as a sender is still a reporting mailbox.
        "From: MAILER-DAEMON@nhs.net (Mail Delivery Subsystem), other@nhs.net",
    ],
)
def test_mail_from_a_reporting_mailbox_is_automatic(sender: str) -> None:
    assert parse_mail(_raw(sender=sender)).automatic


def test_a_delivery_report_is_automatic() -> None:
    body = (
        "--r\nContent-Type: text/plain\n\nDelivery has failed.\n"
        "--r\nContent-Type: message/delivery-status\n\nAction: failed\nStatus: 5.1.1\n--r--\n"
    )
    raw = _raw(
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
        body=body,
    )
    assert parse_mail(raw).automatic


PERSONAL = {
    "no headers": [],
    "auto-submitted no": ["Auto-Submitted: no"],
    "auto-submitted no with a comment": ["Auto-Submitted: No (a person wrote this)"],
    "precedence first-class": ["Precedence: first-class"],
    "a return path": ["Return-Path: <sam.patel@nhs.net>"],
    "suppressing auto replies is not one": ["X-Auto-Response-Suppress: All"],
}


@pytest.mark.parametrize("lines", PERSONAL.values(), ids=PERSONAL.keys())
def test_a_persons_email_is_not_automatic(lines: list[str]) -> None:
    assert not parse_mail(_raw(*lines)).automatic


@pytest.mark.parametrize(
    "sender", ["From: Post Master <post.master@nhs.net>", "From: daemon.mailer@nhs.net"]
)
def test_names_like_a_reporting_mailbox_are_people(sender: str) -> None:
    assert not parse_mail(_raw(sender=sender)).automatic
