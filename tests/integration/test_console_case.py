"""The console's case page and its action forms through the ConsoleFunction's own handler on
the embedded stack: each role's view (audited), the original files' download, each action's
POST end to end (the register, outbox, audit and sent mail), a form sent twice done once,
CSRF refusals, escaping of hostile values, and no personal data in URLs or logs."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from typing import Any

import pytest

from infrastructure.local_console_resources import ConsoleUser, create_user
from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.samples import child, consent_pdf, email, referral_pdf, uk
from shared.adapters.console_register import ConsoleRegisterTable
from shared.case import Case, CaseStatus
from shared.outcome import Outcome
from tests.integration.test_case_lifecycle import everything_stored, found
from tests.integration.test_console import Browser

# Unique among the tests' seeds and users (the session's stack is shared).
SEEDS = (1401, 1402, 1403, 1405, 1406, 1407, 1408)  # distinct NHS numbers
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def users(stack: LocalStack) -> dict[str, ConsoleUser]:
    return {
        role: create_user(stack, f"case.{role}@nhs.net", role)
        for role in ("coordinator", "panel", "admin")
    }


def on_register(
    stack: LocalStack,
    register: ConsoleRegisterTable,
    seed: int,
    names: dict[str, str] | None = None,
    **extra: str,
) -> str:
    person = {**child(seed), **(names or {})}
    message_id = stack.deliver_email(
        email(
            (f"{HOSTILE}.pdf", referral_pdf(**person, **extra)),
            ("consent.pdf", consent_pdf(**person)),
        )
    )
    stack.run_pipeline()
    submission = register.submission(message_id)
    assert submission is not None and submission.outcome is Outcome.ACCEPTED
    assert submission.case_id
    return submission.case_id


def signed_in(stack: LocalStack, user: ConsoleUser) -> Browser:
    browser = Browser(stack)
    browser.sign_in(user)
    return browser


def form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden fields (CSRF and one-time token) of the form posting to `action`."""
    found_form = re.search(rf'<form action="{re.escape(action)}".*?</form>', page, re.S)
    assert found_form, action
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', found_form.group(0)))


def held(register: ConsoleRegisterTable, case_id: str) -> Case:
    case = register.case(case_id)
    assert case is not None
    return case


def labels(register: ConsoleRegisterTable, stack: LocalStack, case_id: str) -> list[str]:
    return [e.label or "" for e in register.case_audit(held(register, case_id), stack.now())]


def raw_body(answer: dict[str, Any]) -> bytes:
    body = answer.get("body") or ""
    return base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()


def test_each_role_sees_the_case_or_is_refused_and_every_view_is_audited(
    stack: LocalStack, users: dict[str, ConsoleUser], register: ConsoleRegisterTable
) -> None:
    case_id = on_register(stack, register, SEEDS[0])
    path = f"/cases/{case_id}"
    anonymous = Browser(stack).request("GET", path)
    assert (anonymous["statusCode"], anonymous["headers"]["Location"]) == (303, "/sign-in")
    assert signed_in(stack, users["admin"]).request("GET", path)["statusCode"] == 403
    coordinator = signed_in(stack, users["coordinator"]).request("GET", path)
    panel = signed_in(stack, users["panel"]).request("GET", path)
    for page in (coordinator, panel):
        assert page["statusCode"] == 200
        assert page["headers"]["Cache-Control"] == "no-store"
        assert page["text"].count("<h1") == 1 and f"<h1>Case {case_id}</h1>" in page["text"]
        assert child(SEEDS[0])["child_family_name"] in page["text"]
    # The actions each role may take, from the one role table.
    for action in ("correct", "review", "close", "withdraw", "subject-access"):
        assert f'action="{path}/{action}"' in coordinator["text"], action
    assert f'action="{path}/review"' in panel["text"] and f'action="{path}/close"' in panel["text"]
    for action in ("correct", "withdraw", "subject-access"):
        assert f'action="{path}/{action}"' not in panel["text"], action
    views = [e for e in register.case_audit(held(register, case_id), stack.now())
             if e.label == "console:view:case"]  # fmt: skip
    assert {(e.actor_email, e.actor_role) for e in views} == {
        (users["coordinator"].username, "coordinator"),
        (users["panel"].username, "panel"),
    }
    browser = signed_in(stack, users["coordinator"])
    assert browser.request("GET", "/cases/DSR-ZZZZ9999")["statusCode"] == 404
    assert browser.request("GET", "/cases/not-a-reference")["statusCode"] == 404


