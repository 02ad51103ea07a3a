"""Triage shows what a coordinator decides on, says what came of a decision, and deals with
held withdrawals - through the ConsoleFunction's handler on the embedded stack: an email's
subject, the start of its text (escaped, capped) and its files downloaded by a POST (audited,
never rendered, named safely; refused to the panel); the confirmation of a release as
accepted / pending / rejected read from the register, nothing of it in the URL; a held
withdrawal confirmed (applied as the emailed confirmation is, once) or declined."""

from __future__ import annotations

import base64
import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest

from infrastructure.local_console_resources import ConsoleUser, create_user
from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.sample_documents import scanned_pdf
from infrastructure.samples import child as sample_child
from infrastructure.samples import consent_pdf, email, referral_pdf, withdrawal_pdf
from shared.adapters import client
from shared.adapters.console_register import ConsoleRegisterTable
from shared.adapters.register_table.keys import audit_key
from shared.case import CaseStatus
from shared.console.triage import EXCERPT_CHARS
from shared.outcome import Outcome
from tests.integration.test_console import Browser
from tests.integration.test_console_case import HOSTILE, form_fields
from tests.integration.test_console_triage import FAILED_DMARC, row_of, send, signed_in

SEEDS = (1470, 1472, 1474, 1476, 1478, 1480, 1482)  # unique NHS numbers among the tests'
RELAY = "k.mills@example.org"  # a genuine referrer whose relay fails DMARC: quarantined
HOLDER = "sam.patel@nhs.net"  # trusted, not the DSR team: a withdrawal from them is held


def child(seed: int) -> dict[str, str]:
    """A child young enough for the register (a sample's age grows with its seed)."""
    return sample_child(seed, age=10)


@pytest.fixture(scope="module")
def users(stack: LocalStack) -> dict[str, ConsoleUser]:
    return {
        role: create_user(stack, f"decide.{role}@nhs.net", role)
        for role in ("coordinator", "panel")
    }


def with_text(raw: bytes, text: str) -> bytes:
    """The sample email with its own plain text replaced (its files kept)."""
    message = message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    body.set_content(text)
    return bytes(message)


def quarantined(stack: LocalStack, register: ConsoleRegisterTable, *files: Any,
                subject: str = "DSR referral", text: str | None = None) -> str:  # fmt: skip
    raw = email(*files, sender=RELAY, auth=FAILED_DMARC, subject=subject)
    message_id = send(stack, register, with_text(raw, text) if text else raw)
    assert register.submission(message_id).outcome is Outcome.QUARANTINED  # type: ignore[union-attr]
    return message_id


def download(browser: Browser, message_id: str, position: str) -> Any:
    return browser.post("/triage/file", message_id=message_id, position=position)


