"""`dsr-intake serve` as a person runs it: started, sent mail by smtplib, read from the
Maildir, stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import mailbox
import re
import signal
import smtplib
import time
import urllib.request
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest

from infrastructure.local_smtp import MAX_MESSAGE_BYTES
from infrastructure.samples import child, consent_pdf, email, referral_pdf
from tests.end_to_end.serving import Serve

INBOX = "bromley.dsr@nhs.net"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    running = Serve(tmp_path_factory.mktemp("serve"))
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()


def _submission(sender: str) -> EmailMessage:
    """A referral as a mail client sends it: no receiving server's headers."""
    person = child(88201)
    parsed = message_from_bytes(
        email(
            ("referral.pdf", referral_pdf(**person)),
            ("consent.pdf", consent_pdf(**person)),
            sender=sender,
        ),
        policy=default,
    )
    assert isinstance(parsed, EmailMessage)
    for name in ("Authentication-Results", "X-SES-Spam-Verdict", "X-SES-Virus-Verdict"):
        del parsed[name]
    return parsed


def _answers(maildir: Path, message_id: str, wait: float = 90) -> list[EmailMessage]:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        found = [
            message_from_bytes(bytes(message), policy=default)
            for message in mailbox.Maildir(maildir, create=False)
            if message_id in str(message.get("In-Reply-To", ""))
        ]
        if found:
            return found
        time.sleep(0.5)
    return []


def test_a_referral_sent_by_smtp_is_answered_in_the_maildir(served: Serve) -> None:
    referral = _submission("sam.patel@nhs.net")
    with smtplib.SMTP("127.0.0.1", served.port(r"smtp://127\.0\.0\.1:(\d+)"), timeout=30) as smtp:
        smtp.send_message(referral, from_addr="sam.patel@nhs.net", to_addrs=[INBOX])
    [answer] = _answers(served.state / "maildir", str(referral["Message-ID"]))
    assert answer["To"] == "sam.patel@nhs.net"
    assert answer["Subject"] == "Re: DSR referral"
    body = answer.get_body(preferencelist=("plain",))
    assert body is not None and "1. referral.pdf" in body.get_content()
    journal = (served.state / "journal.jsonl").read_text()
    assert journal.count('"step": "email"') == 1  # the register lasts past serve


def test_mail_for_another_address_or_over_40_mb_is_refused(served: Serve) -> None:
    with smtplib.SMTP("127.0.0.1", served.port(r"smtp://127\.0\.0\.1:(\d+)"), timeout=30) as smtp:
        smtp.ehlo()
        assert smtp.esmtp_features["size"] == str(MAX_MESSAGE_BYTES)
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            smtp.sendmail("sam.patel@nhs.net", ["someone.else@nhs.net"], b"Subject: x\r\n\r\nx")
        code, text = refused.value.recipients["someone.else@nhs.net"]
        assert code == 550 and b"no such mailbox" in text
        smtp.rset()
        code, text = smtp.mail("sam.patel@nhs.net", options=[f"SIZE={MAX_MESSAGE_BYTES + 1}"])
        assert code == 552


def test_a_spoofed_sender_is_quarantined_not_answered(served: Serve) -> None:
    spoof = _submission("dsr.coordinator@nhs.net")
    with smtplib.SMTP("127.0.0.1", served.port(r"smtp://127\.0\.0\.1:(\d+)"), timeout=30) as smtp:
        smtp.send_message(spoof, from_addr="attacker@example.com", to_addrs=[INBOX])
    # serve's terminal says when it was decided (and its answers were delivered with it).
    served.found(r"email \d+: quarantined \(")
    assert _answers(served.state / "maildir", str(spoof["Message-ID"]), wait=1) == []


def test_the_console_answers_with_its_sign_in_and_ctrl_c_stops_cleanly(served: Serve) -> None:
    port = served.port(r"console\s+http://127\.0\.0\.1:(\d+)/")
    # The coordinator account made at start-up is printed with its authenticator key.
    assert re.search(r"email\s+local\.coordinator@nhs\.net", "".join(served.lines))
    assert "authenticator key" in "".join(served.lines)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/sign-in", timeout=10) as response:
        page = response.read().decode()
        assert "Sign in" in page and 'name="password"' in page
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(60) == 0, "".join(served.lines)
    assert "stopping" in "".join(served.lines)