def test_the_case_page_escapes_hostile_values_and_serves_its_files_as_attachments(
    stack: LocalStack, users: dict[str, ConsoleUser], register: ConsoleRegisterTable
) -> None:
    case_id = on_register(stack, register, SEEDS[1], reason_for_referral=HOSTILE)
    browser = signed_in(stack, users["coordinator"])
    page = browser.request("GET", f"/cases/{case_id}")["text"]
    assert "<script" not in page and "<img" not in page and "onerror=alert" in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page  # the reason, inert
    links = re.findall(r'href="(/cases/[^"]+/files/[^"]+)"', page)
    assert links == [f"/cases/{case_id}/files/1/1", f"/cases/{case_id}/files/1/2"]
    stack.log_lines.clear()
    download = browser.request("GET", links[0])
    assert download["statusCode"] == 200
    assert download["headers"]["Content-Type"] == "application/octet-stream"
    assert download["headers"]["Content-Disposition"] == (
        f'attachment; filename="{case_id}-email-1-attachment-1.pdf"'
    )  # the sender's hostile filename is listed on the page, never used
    assert download["headers"]["Cache-Control"] == "no-store"
    assert raw_body(download) == referral_pdf(**child(SEEDS[1]), reason_for_referral=HOSTILE)
    assert "console:view:file" in labels(register, stack, case_id)
    logged = "\n".join(stack.log_lines)
    assert '"what":"case:file"' in logged and child(SEEDS[1])["child_family_name"] not in logged
    for missing in ("/files/1/9", "/files/2/1", "/files/0/1", "/files/x/1"):
        assert browser.request("GET", f"/cases/{case_id}{missing}")["statusCode"] == 404
    assert signed_in(stack, users["admin"]).request("GET", links[0])["statusCode"] == 403


def test_a_correction_from_the_page_is_recorded_once_with_errors_shown_per_field(
    stack: LocalStack, users: dict[str, ConsoleUser], register: ConsoleRegisterTable
) -> None:
    case_id = on_register(stack, register, SEEDS[2])
    path = f"/cases/{case_id}"
    browser = signed_in(stack, users["coordinator"])
    page = browser.request("GET", path)["text"]
    hidden = form_fields(page, f"{path}/correct")
    version = held(register, case_id).version
    # Refused: no CSRF token; another form's token; a postcode that is not one; no reason.
    no_csrf = browser.request("POST", f"{path}/correct", {"token": hidden["token"],
                              "field": "postcode", "value": "BR6 0AA", "reason": "Typo"})  # fmt: skip
    assert no_csrf["statusCode"] == 403
    bad = browser.request("POST", f"{path}/correct", {**hidden, "field": "postcode",
                          "value": "NOT A CODE", "reason": HOSTILE})  # fmt: skip
    assert bad["statusCode"] == 400 and "There is a problem" in bad["text"]
    assert 'href="#correct-child_postcode"' in bad["text"] or "correct-value-error" in bad["text"]
    assert "nhsuk-error-message" in bad["text"] and "<script" not in bad["text"]
    assert '<details class="nhsuk-details" id="correct" open>' in bad["text"]
    assert held(register, case_id).version == version
    # Done: a 303 back to the case; the same form again does nothing more.
    form = {**hidden, "field": "postcode", "value": "br6 0aa", "reason": HOSTILE}
    done = browser.request("POST", f"{path}/correct", form)
    assert (done["statusCode"], done["headers"]["Location"]) == (303, f"{path}?done=correct")
    again = browser.request("POST", f"{path}/correct", form)
    assert again["headers"]["Location"] == f"{path}?done=already"
    case = held(register, case_id)
    assert case.version == version + 1 and case.referral and case.referral.postcode == "BR6 0AA"
    assert [(c.old, c.new, c.by.email) for c in case.corrections] == [
        ("BR1 3AA", "BR6 0AA", users["coordinator"].username)
    ]
    shown = browser.request("GET", done["headers"]["Location"])["text"]
    assert "The correction is recorded" in shown and "&lt;script&gt;" in shown
    assert "<script" not in shown
    assert "console:correct:postcode" in labels(register, stack, case_id)
    # A panel member may not correct (the role table): refused, nothing recorded.
    panel = signed_in(stack, users["panel"])
    panel_page = panel.request("GET", path)["text"]
    refused = panel.post(f"{path}/correct", token=form_fields(panel_page, f"{path}/review")["token"],
                         field="postcode", value="BR5 1AA", reason="x")  # fmt: skip
    assert refused["statusCode"] == 403
    assert held(register, case_id).version == version + 1


