"""Sign-in through the organisation's identity provider under the embedded stack: the console
sends the browser to the user pool domain's authorize endpoint, and takes it back at
/auth/callback. The pool's domain is played by a small server on 127.0.0.1 that answers as
Cognito does once NHSmail has signed the person in: a code bound to the PKCE challenge and
the callback, exchanged once - and only with the right verifier - for tokens that moto's pool
really issued to that person. So the console verifies them exactly as on AWS (PyJWT against
the pool's keys, then GetUser), and a person in no group is refused."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from functions.console import shell
from infrastructure.local_stack import LocalStack
from tests.integration.test_console import Browser

CALLBACK = "https://console.local/auth/callback"
PROVIDER = "NHSmail"


@dataclass
class PoolDomain:
    """Cognito's /oauth2/authorize and /oauth2/token for one app client, after the provider."""

    client_id: str
    signs_in: dict[str, Any] | None = None  # the tokens the next sign-in ends with
    codes: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    exchanges: list[dict[str, str]] = field(default_factory=list)
    fail_with: int | None = None  # the token endpoint's status, when it fails

    def authorize(self, asked: dict[str, str]) -> tuple[int, dict[str, str]]:
        expected = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": CALLBACK,
            "identity_provider": PROVIDER,
            "code_challenge_method": "S256",
        }
        if any(asked.get(name) != value for name, value in expected.items()):
            return 400, {}
        if "aws.cognito.signin.user.admin" not in asked.get("scope", "").split():
            return 400, {}
        assert self.signs_in is not None
        code = secrets.token_urlsafe(16)
        self.codes[code] = (asked["code_challenge"], self.signs_in)
        back = urlencode({"code": code, "state": asked["state"]})
        return 302, {"Location": f"{CALLBACK}?{back}"}

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.exchanges.append(form)
        if self.fail_with is not None:
            return self.fail_with, {"error": "invalid_grant"}
        found = self.codes.pop(form.get("code", ""), None)  # a code is good once
        if (
            found is None
            or form.get("grant_type") != "authorization_code"
            or form.get("client_id") != self.client_id
            or form.get("redirect_uri") != CALLBACK
        ):
            return 400, {"error": "invalid_grant"}
        challenge, tokens = found
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge:
            return 400, {"error": "invalid_grant"}
        return 200, tokens


