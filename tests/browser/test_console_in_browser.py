"""The coordinators' console in a real headless Chromium: sign in with the password and the
authenticator's code, find a case, the register's filters, the register in numbers and its
CSV, sign out. Every page the browser lands on passes axe-core's WCAG 2.2 AA rules (the `tab`
fixture checks each one)."""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser

from infrastructure.local_console import ConsoleServer
from infrastructure.local_console_resources import ConsoleUser
from infrastructure.local_stack import LocalStack
from infrastructure.samples import child, consent_pdf, email, referral_pdf, uk, years_ago
from shared.adapters import client
from shared.adapters.console_register import ConsoleRegisterTable
from tests.browser.conftest import Tab

# Unique among the tests' seeds and names (the session's stack is shared).
SEED_OPEN, SEED_PENDING, SEED_TURNING_18, SEED_COUNTED = 1531, 1535, 1539, 1543


@dataclass(frozen=True)
class Child:
    reference: str
    name: str
    nhs_number: str


def _person(seed: int, given: str, family: str, born: str) -> dict[str, str]:
    return {
        **child(seed),
        "child_given_name": given,
        "child_family_name": family,
        "child_date_of_birth": born,
    }


def _through_the_pipeline(
    stack: LocalStack, lock: threading.RLock, raw: bytes, person: dict[str, str]
) -> Child:
    with lock:
        message_id = stack.deliver_email(raw)
        stack.run_pipeline()
        register = ConsoleRegisterTable(client("dynamodb"), stack.resources["RegisterTable"])
        submission = register.submission(message_id)
    assert submission is not None and submission.case_id, submission
    name = f"{person['child_given_name']} {person['child_family_name']}"
    return Child(submission.case_id, name, person["child_nhs_number"])


def _referred(
    stack: LocalStack, lock: threading.RLock, person: dict[str, str], *, consent: bool = True
) -> Child:
    forms = [("referral.pdf", referral_pdf(**person))]
    if consent:
        forms.append(("consent.pdf", consent_pdf(**person)))
    return _through_the_pipeline(stack, lock, email(*forms), person)


@pytest.fixture(scope="module")
def children(stack: LocalStack, stack_lock: threading.RLock) -> Iterator[dict[str, Child]]:
    """Three children put through the pipeline as emails: one on the register, one waiting
    for its consent, one turning 18 within the alert window (6 months)."""
    people = {
        "open": _person(SEED_OPEN, "Tamsin", "Quillfeather", uk(years_ago(12, days=60))),
        "pending": _person(SEED_PENDING, "Orrin", "Blackwood-Hale", uk(years_ago(13, days=90))),
        "turning 18": _person(SEED_TURNING_18, "Juno", "Dunmarrow", uk(years_ago(17, days=200))),
    }
    numbers = {person["child_nhs_number"] for person in people.values()}
    assert len(numbers) == len(people)
    yield {
        what: _referred(stack, stack_lock, person, consent=what != "pending")
        for what, person in people.items()
    }


def _references(tab: Tab) -> list[str]:
    return tab.page.locator("table.nhsuk-table tbody tr td:first-child a").all_inner_texts()


def test_a_coordinator_signs_in_with_the_password_then_the_authenticator_code(
    tab: Tab, coordinator: ConsoleUser
) -> None:
    tab.open("/register")  # not signed in: sent to sign in
    assert tab.page.url.endswith("/sign-in") and tab.heading() == "Sign in"
    # A wrong code is refused, with the error summary the design system asks for.
    tab.page.get_by_label("Email address").fill(coordinator.username)
    tab.page.get_by_label("Password").fill(coordinator.password)
    tab.click("button", "Continue")
    tab.page.get_by_label("6-digit code").fill("000000")
    tab.click("button", "Sign in")
    assert tab.page.get_by_role("alert").get_by_text("There is a problem").is_visible()
    assert not any(c["name"] == "__Host-dsr-session" for c in tab.context.cookies())

    tab.sign_in(coordinator)
    assert tab.page.url.endswith("/register") and tab.heading() == "The register"
    assert "(coordinator)" in tab.page.get_by_role("navigation", name="Account").inner_text()
    session = [c for c in tab.context.cookies() if c["name"] == "__Host-dsr-session"]
    assert session and session[0]["httpOnly"] and session[0]["secure"]