def test_a_review_and_a_closure_from_the_page_are_recorded_once_and_answered(
    stack: LocalStack, users: dict[str, ConsoleUser], register: ConsoleRegisterTable
) -> None:
    case_id = on_register(stack, register, SEEDS[3])
    path = f"/cases/{case_id}"
    panel = signed_in(stack, users["panel"])
    hidden = form_fields(panel.request("GET", path)["text"], f"{path}/review")
    assert panel.request("POST", f"{path}/review", {"token": hidden["token"]})["statusCode"] == 403
    missing = panel.request("POST", f"{path}/review", {**hidden, "rag_rating": "Green"})
    assert missing["statusCode"] == 400
    assert 'href="#review-review_date"' in missing["text"]
    assert 'id="review-review_date-error"' in missing["text"]
    form = {**hidden, "review_date": uk(stack.now().date()), "rag_rating": "Green",
            "outcome_summary": "Stable at home; plan working."}  # fmt: skip
    before = len(sent_emails())
    done = panel.request("POST", f"{path}/review", form)
    assert done["headers"]["Location"] == f"{path}?done=review"
    assert panel.request("POST", f"{path}/review", form)["headers"]["Location"].endswith("already")
    case = held(register, case_id)
    assert len(case.reviews) == 1 and case.rating and case.rating.value == "Green"
    assert case.reviews[0].reviewer_name == users["panel"].username
    [line] = [e for e in register.case_audit(case, stack.now()) if e.label == "console:review"]
    assert (line.actor_role, line.outcome) == ("panel", "updated")
    stack.run_pipeline()
    told = [m for m in sent_emails()[before:] if case_id in m.subject + m.body]
    assert told and all(users["panel"].username not in m.to for m in told)
    # Closed by the panel, with its reason; sent twice, closed once.
    close = form_fields(panel.request("GET", path)["text"], f"{path}/close")
    closing = {**close, "removal_reason": "Needs met by universal services."}
    assert panel.request("POST", f"{path}/close", closing)["statusCode"] == 303
    version = held(register, case_id).version
    assert panel.request("POST", f"{path}/close", closing)["headers"]["Location"].endswith(
        "already"
    )
    case = held(register, case_id)
    assert case.status is CaseStatus.CLOSED and case.version == version
    page = panel.request("GET", path)["text"]
    assert f'action="{path}/review"' not in page and f'action="{path}/close"' not in page


