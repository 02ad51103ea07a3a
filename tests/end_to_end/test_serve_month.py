"""`dsr-intake serve` keeps what a coordinator does: a console decision's emails go out at
once (not when the next email comes), it is journalled and is still there after a restart,
the clock is moved on from serve's terminal, and no other command can use the register
while serve holds it. serve runs as a person runs it: a process, its terminal, SMTP, HTTP."""

from __future__ import annotations

import mailbox
import re
import smtplib
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from infrastructure.local_console_resources import totp_code
from infrastructure.samples import child, consent_pdf, email, referral_pdf
from tests.end_to_end.serving import ROOT, Serve

INBOX = "bromley.dsr@nhs.net"
# Unique among the tests' children (each serve here has its own stack, but the names are
# searched for in its Maildir).
CORRECTED, CLOSED = child(1571, age=10), child(1572, age=10)


class Console:
    """A browser's cookies (Secure ones too: this is 127.0.0.1) and the last CSRF token."""

    def __init__(self, url: str) -> None:
        self.url, self.csrf = url, ""
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(_NoRedirect)

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str, Any]:
        request = urllib.request.Request(
            self.url + path,
            data=urlencode({"csrf": self.csrf, **form}).encode() if form is not None else None,
            headers={"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())},
        )
        try:
            response = self.opener.open(request, timeout=60)
        except urllib.error.HTTPError as answer:
            response = answer
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, value = cookie.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        text = response.read().decode("utf-8", "replace")
        found = re.search(r'name="csrf" value="([^"]+)"', text)
        if found:
            self.csrf = found.group(1)
        return response.status, text, response.headers

    def sign_in(self, username: str, password: str, secret: str) -> None:
        self.request("/sign-in")
        self.request("/sign-in", {"email": username, "password": password})
        status, _, headers = self.request("/sign-in/code", {"code": totp_code(secret)})
        assert status == 303, status
        self.request(headers["Location"])

    def case_form_token(self, reference: str, action: str) -> str:
        _, page, _ = self.request(f"/cases/{reference}")
        found = re.search(
            rf'action="/cases/{reference}/{action}".*?name="token" value="([^"]+)"', page, re.S
        )
        assert found, page[-2000:]
        return found.group(1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 303 is read as it is, as the tests' Browser reads it


def _referral(person: dict[str, str]) -> EmailMessage:
    parsed = message_from_bytes(
        email(
            ("referral.pdf", referral_pdf(**person)),
            ("consent.pdf", consent_pdf(**person)),
            sender="sam.patel@nhs.net",
        ),
        policy=default,
    )
    assert isinstance(parsed, EmailMessage)
    for name in ("Authentication-Results", "X-SES-Spam-Verdict", "X-SES-Virus-Verdict"):
        del parsed[name]
    return parsed


def _maildir(state: Path) -> list[EmailMessage]:
    return [
        message_from_bytes(bytes(message), policy=default)
        for message in mailbox.Maildir(state / "maildir", create=False)
    ]


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("serve-month")


def test_a_month_in_serve_keeps_the_coordinators_work_across_a_restart(state: Path) -> None:
    serve = Serve(state)
    try:
        smtp_port = int(serve.found(r"smtp://127\.0\.0\.1:(\d+)").group(1))
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as smtp:
            for person in (CORRECTED, CLOSED):
                smtp.send_message(_referral(person), to_addrs=[INBOX])
        # One line per email, with the outcome and the reference only.
        references = [serve.found(rf"email {n}: accepted (DSR-[A-Z0-9]+)").group(1) for n in (1, 2)]
        for person in (CORRECTED, CLOSED):
            assert person["child_nhs_number"] not in serve.output
            assert person["child_family_name"] not in serve.output
        password = serve.found(r"password\s+(\S+)").group(1)
        secret = serve.found(r"authenticator key[^\n]*?\s(\w+)\n").group(1)
        url = serve.found(r"console\s+(http://127\.0\.0\.1:\d+)/").group(1)

        # Another command cannot use the register serve holds.
        refused = subprocess.run(
            [sys.executable, "-m", "infrastructure.cli", "advance", "--days", "1",
             "--state", str(state)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert refused.returncode != 0
        assert "another dsr-intake command is using the local register" in refused.stderr

        # The mail sent, beside the console, for a signed-in coordinator only.
        console = Console(url)
        status, _, headers = console.request("/local/mail")
        assert (status, headers["Location"]) == (303, "/sign-in")
        console.sign_in("local.coordinator@nhs.net", password, secret)
        status, listed, headers = console.request("/local/mail")
        assert status == 200 and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert listed.count("Re: DSR referral") == 2
        first = re.search(r'href="(/local/mail/[^"]+)"', listed)
        assert first is not None
        status, shown, _ = console.request(first.group(1))
        assert status == 200 and "<pre>" in shown
        assert console.request("/local/mail/no-such-email")[0] == 404
        corrected, closed = references
        token = console.case_form_token(corrected, "correct")
        status, _, _ = console.request(
            f"/cases/{corrected}/correct",
            {"token": token, "field": "postcode", "value": "BR6 0AA", "reason": "Typo"},
        )
        assert status == 303
        sent_before = len(_maildir(state))
        token = console.case_form_token(closed, "close")
        status, _, _ = console.request(
            f"/cases/{closed}/close", {"token": token, "removal_reason": "Moved away"}
        )
        assert status == 303
        # The closure's emails went out with the request, no other email needed.
        assert len(_maildir(state)) > sent_before
        # Journalled: the two decisions, and the views the audit trail recorded.
        journal = (state / "journal.jsonl").read_text()
        assert journal.count('"step": "console"') == 4
        assert "EVENT#console-correct-" in journal and "SUBMISSION#console-close-" in journal

        # The clock moves on from serve's terminal; what falls due fires into the Maildir.
        serve.type("advance 40")
        moved = serve.found(r"clock moved on 40 days to .*: (\d+) schedules fired")
        assert int(moved.group(1)) >= 1
        assert "fired: " in serve.output and "console: /cases/" in serve.output
        # Every email is dated, by the register's clock: what fired is dated in the month.
        sent = _maildir(state)
        assert all(message["Date"] and message["Message-ID"] for message in sent)
        dates = sorted(message["Date"].datetime for message in sent)
        assert (dates[-1] - dates[0]).days >= 7
    finally:
        serve.stop()

    again = Serve(state)
    try:
        assert "could not replay" not in again.output  # every journalled call replayed
        # The same account, the same password, and the coordinator's work is still there.
        assert again.found(r"password\s+(\S+)").group(1) == password
        console = Console(again.found(r"console\s+(http://127\.0\.0\.1:\d+)/").group(1))
        console.sign_in("local.coordinator@nhs.net", password, secret)
        _, page, _ = console.request(f"/cases/{corrected}")
        assert "BR6 0AA" in page and "Typo" in page
        _, page, _ = console.request(f"/cases/{closed}")
        assert "Moved away" in page and ">Closed<" in page
        # The mail page still lists what the first run sent.
        assert console.request("/local/mail")[1].count("Re: DSR referral") == 2
    finally:
        again.stop()