def _serve(domain: PoolDomain) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            asked = {k: v[0] for k, v in parse_qs(parts.query).items()}
            status, headers = domain.authorize(asked) if parts.path == "/oauth2/authorize" else (
                404, {}
            )  # fmt: skip
            self._answer(status, headers)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            form = {k: v[0] for k, v in parse_qs(body).items()}
            status, answer = domain.token(form) if self.path == "/oauth2/token" else (404, {})
            self._answer(status, {"Content-Type": "application/json"}, json.dumps(answer).encode())

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def pool_domain(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[PoolDomain]:
    """The session's stack, its console configured for federation (as the template sets it
    when ConsoleFederationMetadataUrl is given) with the pool's domain played locally."""
    domain = PoolDomain(stack.resources["ConsoleUserPoolClient"])
    server = _serve(domain)
    monkeypatch.setenv("DSR_CONSOLE_FEDERATION_NAME", PROVIDER)
    monkeypatch.setenv("DSR_CONSOLE_FEDERATION_DOMAIN", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("DSR_CONSOLE_FEDERATION_CALLBACK_URL", CALLBACK)
    shell.wiring.cache_clear()
    try:
        yield domain
    finally:
        server.shutdown()
        server.server_close()
        monkeypatch.undo()
        shell.wiring.cache_clear()


def _federated_person(stack: LocalStack, email: str, group: str | None) -> dict[str, Any]:
    """The pool's user a first federated sign-in makes (its address from Entra's claim), and
    the tokens the pool issues them (moto's, signed with the pool's key)."""
    cognito = stack.client("cognito-idp")
    pool = stack.resources["ConsoleUserPool"]
    password = f"Fed-{secrets.token_urlsafe(12)}-9a"
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=pool, Username=email, Password=password, Permanent=True
    )
    if group:
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
    return _sign_in_at_the_pool(stack, email, password)


def _sign_in_at_the_pool(stack: LocalStack, email: str, password: str = "") -> dict[str, Any]:
    """Tokens the pool issues the person now (with the groups they are in now)."""
    cognito = stack.client("cognito-idp")
    if not password:
        password = f"Fed-{secrets.token_urlsafe(12)}-9b"
        cognito.admin_set_user_password(
            UserPoolId=stack.resources["ConsoleUserPool"],
            Username=email,
            Password=password,
            Permanent=True,
        )
    result = cognito.initiate_auth(
        ClientId=stack.resources["ConsoleUserPoolClient"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )["AuthenticationResult"]
    return {
        "access_token": result["AccessToken"],
        "id_token": result["IdToken"],
        "refresh_token": result["RefreshToken"],
        "token_type": "Bearer",
        "expires_in": 900,
    }


def _provider_sends_back(browser: Browser) -> str:
    """The console's button, then the pool's domain (and the provider behind it): where the
    browser is sent back to."""
    started = browser.request("GET", "/sign-in/federated")
    assert started["statusCode"] == 303

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    try:
        urllib.request.build_opener(Stay).open(started["headers"]["Location"], timeout=10)
    except urllib.error.HTTPError as back:
        location = str(back.headers["Location"])
        assert location.startswith(CALLBACK + "?")
        return location
    raise AssertionError("the pool's domain did not send the browser back")


def _callback(browser: Browser, location: str) -> dict[str, Any]:
    parts = urlsplit(location)
    answer: dict[str, Any] = browser.request("GET", f"{parts.path}?{parts.query}")
    return answer


def _to_the_provider_and_back(browser: Browser) -> dict[str, Any]:
    return _callback(browser, _provider_sends_back(browser))


def test_the_sign_in_page_offers_the_provider_only_when_federation_is_set(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    shell.wiring.cache_clear()
    plain = Browser(stack).request("GET", "/sign-in")
    assert "/sign-in/federated" not in plain["text"]
    assert Browser(stack).request("GET", "/sign-in/federated")["statusCode"] == 404
    assert Browser(stack).request("GET", "/auth/callback?code=x&state=y")["statusCode"] == 404
    monkeypatch.setenv("DSR_CONSOLE_FEDERATION_NAME", PROVIDER)
    monkeypatch.setenv(
        "DSR_CONSOLE_FEDERATION_DOMAIN", "https://dsr.auth.eu-west-2.amazoncognito.com"
    )
    monkeypatch.setenv("DSR_CONSOLE_FEDERATION_CALLBACK_URL", CALLBACK)
    shell.wiring.cache_clear()
    try:
        offered = Browser(stack).request("GET", "/sign-in")["text"]
        assert 'href="/sign-in/federated"' in offered and "Sign in with NHSmail" in offered
    finally:
        monkeypatch.undo()
        shell.wiring.cache_clear()


def test_a_person_in_a_group_signs_in_through_the_provider(
    stack: LocalStack, pool_domain: PoolDomain
) -> None:
    email = "federated.coordinator@nhs.net"
    pool_domain.signs_in = _federated_person(stack, email, "coordinator")
    browser = Browser(stack)
    started = browser.request("GET", "/sign-in/federated")
    [state_cookie] = [c for c in started["cookies"] if c.startswith("__Host-dsr-federation=")]
    for attribute in ("Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Max-Age=600"):
        assert attribute in state_cookie
    assert "Domain=" not in state_cookie
    stack.log_lines.clear()
    location = _provider_sends_back(browser)
    back = _callback(browser, location)
    assert back["statusCode"] == 200
    # A page that moves on by itself (the session cookie is Strict: no redirect from here).
    assert '<meta http-equiv="refresh" content="0; url=/register">' in back["text"]
    assert {"__Host-dsr-session", "__Host-dsr-refresh", "__Host-dsr-csrf"} <= set(browser.cookies)
    assert "__Host-dsr-federation" not in browser.cookies  # used once
    # The exchange sent the verifier whose challenge went to the provider, for its callback.
    [exchange] = pool_domain.exchanges
    assert exchange["redirect_uri"] == CALLBACK and exchange["grant_type"] == "authorization_code"
    # From here on it is the console's ordinary session: verified, named by GetUser.
    register = browser.request("GET", "/register")
    assert register["statusCode"] == 200
    assert f"{email} (coordinator)" in register["text"]
    # Nothing of the person, their code or their tokens in the log.
    logged = "\n".join(stack.log_lines)
    code = parse_qs(urlsplit(location).query)["code"][0]
    for secret in (
        email,
        code,
        pool_domain.signs_in["access_token"][-40:],
        exchange["code_verifier"],
    ):
        assert secret not in logged
    assert '"sign-in:federated"' in logged


def test_a_person_in_no_group_is_refused_until_an_admin_adds_them(
    stack: LocalStack, pool_domain: PoolDomain
) -> None:
    email = "federated.newcomer@nhs.net"
    pool_domain.signs_in = _federated_person(stack, email, None)
    browser = Browser(stack)
    stack.log_lines.clear()
    refused = _to_the_provider_and_back(browser)
    assert refused["statusCode"] == 403
    assert "no role in the console yet" in refused["text"]
    assert "Ask a DSR admin to add you" in refused["text"] and email in refused["text"]
    assert "__Host-dsr-session" not in browser.cookies
    # Their tokens were revoked, not merely left unset.
    cognito = stack.client("cognito-idp")
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_user(AccessToken=pool_domain.signs_in["access_token"])
    assert email not in "\n".join(stack.log_lines)
    # An admin adds them (the README's command); their next sign-in gets in.
    cognito.admin_add_user_to_group(
        UserPoolId=stack.resources["ConsoleUserPool"], Username=email, GroupName="panel"
    )
    pool_domain.signs_in = _sign_in_at_the_pool(stack, email)
    again = Browser(stack)
    assert _to_the_provider_and_back(again)["statusCode"] == 200
    assert again.request("GET", "/register")["statusCode"] == 200


def test_a_callback_this_browser_did_not_start_is_refused(
    stack: LocalStack, pool_domain: PoolDomain
) -> None:
    pool_domain.signs_in = _federated_person(stack, "federated.victim@nhs.net", "coordinator")
    # An attacker's own code and state, sent to a victim's browser (login CSRF): the victim
    # has no state cookie, or another one.
    location = _provider_sends_back(Browser(stack))  # the attacker's own
    victim = Browser(stack)
    assert _callback(victim, location)["statusCode"] == 401  # no sign-in started at all
    victim.request("GET", "/sign-in/federated")  # their own, different sign-in
    forged = _callback(victim, location)
    assert forged["statusCode"] == 401
    assert "not started from this page" in forged["text"]
    assert "__Host-dsr-session" not in victim.cookies
    assert pool_domain.exchanges == []  # the code was never spent


def test_a_callback_without_a_code_or_with_the_providers_error_is_refused(
    stack: LocalStack, pool_domain: PoolDomain
) -> None:
    browser = Browser(stack)
    browser.request("GET", "/sign-in/federated")
    state = browser.cookies["__Host-dsr-federation"].split(".")[0]
    no_code = browser.request("GET", f"/auth/callback?state={state}")
    assert no_code["statusCode"] == 401 and "Sign in again" in no_code["text"]
    browser.request("GET", "/sign-in/federated")
    state = browser.cookies["__Host-dsr-federation"].split(".")[0]
    stack.log_lines.clear()
    denied = browser.request(
        "GET", f"/auth/callback?error=access_denied&error_description=x%40nhs.net&state={state}"
    )
    assert denied["statusCode"] == 401
    assert "Signing in with NHSmail did not finish" in denied["text"]
    assert "x@nhs.net" not in "\n".join(stack.log_lines)
    assert "__Host-dsr-session" not in browser.cookies
    assert pool_domain.exchanges == []


def test_a_token_endpoint_that_refuses_is_a_clear_refusal(
    stack: LocalStack, pool_domain: PoolDomain
) -> None:
    pool_domain.signs_in = _federated_person(stack, "federated.unlucky@nhs.net", "panel")
    pool_domain.fail_with = 400
    browser = Browser(stack)
    stack.log_lines.clear()
    refused = _to_the_provider_and_back(browser)
    assert refused["statusCode"] == 401
    assert "Signing in through your organisation did not work" in refused["text"]
    assert "__Host-dsr-session" not in browser.cookies
    logged = "\n".join(stack.log_lines)
    assert "TokenEndpoint:invalid_grant" in logged and "federated.unlucky" not in logged