def test_a_withdrawal_from_the_page_checks_the_person_then_erases_them_once(
    stack: LocalStack, users: dict[str, ConsoleUser], register: ConsoleRegisterTable
) -> None:
    # Names no other test's child has: the whole stack is searched for them afterwards.
    names = {"child_given_name": "Thessaly", "child_family_name": "Okonkwo-Ridgeway"}
    person = {**child(SEEDS[4]), **names}
    case_id = on_register(stack, register, SEEDS[4], names)
    path = f"/cases/{case_id}"
    browser = signed_in(stack, users["coordinator"])
    page = browser.request("GET", path)["text"]
    assert "nhsuk-warning-callout" in page and "cannot be undone" in page
    hidden = form_fields(page, f"{path}/withdraw")
    typed = {"child_nhs_number": person["child_nhs_number"],
             "child_date_of_birth": person["child_date_of_birth"],
             "withdrawn_by_name": "Parent", "withdrawn_by_relationship": "Mother",
             "withdrawal_date": uk(stack.now().date())}  # fmt: skip
    stack.log_lines.clear()
    wrong = browser.request("POST", f"{path}/withdraw",
                            {**hidden, **typed, "child_nhs_number": "943 476 5870"})  # fmt: skip
    assert wrong["statusCode"] == 400 and "There is a problem" in wrong["text"]
    assert 'href="#withdraw-child_nhs_number"' in wrong["text"]
    assert held(register, case_id).status is CaseStatus.ACTIVE
    assert (
        browser.request("POST", f"{path}/withdraw", {**typed, "token": hidden["token"]})[
            "statusCode"
        ]
        == 403
    )
    done = browser.request("POST", f"{path}/withdraw", {**hidden, **typed})
    assert done["headers"]["Location"] == f"{path}?done=withdraw"
    assert browser.request("POST", f"{path}/withdraw", {**hidden, **typed})["headers"][
        "Location"
    ].endswith("already")
    stack.run_pipeline()
    case = held(register, case_id)
    assert case.status is CaseStatus.WITHDRAWN and case.child is None
    assert found(person, everything_stored(stack)) == set()
    after = browser.request("GET", path)["text"]
    assert "None held: they were erased." in after and f'action="{path}/withdraw"' not in after
    logged = "\n".join(stack.log_lines)
    assert found(person, logged) == set() and "943 476 5870" not in logged


def test_a_subject_access_export_is_a_zip_download_audited_and_for_coordinators_only(
    stack: LocalStack, users: dict[str, ConsoleUser], register: ConsoleRegisterTable
) -> None:
    case_id = on_register(stack, register, SEEDS[5])
    path = f"/cases/{case_id}"
    browser = signed_in(stack, users["coordinator"])
    hidden = form_fields(browser.request("GET", path)["text"], f"{path}/subject-access")
    assert browser.request("POST", f"{path}/subject-access", {})["statusCode"] == 403
    export = browser.request("POST", f"{path}/subject-access", hidden)
    assert export["statusCode"] == 200
    assert export["headers"]["Content-Type"] == "application/zip"
    assert export["headers"]["Content-Disposition"] == (
        f'attachment; filename="{case_id}-subject-access.zip"'
    )
    assert export["headers"]["Cache-Control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(raw_body(export)))
    assert child(SEEDS[5])["child_family_name"] in archive.read("summary.txt").decode()
    assert "files/email-1/attachment-1.pdf" in archive.namelist()
    assert "console:export:sar" in labels(register, stack, case_id)
    panel = signed_in(stack, users["panel"])
    panel.request("GET", path)
    assert panel.post(f"{path}/subject-access")["statusCode"] == 403


def test_no_url_on_the_case_page_holds_personal_data(
    stack: LocalStack, users: dict[str, ConsoleUser], register: ConsoleRegisterTable
) -> None:
    person = child(SEEDS[6])
    case_id = on_register(stack, register, SEEDS[6])
    page = signed_in(stack, users["coordinator"]).request("GET", f"/cases/{case_id}")["text"]
    urls = re.findall(r'(?:href|action)="([^"]*)"', page)
    assert urls and all(not found(person, url) for url in urls)
    case_urls = [url for url in urls if url.startswith("/cases/")]
    assert case_urls and all(
        re.fullmatch(
            rf"/cases/{case_id}(/(correct|review|close|withdraw|subject-access)"
            r"|/files/\d+/\d+)?",
            url,
        )
        for url in case_urls
    )
