"""The coordinators' decisions in a real browser: read a quarantined email's file and
release it (the confirmation saying what came of it), verify a self-referral and enter a scanned consent by hand from Triage; correct a field and export a
subject access request from the Case page. Every page landed on (error pages and the forms
folded in <details> too) passes axe-core's WCAG 2.2 AA rules."""

from __future__ import annotations

import io
import re
import threading
import zipfile

from playwright.sync_api import Locator

from infrastructure.local_stack import LocalStack
from infrastructure.sample_documents import scanned_pdf
from infrastructure.samples import TICK, consent_fields, email, referral_pdf, uk, years_ago
from tests.browser.conftest import Tab
from tests.browser.test_console_in_browser import (
    Child,
    _person,
    _references,
    _referred,
)

# Unique among the tests' seeds, names and senders (the session's stack is shared).
SEED_QUARANTINED, SEED_SELF, SEED_SCANNED, SEED_CORRECTED = 1551, 1555, 1559, 1563
GP = "browser.gp.surgery@example.org"
FAMILY = "browser.family@gmail.com"
CAMHS = "browser.camhs@nhs.net"
FAILED_DMARC = (
    "spf=pass smtp.mailfrom=example.org; dkim=pass header.i=@example.org; "
    "dmarc=fail header.from=example.org"
)
SEARCH = "Find a case by reference, NHS number or name"


def _waiting(tab: Tab, sender: str, button: str) -> Locator:
    """The one Triage row from `sender` that offers `button`."""
    tab.click("link", "Triage")
    rows = tab.page.locator("tbody tr").filter(has_text=f"From {sender}")
    row = rows.filter(has=tab.page.get_by_role("button", name=re.compile(f"^{button}\\b")))
    assert row.count() == 1, rows.all_inner_texts()
    return row


def _found(tab: Tab, nhs_number: str) -> list[str]:
    tab.click("link", "Register")
    tab.page.get_by_label(SEARCH).fill(nhs_number)
    tab.click("button", "Search")
    return _references(tab)


def test_a_quarantined_genuine_referral_is_released_from_triage(
    coordinator_tab: Tab, stack: LocalStack, stack_lock: threading.RLock
) -> None:
    tab = coordinator_tab
    person = _person(SEED_QUARANTINED, "Ysolde", "Grindlewood", uk(years_ago(9, days=20)))
    referral = referral_pdf(**person)
    raw = email(
        ("referral.pdf", referral), sender=GP, auth=FAILED_DMARC
    )  # its own domain's DMARC failed: quarantined, however genuine
    with stack_lock:
        stack.deliver_email(raw)
        stack.run_pipeline()
    assert _found(tab, person["child_nhs_number"]) == []
    row = _waiting(tab, GP, "Release")
    assert "quarantined" in row.inner_text() and "Subject: DSR referral" in row.inner_text()
    # The coordinator reads the file before deciding: downloaded, never shown by the browser.
    row.get_by_text("Attachments (1)").click()
    with tab.page.expect_download() as downloading:
        row.get_by_role("button", name=re.compile(r"^Download attachment 1\b")).click()
    got = downloading.value
    assert re.fullmatch(r"triage-\d{8}-\d{4}-attachment-1\.pdf", got.suggested_filename)
    assert got.path().read_bytes() == referral
    tab.press(row.get_by_role("button", name=re.compile(r"^Release\b")))
    main = tab.page.inner_text("main")
    assert "The email is released" in main
    assert re.search(r"Pending: case DSR-\w+, waiting for the consent form", main), main
    assert tab.page.locator("tbody tr").filter(has_text=f"From {GP}").count() == 0
    [reference] = _found(tab, person["child_nhs_number"])
    assert "Waiting for its other form" in tab.page.locator("tbody tr").first.inner_text()
    assert reference.startswith("DSR-")


def test_a_self_referral_is_verified_from_triage_into_a_case(
    coordinator_tab: Tab, stack: LocalStack, stack_lock: threading.RLock
) -> None:
    tab = coordinator_tab
    person = _person(SEED_SELF, "Bartholomew", "Thackeridge", uk(years_ago(15, days=10)))
    raw = email(("referral.pdf", referral_pdf(**person)), sender=FAMILY)  # proved, clean
    with stack_lock:
        stack.deliver_email(raw)
        stack.run_pipeline()
    row = _waiting(tab, FAMILY, "Verify")
    assert "self referral" in row.inner_text()
    tab.press(row.get_by_role("button", name=re.compile(r"^Verify\b")))
    assert "The self-referral is verified" in tab.page.inner_text("main")
    assert tab.page.locator("tbody tr").filter(has_text=f"From {FAMILY}").count() == 0
    assert len(_found(tab, person["child_nhs_number"])) == 1


def _type_form(tab: Tab, prefix: str, fields: dict[str, str]) -> None:
    """Type a form's fields as a person would: tick, choose or type each."""
    for name, value in fields.items():
        control = tab.page.locator(f'[name="{prefix}.{name}"]')
        kind = control.first.get_attribute("type") or control.first.evaluate("e => e.tagName")
        if kind == "checkbox":
            if value == TICK:
                control.check()
        elif kind == "radio":
            tab.page.locator(f'[name="{prefix}.{name}"][value="{value}"]').check()
        elif kind == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)