def test_triage_shows_the_email_to_decide_on_and_its_files_download_audited(
    stack: LocalStack, users: dict[str, ConsoleUser], register: ConsoleRegisterTable
) -> None:
    person = child(SEEDS[0])
    referral = referral_pdf(**person)
    text = (f"Dear DSR team,\n\n{HOSTILE}\nOur CAMHS worker said we could refer.\n\n"
            + "more words " * 400 + "THE-END-OF-THE-TEXT")  # fmt: skip
    message_id = quarantined(
        stack, register, ("r.pdf", referral), (f"{HOSTILE}.pdf", consent_pdf(**person)),
        subject=f"Referral {HOSTILE}", text=text,
    )  # fmt: skip
    browser = signed_in(stack, users["coordinator"])
    stack.log_lines.clear()
    page = browser.request("GET", "/triage")["text"]
    row = row_of(page, message_id)
    # The view is audited with the emails it showed (their ids, never their words).
    [viewed] = [line for line in stack.log_lines if '"what":"triage"' in line]
    assert message_id in viewed and "CAMHS" not in viewed
    assert "<script" not in page and "<img src=x" not in page
    assert "Subject: Referral &lt;script&gt;alert(" in row
    assert "Our CAMHS worker said we could refer." in row and "&lt;img src=x" in row
    assert "THE-END-OF-THE-TEXT" not in row and "[...]" in row  # capped
    assert len(re.findall(r"more words", row)) < EXCERPT_CHARS // len("more words ") + 1
    assert row.count('action="/triage/file"') == 2 and "Download attachment 2" in row
    urls = re.findall(r'(?:href|action)="([^"]*)"', page)
    assert not [url for url in urls if message_id in url]
    # A download is a POST with this browser's CSRF token.
    refused = browser.request("POST", "/triage/file", {"message_id": message_id, "position": "1"})
    assert refused["statusCode"] == 403
    since = stack.now()
    got = download(browser, message_id, "1")
    assert got["statusCode"] == 200, got["text"][:300]
    assert got["headers"]["Content-Type"] == "application/octet-stream"
    disposition = got["headers"]["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="triage-\d{8}-\d{4}-attachment-1\.pdf"', disposition)
    assert base64.b64decode(got["body"]) == referral
    second = download(browser, message_id, "2")["headers"]["Content-Disposition"]
    assert "script" not in second and second.endswith('-attachment-2.pdf"')
    [line] = [e for e in register.audit_entries(since, stack.now())
              if e.label == "console:view:email" and e.actor_email == users["coordinator"].username
              and e.at >= since][:1]  # fmt: skip
    item = client("dynamodb").get_item(
        TableName=stack.resources["RegisterTable"], Key=audit_key(line.at, line.event_id)
    )["Item"]
    assert item["message_id"]["S"] == message_id and line.case_id is None
    # Nothing that is not a file of an email waiting: not found.
    assert download(browser, message_id, "9")["statusCode"] == 404
    accepted = send(stack, register, email(("r.pdf", referral_pdf(**child(SEEDS[1]))),
                                           ("c.pdf", consent_pdf(**child(SEEDS[1])))))  # fmt: skip
    assert download(browser, accepted, "1")["statusCode"] == 404
    # The panel sees no emails in Triage, and may not download one.
    panel = signed_in(stack, users["panel"])
    assert message_id not in panel.request("GET", "/triage")["text"]
    assert download(panel, message_id, "1")["statusCode"] == 403
    # The entry page of a scan shows its email and its file to download too.
    scan = send(stack, register, email(("scan.pdf", scanned_pdf()), subject="Scanned consent"))
    browser.request("GET", "/triage")
    opened = browser.post("/triage/enter", message_id=scan)["text"]
    assert "Subject: Scanned consent" in opened and 'action="/triage/file"' in opened
    assert "Please find the DSR forms attached." in opened
    assert download(browser, scan, "1")["headers"]["Content-Disposition"].startswith(
        'attachment; filename="triage-'
    )


def released(browser: Browser, message_id: str) -> str:
    """The release's confirmation, as the browser follows the 303."""
    browser.request("GET", "/triage")
    done = browser.post("/triage/release", message_id=message_id)
    assert (done["statusCode"], done["headers"]["Location"]) == (303, "/triage?done=release")
    return str(browser.request("GET", done["headers"]["Location"])["text"])


def test_a_release_says_what_came_of_it_accepted_pending_or_rejected(
    stack: LocalStack, users: dict[str, ConsoleUser], register: ConsoleRegisterTable
) -> None:
    whole, waiting, wrong = child(SEEDS[2]), child(SEEDS[3]), child(SEEDS[4])
    pair = quarantined(stack, register, ("r.pdf", referral_pdf(**whole)),
                       ("c.pdf", consent_pdf(**whole)))  # fmt: skip
    alone = quarantined(stack, register, ("r.pdf", referral_pdf(**waiting)))
    blank = quarantined(stack, register,
                        ("r.pdf", referral_pdf(**wrong, reason_for_referral="")))  # fmt: skip
    browser = signed_in(stack, users["coordinator"])

    page = released(browser, pair)
    case_id = register.submission(f"{pair}.triage").case_id  # type: ignore[union-attr]
    assert case_id and f'<strong>Accepted</strong>: case <a href="/cases/{case_id}">' in page
    again = browser.request("GET", "/triage?done=release")["text"]
    assert "The email is released" in again and "<strong>Accepted</strong>" not in again  # once

    page = released(browser, alone)
    pending = register.submission(f"{alone}.triage")
    assert pending is not None and pending.outcome is Outcome.PENDING
    assert f'case <a href="/cases/{pending.case_id}">' in page
    assert "<strong>Pending</strong>" in page and "waiting for the consent form" in page

    page = released(browser, blank)
    rejected = register.submission(f"{blank}.triage")
    assert rejected is not None and rejected.outcome is Outcome.REJECTED
    assert "<strong>Rejected</strong>:" in page and "Reason for referral" in page
    assert rejected.reasons[0].message.split("'")[0] in page.replace("&#39;", "'")

    # The case page speaks the forms' words, not their codes.
    case_page = browser.request("GET", f"/cases/{case_id}")["text"]
    assert "Has an Education, Health and Care plan (EHCP)" in case_page
    assert "Has ehcp" not in case_page and "risk_" not in case_page
    assert "service_" not in case_page and "share_with_" not in case_page
    assert "Released from quarantine" in case_page and "console:release" not in case_page
    assert "Viewed the case" in case_page


def held_withdrawal(stack: LocalStack, register: ConsoleRegisterTable, seed: int) -> tuple[str, str]:
    """A child on the register, and a withdrawal of them from outside the team, held."""
    person = child(seed)
    accepted = send(stack, register, email(("r.pdf", referral_pdf(**person)),
                                           ("c.pdf", consent_pdf(**person))))  # fmt: skip
    case_id = register.submission(accepted).case_id  # type: ignore[union-attr]
    assert case_id
    held = send(stack, register, email(("w.pdf", withdrawal_pdf(person, case_id)),
                                       sender=HOLDER, subject="Withdrawal"))  # fmt: skip
    submission = register.submission(held)
    assert submission is not None and submission.outcome is Outcome.HELD
    [reference] = re.findall(r"HOLD-[A-Z2-9]{8}", submission.reasons[0].message)
    return case_id, reference


def hold_form(page: str, path: str, reference: str) -> dict[str, str]:
    [row] = [r for r in re.findall(r"<tr>.*?</tr>", page, re.S) if reference in r]
    return form_fields(row.replace('class="nhsuk-u-margin-bottom-2" ', ""), path)


def test_a_held_withdrawal_is_confirmed_once_or_declined_from_triage(
    stack: LocalStack, users: dict[str, ConsoleUser], register: ConsoleRegisterTable
) -> None:
    case_id, reference = held_withdrawal(stack, register, SEEDS[5])
    kept_id, kept_reference = held_withdrawal(stack, register, SEEDS[6])
    panel = signed_in(stack, users["panel"])
    assert reference not in panel.request("GET", "/triage")["text"]
    browser = signed_in(stack, users["coordinator"])
    page = browser.request("GET", "/triage")["text"]
    row = row_of(page, reference)
    assert f"From {HOLDER}" in row and "Lapses " in row and "Withdrawn by" in row
    assert "Confirm withdrawal" in row and 'action="/triage/decline-withdrawal"' in row
    confirm = hold_form(page, "/triage/confirm-withdrawal", reference)
    assert confirm["reference"] == reference and confirm["token"]
    assert confirm["token"] != hold_form(page, "/triage/confirm-withdrawal", kept_reference)["token"]
    # The panel may not confirm; without the CSRF token nobody may.
    assert panel.request("POST", "/triage/confirm-withdrawal",
                         {**confirm, "csrf": panel.csrf})["statusCode"] == 403  # fmt: skip
    assert browser.request("POST", "/triage/confirm-withdrawal",
                           {**confirm, "csrf": ""})["statusCode"] == 403  # fmt: skip
    assert register.case(case_id).status is CaseStatus.ACTIVE  # type: ignore[union-attr]
    before = len(sent_emails())
    done = browser.request("POST", "/triage/confirm-withdrawal", confirm)
    assert done["headers"]["Location"] == "/triage?done=confirm-withdrawal"
    after = browser.request("GET", done["headers"]["Location"])["text"]
    assert "<strong>Withdrawn</strong>: case" in after and reference not in after
    case = register.case(case_id)
    assert case is not None and case.status is CaseStatus.WITHDRAWN and case.child is None
    assert register.held_withdrawal(reference) is None
    # The same form again: done already, nothing more; another form: no longer held.
    again = browser.request("POST", "/triage/confirm-withdrawal", confirm)
    assert again["headers"]["Location"] == "/triage?done=already"
    other = browser.post("/triage/confirm-withdrawal", reference=reference,
                         token="another-form-token-123456")  # fmt: skip
    assert other["statusCode"] == 400 and "any more" in other["text"]
    stack.run_pipeline()
    told = [m for m in sent_emails()[before:] if m.to == (HOLDER,)]
    assert len(told) == 1 and case_id in told[0].body
    assert not [m for m in sent_emails()[before:] if users["coordinator"].username in m.to]
    audit = register.audit_entries(stack.now().replace(day=1, hour=0), stack.now())
    assert [(e.label, e.outcome, e.case_id) for e in audit
            if e.actor_email == users["coordinator"].username
            and e.label == "console:confirm-withdrawal"] == [
        ("console:confirm-withdrawal", "withdrawn", case_id)]  # fmt: skip

    # Declined: the hold gone, nothing erased, its sender told (the reference only), who
    # declined it recorded.
    page = browser.request("GET", "/triage")["text"]
    before = len(sent_emails())
    declined = browser.request(
        "POST", "/triage/decline-withdrawal",
        hold_form(page, "/triage/decline-withdrawal", kept_reference),
    )  # fmt: skip
    assert declined["headers"]["Location"] == "/triage?done=decline-withdrawal"
    assert kept_reference not in browser.request("GET", "/triage")["text"]
    assert register.held_withdrawal(kept_reference) is None
    assert register.case(kept_id).status is CaseStatus.ACTIVE  # type: ignore[union-attr]
    stack.run_pipeline()
    [declined_notice] = [m for m in sent_emails()[before:] if HOLDER in m.to]
    assert declined_notice.subject == f"DSR withdrawal not carried out - {kept_reference}"
    assert "nothing has been\nerased" in declined_notice.body and kept_id not in declined_notice.body
    audit = register.audit_entries(stack.now().replace(day=1, hour=0), stack.now())
    assert [e.outcome for e in audit if e.label == "console:decline-withdrawal"
            and e.actor_email == users["coordinator"].username] == ["rejected"]  # fmt: skip