def test_a_case_is_found_by_nhs_number_reference_and_name_with_nothing_in_the_url(
    coordinator_tab: Tab, children: dict[str, Child]
) -> None:
    tab, wanted = coordinator_tab, children["open"]
    search = tab.page.get_by_label("Find a case by reference, NHS number or name")
    for query in (wanted.nhs_number, wanted.reference.lower(), "quillfeather tamsin"):
        search = tab.page.get_by_label("Find a case by reference, NHS number or name")
        search.fill(query)
        tab.click("button", "Search")
        assert _references(tab) == [wanted.reference], query
        row = tab.page.locator("tbody tr").first.inner_text()
        assert wanted.name in row and "12" in row  # the name and the age
        assert tab.page.url.endswith("/register/search")  # a POST: no words in the URL
    search.fill("Nobody Ofthisname")
    tab.click("button", "Search")
    assert _references(tab) == [] and "No case matches." in tab.page.inner_text("tbody")


FLAG_OF_FILTER = {
    "overdue": "Review overdue",
    "C(E)TR overdue": "C(E)TR overdue",
    "keyworker": "Keyworker not referred",
    "turning 18": "Turns 18 on",
    "pending": "Waiting for its other form",
}


def test_the_register_filters_show_only_the_cases_they_name(
    coordinator_tab: Tab, children: dict[str, Child]
) -> None:
    tab = coordinator_tab
    tab.open("/register")
    shown = {"all": set(_references(tab))}
    for link, flag in FLAG_OF_FILTER.items():
        tab.click("link", link)
        assert (
            tab.page.get_by_role("navigation", name="Filters")
            .locator("[aria-current=page]")
            .inner_text()
            == link
        )
        for row in tab.page.locator("tbody tr").all():
            assert flag in row.inner_text() or row.inner_text() == "No cases.", (link, row)
        shown[link] = set(_references(tab))
        assert shown[link] <= shown["all"], link
    assert {child.reference for child in children.values()} <= shown["all"]
    assert children["pending"].reference in shown["pending"]
    assert children["turning 18"].reference in shown["turning 18"]
    assert children["open"].reference not in shown["pending"] | shown["turning 18"]
    assert children["turning 18"].reference not in shown["pending"]
    tab.click("link", "all")
    assert set(_references(tab)) == shown["all"]


def _counts(csv_text: str) -> dict[tuple[str, str], int]:
    return {(row[0], row[1]): int(row[2]) for row in list(csv.reader(io.StringIO(csv_text)))[1:]}


def _download(tab: Tab) -> tuple[str, str]:
    with tab.page.expect_download() as downloading:
        tab.page.get_by_role("link", name="Download these counts (CSV)").click()
    download = downloading.value
    return download.suggested_filename, download.path().read_text(encoding="utf-8")


def test_the_register_in_numbers_and_its_csv_count_a_new_case(
    coordinator_tab: Tab, stack: LocalStack, stack_lock: threading.RLock
) -> None:
    tab = coordinator_tab
    tab.click("link", "Register in numbers")
    assert tab.heading() == "The register in numbers"
    assert tab.page.locator("table").count() >= 5  # each chart is a table of its numbers
    name, before = _download(tab)
    assert re.fullmatch(r"dsr-population-\d{4}-\d{2}-\d{2}\.csv", name), name
    assert before.splitlines()[0] == "measure,group,count"

    person = _person(SEED_COUNTED, "Wren", "Ottershaw", uk(years_ago(11, days=30)))
    _referred(stack, stack_lock, {**person, "suggested_rag": "Red"})
    tab.open("/population")
    _, after = _download(tab)
    counted_before, counted_after = _counts(before), _counts(after)
    red = ("on the register by rating", "Red")
    assert counted_after[red] == counted_before.get(red, 0) + 1
    assert "Ottershaw" not in after and person["child_nhs_number"] not in after


def test_signing_out_ends_the_session_and_going_back_shows_sign_in(
    coordinator_tab: Tab,
) -> None:
    tab = coordinator_tab
    tab.click("button", "Sign out")
    assert tab.heading() == "Sign in"
    assert "You have signed out." in tab.page.inner_text("main")
    assert not any(c["name"].startswith("__Host-dsr-session") for c in tab.context.cookies())
    assert not any(c["name"].startswith("__Host-dsr-refresh") for c in tab.context.cookies())
    # Back to the register: not from the browser's cache (no-store), and no longer served.
    tab.page.go_back()
    tab.check()
    assert tab.page.url.endswith("/sign-in") and tab.heading() == "Sign in"


def test_a_session_cookie_copied_before_signing_out_is_refused_after(
    coordinator_tab: Tab, chromium: Browser, console_server_: ConsoleServer
) -> None:
    copied = [c for c in coordinator_tab.context.cookies() if c["name"] == "__Host-dsr-session"]
    assert copied
    coordinator_tab.click("button", "Sign out")
    elsewhere = chromium.new_context(base_url=console_server_.url)
    try:
        elsewhere.add_cookies(copied)  # type: ignore[arg-type]
        replayed = Tab(elsewhere)
        replayed.open("/register")
        replayed.settled()
        assert replayed.page.url.endswith("/sign-in")
    finally:
        elsewhere.close()
