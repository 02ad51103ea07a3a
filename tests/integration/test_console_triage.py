"""The console's triage page through the ConsoleFunction's handler on the embedded stack:
what waits, oldest first, for each role; release and dismiss a quarantined email and enter
a scanned form by hand from the page (the register, audit and sent mail changed; a second
submit does nothing more); CSRF refusals; escaping; no email id or personal data in URLs."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from infrastructure.local_console_resources import ConsoleUser, create_user
from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.sample_documents import scanned_pdf
from infrastructure.samples import (
    child,
    consent_fields,
    consent_pdf,
    email,
    referral_fields,
    referral_pdf,
)
from shared.adapters import client
from shared.adapters.console_register import ConsoleMailStore, ConsoleRegisterTable
from shared.errors import RawMailMissingError
from shared.outcome import Outcome
from tests.integration.test_console import Browser
from tests.integration.test_console_case import HOSTILE, form_fields

SEEDS = (1410, 1411, 1412)  # unique NHS numbers among the tests'
FAILED_DMARC = ("spf=pass smtp.mailfrom=example.org; dkim=pass header.i=@example.org; "
                "dmarc=fail header.from=example.org")  # fmt: skip


@pytest.fixture(scope="module")
def users(stack: LocalStack) -> dict[str, ConsoleUser]:
    return {
        role: create_user(stack, f"triage.{role}@nhs.net", role)
        for role in ("coordinator", "panel", "admin")
    }


def send(stack: LocalStack, register: ConsoleRegisterTable, raw: bytes) -> str:
    message_id = stack.deliver_email(raw)
    stack.run_pipeline()
    assert register.submission(message_id) is not None
    return message_id


def signed_in(stack: LocalStack, user: ConsoleUser) -> Browser:
    browser = Browser(stack)
    browser.sign_in(user)
    return browser


def row_of(page: str, message_id: str) -> str:
    [row] = [str(r) for r in re.findall(r"<tr>.*?</tr>", page, re.S) if message_id in r]
    return row


def test_quarantined_emails_are_released_or_dismissed_from_the_triage_page(
    stack: LocalStack, users: dict[str, ConsoleUser], register: ConsoleRegisterTable
) -> None:
    person = child(SEEDS[0])
    genuine = send(stack, register, email(
        (f"{HOSTILE}.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person)),
        sender="gp.surgery@example.org", auth=FAILED_DMARC))  # fmt: skip
    virus = send(stack, register, email(("r.pdf", referral_pdf(**child(SEEDS[1]))),
                                        virus="FAIL"))  # fmt: skip
    assert register.submission(genuine).outcome is Outcome.QUARANTINED  # type: ignore[union-attr]
    anonymous = Browser(stack).request("GET", "/triage")
    assert (anonymous["statusCode"], anonymous["headers"]["Location"]) == (303, "/sign-in")
    assert signed_in(stack, users["admin"]).request("GET", "/triage")["statusCode"] == 403
    panel_page = signed_in(stack, users["panel"]).request("GET", "/triage")
    assert (
        panel_page["statusCode"] == 200 and genuine not in panel_page["text"]
    )  # emails: not theirs
    browser = signed_in(stack, users["coordinator"])
    page = browser.request("GET", "/triage")
    assert page["statusCode"] == 200 and page["headers"]["Cache-Control"] == "no-store"
    text = page["text"]
    assert text.count("<h1") == 1 and "<script" not in text and "&lt;script&gt;" in text
    since = [datetime.strptime(day, "%d %B %Y %H:%M")
             for day in re.findall(r"<tr>\s*<td>([^<]+)</td>", text)]  # fmt: skip
    assert len(since) >= 2 and since == sorted(since)  # oldest first
    assert "From gp.surgery@example.org" in row_of(text, genuine)
    assert 'action="/triage/release"' in row_of(text, genuine)
    assert 'action="/triage/release"' not in row_of(text, virus)  # never released
    urls = re.findall(r'(?:href|action)="([^"]*)"', text)
    assert not [url for url in urls if genuine in url or virus in url]
    # No CSRF token: refused, nothing done.
    assert browser.request("POST", "/triage/release", {"message_id": genuine})["statusCode"] == 403
    assert register.submission(f"{genuine}.triage") is None
    before = len(sent_emails())
    released = browser.post("/triage/release", message_id=genuine)
    assert (released["statusCode"], released["headers"]["Location"]) == (
        303,
        "/triage?done=release",
    )
    outcome = register.submission(f"{genuine}.triage")
    assert outcome is not None and outcome.outcome is Outcome.ACCEPTED and outcome.case_id
    again = browser.post("/triage/release", message_id=genuine)
    assert again["statusCode"] == 400 and "released already" in again["text"]
    after = browser.request("GET", "/triage?done=release")["text"]
    assert "The email is released" in after and genuine not in after
    stack.run_pipeline()
    answered = [m for m in sent_emails()[before:] if m.to == ("gp.surgery@example.org",)]
    assert len(answered) == 1 and outcome.case_id in answered[0].body
    # A virus: release refused with its reason shown; dismissed and erased, once.
    refused = browser.post("/triage/release", message_id=virus)
    assert refused["statusCode"] == 400 and "never released" in refused["text"]
    assert browser.post("/triage/dismiss", message_id=virus)["headers"]["Location"].endswith(
        "done=dismiss"
    )
    with pytest.raises(RawMailMissingError):
        ConsoleMailStore(client("s3"), stack.resources["RawMailBucket"]).raw_email(virus)
    audit = register.audit_entries(stack.now().replace(day=1, hour=0), stack.now())
    assert {(e.label, e.actor_email) for e in audit if e.event_id.startswith((genuine, virus))} >= {
        ("console:release", users["coordinator"].username),
        ("console:dismiss", users["coordinator"].username),
    }
    panel = signed_in(stack, users["panel"])
    panel.request("GET", "/triage")
    assert panel.post("/triage/dismiss", message_id=genuine)["statusCode"] == 403


def test_a_scan_is_entered_by_hand_from_the_page_with_errors_per_field(
    stack: LocalStack, users: dict[str, ConsoleUser], register: ConsoleRegisterTable
) -> None:
    person = child(SEEDS[2])
    scan = send(stack, register, email(("scan.pdf", scanned_pdf())))
    assert register.submission(scan).outcome is Outcome.REJECTED  # type: ignore[union-attr]
    browser = signed_in(stack, users["coordinator"])
    listed = browser.request("GET", "/triage")["text"]
    assert 'action="/triage/enter"' in row_of(listed, scan)
    assert browser.request("POST", "/triage/enter", {"message_id": scan})["statusCode"] == 403
    opened = browser.post("/triage/enter", message_id=scan)
    assert opened["statusCode"] == 200 and opened["text"].count("<h1") == 1
    assert 'name="referral.child_nhs_number"' in opened["text"]
    assert 'name="consent.consent_basis"' in opened["text"]
    hidden = form_fields(opened["text"], "/triage/enter/record")
    typed = {
        **hidden,
        "referral_position": "1",
        "consent_position": "1",
        **{f"referral.{k}": v for k, v in referral_fields(**person).items()},
        **{f"consent.{k}": v for k, v in consent_fields(**person).items()},
    }
    wrong = browser.request("POST", "/triage/enter/record",
                            {**typed, "referral.child_nhs_number": ""})  # fmt: skip
    assert wrong["statusCode"] == 400 and "There is a problem" in wrong["text"]
    assert 'href="#referral-child_nhs_number"' in wrong["text"]
    assert 'id="referral-child_nhs_number-error"' in wrong["text"]
    assert register.submission(f"{scan}.entry") is None
    done = browser.request("POST", "/triage/enter/record", typed)
    assert done["headers"]["Location"] == "/triage?done=enter"
    entered = register.submission(f"{scan}.entry")
    assert entered is not None and entered.outcome is Outcome.ACCEPTED and entered.case_id
    version = register.case(entered.case_id).version  # type: ignore[union-attr]
    again = browser.request("POST", "/triage/enter/record", typed)
    assert again["statusCode"] in {303, 400}
    assert register.case(entered.case_id).version == version  # type: ignore[union-attr]
    assert len([c for c in register.cases() if c.person_key and c.child
                and c.child.nhs_number.replace(" ", "") ==
                person["child_nhs_number"].replace(" ", "")]) == 1  # fmt: skip
    assert scan not in browser.request("GET", "/triage")["text"]
