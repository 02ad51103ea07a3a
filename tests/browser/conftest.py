"""The console in a real headless Chromium (the OS package, driven by Playwright): the session's
embedded stack serves it on a free port of 127.0.0.1 through infrastructure.local_console, as
`dsr-intake serve` does, and each test's tab signs in through the real pages. Every page a tab
lands on is checked by axe-core, and any Content-Security-Policy refusal the browser reports
fails the test.

Without a Chromium these tests are skipped, except in CI (CI=true), where that is a failure:
.ci/run installs one."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Response,
    sync_playwright,
)

from infrastructure.local_console import ConsoleServer, console_server
from infrastructure.local_console_resources import ConsoleUser, create_user, totp_code
from infrastructure.local_stack import LocalStack
from tests.browser import accessibility

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# nhsuk-frontend's stylesheet asks for the Frutiger fonts from assets.nhs.uk, which the
# console's policy (nothing from elsewhere) refuses: the pages fall back to Arial, as designed.
NHS_FONTS_REFUSED = "Loading the font 'https://assets.nhs.uk/fonts/"
TIMEOUT_MS = 60_000  # one request can wait behind the pipeline on a loaded machine


def chromium_executable() -> str | None:
    """DSR_CHROMIUM if set, else the first Chromium or Chrome on the PATH."""
    chosen = os.environ.get("DSR_CHROMIUM")
    if chosen:
        return chosen if os.access(chosen, os.X_OK) else None
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    executable = chromium_executable()
    if executable is None:
        reason = (
            "no Chromium on this machine (looked for DSR_CHROMIUM, then "
            f"{', '.join(CHROMIUM_NAMES)} on the PATH): apt-get install chromium"
        )
        # Never skipped: `make test` installs it where it is missing (make chromium).
        pytest.fail(f"{reason}, or run `make chromium`", pytrace=False)
    with sync_playwright() as playwright:
        # Playwright's own browser download is not used: the OS package is.
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def stack_lock() -> threading.RLock:
    """One caller of the stack's handlers at a time: the console's thread or the test's."""
    return threading.RLock()


@pytest.fixture(scope="session")
def console_server_(stack: LocalStack, stack_lock: threading.RLock) -> Iterator[ConsoleServer]:
    server = console_server(stack, 0, stack_lock)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def coordinator(stack: LocalStack, stack_lock: threading.RLock) -> ConsoleUser:
    with stack_lock:
        return create_user(stack, "browser.coordinator@nhs.net", "coordinator")


class Tab:
    """One browser tab on the console. Every page it lands on is checked by axe-core before
    the test goes on (`settled` fails a test that skipped one), and any refusal by the
    page's Content-Security-Policy is recorded."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.page: Page = context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.loads: list[str] = []
        self.checked = 0
        self.refused: list[str] = []
        self.page.on("load", lambda page: self.loads.append(page.url))
        self.page.on("console", self._console)

    def _console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text and not text.startswith(NHS_FONTS_REFUSED):
            self.refused.append(text)

    def check(self) -> None:
        """axe-core on the page now shown: no WCAG 2.2 A or AA violation."""
        self.page.wait_for_load_state("load")
        unchecked = len(self.loads) - self.checked
        assert unchecked <= 1, f"pages not checked for accessibility: {self.loads[self.checked :]}"
        found = accessibility.violations(self.page)
        self.checked = len(self.loads)
        assert not found, f"{self.page.url}: accessibility violations:\n" + "\n".join(found)

    def open(self, path: str) -> Response:
        response = self.page.goto(path)
        assert response is not None
        self.check()
        return response

    def click(self, role: Literal["button", "link"], name: str) -> None:
        """Click a link or button that loads a page (a GET, or a form's POST), then check it."""
        self.press(self.page.get_by_role(role, name=name, exact=True))

    def press(self, target: Locator) -> None:
        """Click what loads a page, then check the page."""
        with self.page.expect_navigation():
            target.click()
        self.check()

    def expand_all(self) -> None:
        """Open every closed <details> (the forms folded in them), then check the page again."""
        closed = self.page.locator("details:not([open]) > summary")
        while closed.count():
            closed.first.click()
        self.check()

    def heading(self) -> str:
        return self.page.locator("h1").inner_text()

    def sign_in(self, user: ConsoleUser) -> None:
        """As a person does: email and password, then the code from their authenticator
        (RFC 6238 from the key printed for them)."""
        self.open("/sign-in")
        self.page.get_by_label("Email address").fill(user.username)
        self.page.get_by_label("Password").fill(user.password)
        self.click("button", "Continue")
        assert self.heading() == "Enter the code from your authenticator app"
        # moto, like Cognito, takes only this 30 seconds' code: never send one about to lapse.
        if time.time() % 30 > 27:
            time.sleep(30 - time.time() % 30)
        self.page.get_by_label("6-digit code").fill(totp_code(user.totp_secret))
        self.click("button", "Sign in")

    def settled(self) -> None:
        assert self.checked == len(self.loads), f"not checked: {self.loads[self.checked :]}"
        assert not self.refused, f"refused by the Content-Security-Policy: {self.refused}"


@pytest.fixture
def tab(chromium: Browser, console_server_: ConsoleServer) -> Iterator[Tab]:
    """A new browser profile (no cookies) on the console, not signed in."""
    context = chromium.new_context(base_url=console_server_.url, accept_downloads=True)
    opened = Tab(context)
    yield opened
    try:
        opened.settled()
    finally:
        context.close()


@pytest.fixture
def coordinator_tab(tab: Tab, coordinator: ConsoleUser) -> Tab:
    tab.sign_in(coordinator)
    return tab