def test_a_scanned_consent_is_entered_by_hand_and_completes_its_referral(
    coordinator_tab: Tab, stack: LocalStack, stack_lock: threading.RLock
) -> None:
    tab = coordinator_tab
    person = _person(SEED_SCANNED, "Ambrosine", "Marchbanks", uk(years_ago(10, days=75)))
    pending = _referred(stack, stack_lock, person, consent=False)
    with stack_lock:
        stack.deliver_email(email(("consent-scan.pdf", scanned_pdf()), sender=CAMHS))
        stack.run_pipeline()
    tab.press(
        _waiting(tab, CAMHS, "Enter by hand").get_by_role("button", name=re.compile("^Enter"))
    )
    assert tab.heading() == "Enter a form by hand"
    tab.page.get_by_label("Which attachment is the consent form?").select_option("1")
    tab.expand_all()  # the folded fields, checked too
    typed = consent_fields(**{**person, "child_nhs_number": ""})
    _type_form(tab, "consent", typed)
    tab.click("button", "Record the form")  # without the NHS number: refused, field by field
    summary = tab.page.get_by_role("alert")
    assert "There is a problem" in summary.inner_text()
    assert summary.locator('a[href="#consent-child_nhs_number"]').count() == 1
    tab.page.locator('[name="consent.child_nhs_number"]').fill(person["child_nhs_number"])
    tab.click("button", "Record the form")
    assert "The form entered by hand is recorded" in tab.page.inner_text("main")
    assert _found(tab, person["child_nhs_number"]) == [pending.reference]
    assert "Waiting for its other form" not in tab.page.locator("tbody tr").first.inner_text()


def test_a_field_is_corrected_and_a_subject_access_request_exported_from_the_case_page(
    coordinator_tab: Tab, stack: LocalStack, stack_lock: threading.RLock
) -> None:
    tab = coordinator_tab
    person = _person(SEED_CORRECTED, "Clemency", "Pennywhistle", uk(years_ago(13, days=15)))
    case: Child = _referred(stack, stack_lock, {**person, "child_postcode": "BR1 3AA"})
    assert _found(tab, case.nhs_number) == [case.reference]
    tab.click("link", case.reference)
    assert tab.heading() == f"Case {case.reference}"
    tab.expand_all()  # every action's form, checked
    form = tab.page.locator(f'form[action="/cases/{case.reference}/correct"]')
    form.get_by_label("Field").select_option(label="Postcode")
    form.get_by_label("The right value").fill("BR2 9XY")
    tab.press(form.get_by_role("button", name="Correct the field"))  # no reason: refused
    assert tab.page.get_by_role("alert").is_visible()

    form = tab.page.locator(f'form[action="/cases/{case.reference}/correct"]')
    form.get_by_label("Field").select_option(label="Postcode")
    form.get_by_label("The right value").fill("BR2 9XY")
    form.get_by_label("Reason for the correction").fill("The referrer's typing slip")
    tab.press(form.get_by_role("button", name="Correct the field"))
    assert "The correction is recorded" in tab.page.inner_text("main")
    assert "BR2 9XY" in tab.page.locator("dl").first.inner_text()
    corrections = tab.page.locator("table", has_text="Corrections of the case's fields")
    fix = corrections.locator("tbody tr").first.inner_text()
    assert "BR1 3AA" in fix and "BR2 9XY" in fix and "The referrer's typing slip" in fix
    # The referrer's contact details too (the NHS number never: the page says why).
    tab.expand_all()
    form = tab.page.locator(f'form[action="/cases/{case.reference}/correct"]')
    assert "it is how the register finds the child" in form.inner_text()
    form.get_by_label("Field").select_option(label="Referrer's email")
    form.get_by_label("The right value").fill("not an address")
    form.get_by_label("Reason for the correction").fill("The referrer moved team")
    tab.press(form.get_by_role("button", name="Correct the field"))  # not an email: refused
    assert "not an email address" in tab.page.get_by_role("alert").inner_text()
    form = tab.page.locator(f'form[action="/cases/{case.reference}/correct"]')
    form.get_by_label("The right value").fill("sam.patel@oxleas.nhs.uk")
    tab.press(form.get_by_role("button", name="Correct the field"))
    assert "The correction is recorded" in tab.page.inner_text("main")
    fixes = corrections.locator("tbody tr").all_inner_texts()
    assert any("Referrer's email" in row and "sam.patel@oxleas.nhs.uk" in row for row in fixes)

    tab.expand_all()
    with tab.page.expect_download() as downloading:
        tab.page.get_by_role("button", name="Download the export (ZIP)").click()
    download = downloading.value
    assert download.suggested_filename == f"{case.reference}-subject-access.zip"
    archive = zipfile.ZipFile(io.BytesIO(download.path().read_bytes()))
    assert "Pennywhistle" in archive.read("summary.txt").decode()
    assert "files/email-1/attachment-1.pdf" in archive.namelist()
    assert tab.page.url.endswith(f"/cases/{case.reference}?done=correct")  # still on the page
