"""The console's web shell under the embedded stack: sign-in with MFA against moto's Cognito,
each role's pages, CSRF refusals, the security headers, escaping, search by POST, audit and
no personal data in URLs or logs. The ConsoleFunction's own handler is called with the HTTP
API's payload v2 event, as infrastructure.local_console calls it."""

from __future__ import annotations

import base64
import html
import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from infrastructure.local_console import console_server, http_event
from infrastructure.local_console_resources import ConsoleUser, create_user, totp_code
from infrastructure.local_stack import LocalStack
from infrastructure.samples import child, consent_pdf, email, referral_pdf

# Unique among the tests' seeds (the session's stack is shared).
SEED_SCRIPT, SEED_PLAIN = 471, 472


class Browser:
    """Cookies kept as a browser keeps them; every request through the function's handler."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.at: datetime | None = None  # the moment the function acts at (else the stack's)

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Any:
        headers = {"host": "console.local"}
        if self.cookies:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urlencode(form).encode() if form is not None else b""
        if form is not None:
            headers["content-type"] = "application/x-www-form-urlencoded"
        answer = self.stack.invoke("console", http_event(method, path, headers, body), self.at)
        for cookie in answer.get("cookies", []):
            name, value = cookie.split(";", 1)[0].split("=", 1)
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        text = answer.get("body") or ""
        if answer.get("isBase64Encoded"):
            text = base64.b64decode(text).decode("utf-8", "replace")
        found = re.search(r'name="csrf" value="([^"]+)"', text)
        if found:
            self.csrf = found.group(1)
        answer["text"] = text
        return answer

    def post(self, path: str, **fields: str) -> Any:
        return self.request("POST", path, {"csrf": self.csrf, **fields})

    def sign_in(self, user: ConsoleUser) -> Any:
        self.request("GET", "/sign-in")
        asked = self.post("/sign-in", email=user.username, password=user.password)
        assert "authenticator app" in asked["text"], asked["text"][-600:]
        signed_in = self.post("/sign-in/code", code=user.current_code())
        # As a browser does: follow the 303 (its page carries the new CSRF token).
        self.request("GET", signed_in["headers"]["Location"])
        return signed_in


@pytest.fixture(scope="module")
def users(stack: LocalStack) -> dict[str, ConsoleUser]:
    return {
        role: create_user(stack, f"console.{role}@nhs.net", role)
        for role in ("coordinator", "panel", "admin")
    }


@pytest.fixture(scope="module")
def cases(stack: LocalStack) -> Iterator[None]:
    """Two children on the register (a name the forms refuse, `<script>`, is rendered in
    tests/unit/console/test_console_pages.py)."""
    for person in (child(SEED_SCRIPT), child(SEED_PLAIN)):
        stack.deliver_email(
            email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person)))
        )
    stack.run_pipeline()
    yield


def _new_user(stack: LocalStack, username: str) -> None:
    cognito = stack.client("cognito-idp")
    pool = stack.resources["ConsoleUserPool"]
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=username,
        TemporaryPassword="Temporary-Pass-1234",
        MessageAction="SUPPRESS",
    )
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName="panel")


def _to_authenticator_setup(browser: Browser, username: str) -> str:
    browser.request("GET", "/sign-in")
    step = browser.post("/sign-in", email=username, password="Temporary-Pass-1234")
    assert "Choose a new password" in step["text"]
    step = browser.post("/sign-in/new-password", new_password="Brand-New-Pass-5678")
    assert "Set up your authenticator app" in step["text"]
    secret = re.search(r"<code>([A-Za-z0-9]+)</code>", step["text"])
    assert secret is not None
    return secret.group(1)


def test_a_new_user_sets_a_password_and_an_authenticator_then_signs_in_with_codes(
    stack: LocalStack,
) -> None:
    _new_user(stack, "console.new@nhs.net")
    browser = Browser(stack)
    secret = _to_authenticator_setup(browser, "console.new@nhs.net")
    done = browser.post("/sign-in/authenticator", code=totp_code(secret))
    assert done["statusCode"] == 303 and done["headers"]["Location"] == "/register"
    assert {"__Host-dsr-session", "__Host-dsr-refresh"} <= set(browser.cookies)
    assert "__Host-dsr-sign-in" not in browser.cookies
    assert browser.request("GET", "/register")["statusCode"] == 200
    # Next time: password, then the code; a wrong code is refused.
    again = Browser(stack)
    again.request("GET", "/sign-in")
    again.post("/sign-in", email="console.new@nhs.net", password="Brand-New-Pass-5678")
    assert again.post("/sign-in/code", code="000000")["statusCode"] == 401
    again.post("/sign-in", email="console.new@nhs.net", password="Brand-New-Pass-5678")
    assert again.post("/sign-in/code", code=totp_code(secret))["statusCode"] == 303


def test_a_wrong_code_while_setting_up_starts_the_sign_in_again(stack: LocalStack) -> None:
    _new_user(stack, "console.slow@nhs.net")
    browser = Browser(stack)
    _to_authenticator_setup(browser, "console.slow@nhs.net")
    wrong = browser.post("/sign-in/authenticator", code="000000")
    assert wrong["statusCode"] == 401 and "There is a problem" in wrong["text"]
    assert "<h1>Sign in</h1>" in wrong["text"]  # the key is not kept between pages
    assert "__Host-dsr-sign-in" not in browser.cookies
    assert "__Host-dsr-session" not in browser.cookies


def test_a_wrong_password_is_refused_without_saying_which_part(
    stack: LocalStack, users: dict[str, ConsoleUser]
) -> None:
    browser = Browser(stack)
    browser.request("GET", "/sign-in")
    refused = browser.post("/sign-in", email=users["panel"].username, password="wrong-Pass-999")
    assert refused["statusCode"] == 401
    assert "email address or password is not right" in refused["text"]
    assert "__Host-dsr-session" not in browser.cookies


def test_the_session_cookies_are_host_only_http_only_secure_and_strict(
    stack: LocalStack, users: dict[str, ConsoleUser]
) -> None:
    browser = Browser(stack)
    browser.request("GET", "/sign-in")
    browser.post("/sign-in", email=users["panel"].username, password=users["panel"].password)
    signed_in = browser.post("/sign-in/code", code=users["panel"].current_code())
    for cookie in signed_in["cookies"]:
        assert cookie.startswith("__Host-"), cookie
        for attribute in ("Path=/", "HttpOnly", "Secure", "SameSite=Strict"):
            assert attribute in cookie, cookie
        assert "Domain=" not in cookie


@pytest.mark.usefixtures("cases")
def test_each_role_sees_its_pages_and_is_refused_the_rest(
    stack: LocalStack, users: dict[str, ConsoleUser]
) -> None:
    anonymous = Browser(stack)
    for path in ("/register", "/population", "/population.csv", "/cases/DSR-ABCD1234"):
        answer = anonymous.request("GET", path)
        assert (answer["statusCode"], answer["headers"]["Location"]) == (303, "/sign-in"), path
    pack = "/register/panel-pack.csv"
    expected = {
        "coordinator": {"/register": 200, "/population": 200, "/population.csv": 200, pack: 200},
        "panel": {"/register": 200, "/population": 200, "/population.csv": 200, pack: 200},
        "admin": {"/register": 403, "/population": 200, "/population.csv": 200, pack: 403},
    }
    for role, pages in expected.items():
        browser = Browser(stack)
        home = browser.sign_in(users[role])
        assert home["headers"]["Location"] == ("/population" if role == "admin" else "/register")
        for path, status in pages.items():
            assert browser.request("GET", path)["statusCode"] == status, (role, path)
        # The header names the person by their address (the pool's), not by its user id.
        page = browser.request("GET", "/population")["text"]
        assert f"{html.escape(users[role].username)} ({role})" in page, role
        searched = browser.post("/register/search", query="Brennan")
        assert searched["statusCode"] == (403 if role == "admin" else 200), role


def test_a_forged_or_foreign_token_is_not_a_session(
    stack: LocalStack, users: dict[str, ConsoleUser]
) -> None:
    browser = Browser(stack)
    browser.sign_in(users["coordinator"])
    genuine = browser.cookies["__Host-dsr-session"]
    claims = jwt.decode(genuine, options={"verify_signature": False})
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": "dummy"})
    foreign = {**claims, "client_id": "another-client"}
    expired = {**claims, "exp": int(time.time()) - 60}
    for token in (
        forged,
        jwt.encode(foreign, other_key, algorithm="RS256", headers={"kid": "dummy"}),
        jwt.encode(claims, "", algorithm="none"),
        jwt.encode(expired, other_key, algorithm="RS256", headers={"kid": "dummy"}),
    ):
        intruder = Browser(stack)
        intruder.cookies["__Host-dsr-session"] = token
        answer = intruder.request("GET", "/register")
        assert (answer["statusCode"], answer["headers"]["Location"]) == (303, "/sign-in")
    assert browser.request("GET", "/register")["statusCode"] == 200


@pytest.mark.usefixtures("cases")
def test_every_post_needs_this_browsers_csrf_token(
    stack: LocalStack, users: dict[str, ConsoleUser]
) -> None:
    browser = Browser(stack)
    browser.sign_in(users["coordinator"])
    browser.request("GET", "/register")
    for form in ({"query": "Brennan"}, {"query": "Brennan", "csrf": "0" * 64}):
        refused = browser.request("POST", "/register/search", form)
        assert refused["statusCode"] == 403 and "The form has expired" in refused["text"]
    # Another browser's token is not this one's.
    other = Browser(stack)
    other.request("GET", "/sign-in")
    stolen = browser.request("POST", "/register/search", {"query": "x", "csrf": other.csrf})
    assert stolen["statusCode"] == 403
    # Sign-in and sign-out too.
    assert Browser(stack).request("POST", "/sign-in", {"email": "a@nhs.net"})["statusCode"] == 403
    assert browser.request("POST", "/sign-out", {})["statusCode"] == 403
    assert browser.post("/register/search", query="Brennan")["statusCode"] == 200


@pytest.mark.usefixtures("cases")
def test_headers_on_every_page(stack: LocalStack, users: dict[str, ConsoleUser]) -> None:
    browser = Browser(stack)
    browser.sign_in(users["coordinator"])
    for path in ("/sign-in", "/register", "/population", "/population.csv", "/nowhere"):
        headers = browser.request("GET", path)["headers"]
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp and "script-src" not in csp
        assert headers["Strict-Transport-Security"].startswith("max-age=")
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-store", path
    css = browser.request("GET", "/assets/nhsuk-frontend-10.6.1.min.css")
    assert css["statusCode"] == 200 and "immutable" in css["headers"]["Cache-Control"]
    assert css["headers"]["Content-Type"].startswith("text/css")
    assert browser.request("GET", "/assets/..%2F..%2Fapp.py")["statusCode"] == 404
    assert browser.request("GET", "/assets/images/nhsuk-icon-cross.svg")["statusCode"] == 200


@pytest.mark.usefixtures("cases")
def test_a_child_is_found_by_a_post_that_no_url_or_log_repeats(
    stack: LocalStack, users: dict[str, ConsoleUser]
) -> None:
    browser = Browser(stack)
    browser.sign_in(users["coordinator"])
    assert "<script" not in browser.request("GET", "/register")["text"]
    stack.log_lines.clear()
    nhs_number = child(SEED_SCRIPT)["child_nhs_number"]
    found = browser.post("/register/search", query=nhs_number)["text"]
    assert "Cases found: 1" in found
    references = re.findall(r'href="/cases/(DSR-[A-Z0-9]+)"', found)
    assert len(references) == 1
    # The search's words are in the form, never in a URL or a log line; the view is audited.
    assert nhs_number not in "".join(re.findall(r'href="([^"]*)"', found))
    logged = "\n".join(stack.log_lines)
    assert nhs_number not in logged and nhs_number.replace(" ", "") not in logged
    assert '"what":"register:search"' in logged and references[0] in logged
    assert '"role":"coordinator"' in logged


@pytest.mark.usefixtures("cases")
def test_the_panel_pack_csv_is_there_on_demand_and_its_download_audited(
    stack: LocalStack, users: dict[str, ConsoleUser]
) -> None:
    browser = Browser(stack)
    browser.sign_in(users["coordinator"])
    assert 'href="/register/panel-pack.csv"' in browser.request("GET", "/register")["text"]
    stack.log_lines.clear()
    answer = browser.request("GET", "/register/panel-pack.csv")
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Disposition"].startswith("attachment;")
    person = child(SEED_PLAIN)
    [row] = [line for line in answer["text"].splitlines() if person["child_nhs_number"] in line]
    # Reference, status, the names (the shared stack may hold this NHS number under another).
    reference, status, given, family = row.split(",")[:4]
    assert reference.startswith("DSR-") and status == "active" and given and family
    logged = "\n".join(stack.log_lines)
    assert '"what":"register:panel-pack"' in logged and reference in logged
    assert person["child_nhs_number"] not in logged and family not in logged


def test_sign_out_ends_the_session(stack: LocalStack, users: dict[str, ConsoleUser]) -> None:
    browser = Browser(stack)
    browser.sign_in(users["panel"])
    token = browser.cookies["__Host-dsr-session"]
    out = browser.post("/sign-out")
    assert "You have signed out" in out["text"]
    assert "__Host-dsr-session" not in browser.cookies
    # A copy kept from before is refused at once, though its signature and expiry are good:
    # the sign-out revoked it in Cognito, which every request asks.
    browser.cookies["__Host-dsr-session"] = token
    again = browser.request("GET", "/register")
    assert again["statusCode"] == 303 and again["headers"]["Location"].endswith("/sign-in")


def test_the_local_server_speaks_http(stack: LocalStack, users: dict[str, ConsoleUser]) -> None:
    import http.client

    server = console_server(stack)
    try:
        host = server.url.removeprefix("http://")
        connection = http.client.HTTPConnection(host, timeout=10)
        connection.request("GET", "/sign-in")
        answer = connection.getresponse()
        body = answer.read().decode()
        assert answer.status == 200 and "<h1>Sign in</h1>" in body
        assert answer.getheader("Content-Security-Policy", "").startswith("default-src 'none'")
        assert "__Host-dsr-csrf=" in (answer.getheader("Set-Cookie") or "")
    finally:
        server.stop()
