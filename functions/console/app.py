"""ConsoleFunction: the coordinators' console behind the HTTP API - sign-in against Cognito
(password, then the authenticator's code), the register and its search, the register in
numbers. Server-rendered pages that work without JavaScript; every request's access token
verified here (shared.adapters.console_auth), every form's CSRF token checked, every view of
a person's data audited."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.shared.cookies import Cookie
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext

try:
    from functions.console import web  # the tests and the embedded stack
except ImportError:  # Lambda: the function's own folder is the root of its code
    import web  # type: ignore[no-redef,import-not-found]
from shared.adapters import client
from shared.adapters.console_auth import (
    MFA_CODE,
    MFA_SETUP,
    NEW_PASSWORD,
    Challenge,
    CognitoSignIn,
    Tokens,
    TokenVerifier,
)
from shared.adapters.identity import KmsIdentityHasher
from shared.adapters.register_table import RegisterTable
from shared.clock import CLOCK
from shared.console.population import population, population_csv
from shared.console.register_view import RegisterFilter, register_row, register_rows, search
from shared.console.session import (
    CHALLENGE_COOKIE,
    CSRF_COOKIE,
    REFRESH_COOKIE,
    SESSION_COOKIE,
    Identity,
    Page,
    audit_view,
    csrf_token,
    csrf_valid,
    new_csrf_nonce,
)
from shared.errors import ConsoleSignInError, NotSignedInError
from shared.settings import Settings

logger = Logger(service="dsr-console")
app = APIGatewayHttpResolver()
CASE_REFERENCE = re.compile(r"DSR-[A-Z0-9]{4,16}")
STEP_PAGES = {MFA_CODE: "sign_in_code.html", MFA_SETUP: "sign_in_authenticator.html",
              NEW_PASSWORD: "sign_in_new_password.html"}  # fmt: skip


class Forbidden(Exception):
    """The signed-in person's role may not see this page."""


class FormExpired(Exception):
    """A POST without the CSRF token of this browser's session."""


@dataclass(frozen=True)
class Wiring:
    settings: Settings
    register: RegisterTable
    hasher: KmsIdentityHasher
    sign_in: CognitoSignIn
    verifier: TokenVerifier


@cache
def _wiring() -> Wiring:
    settings = Settings.from_environment()
    return Wiring(
        settings=settings,
        register=RegisterTable(client("dynamodb"), settings.table_name),
        hasher=KmsIdentityHasher(client("kms"), settings.identity_key_id),
        sign_in=CognitoSignIn(client("cognito-idp"), settings.console_client_id),
        verifier=TokenVerifier(
            settings.console_jwks_url, settings.console_issuer, settings.console_client_id
        ),
    )


def _csrf_key() -> bytes:
    secret = parameters.get_secret(_wiring().settings.console_session_key_arn, max_age=300)
    return str(secret).encode()


class Request:
    """What one request's page needs: its cookies, its CSRF token, the cookies to set."""

    def __init__(self) -> None:
        self.cookies = web.cookies_of(app.current_event)
        self.set: list[Cookie] = []
        nonce = self.cookies.get(CSRF_COOKIE)
        if not nonce:
            nonce = new_csrf_nonce()
            self.set.append(web.cookie(CSRF_COOKIE, nonce))
        self.csrf = csrf_token(_csrf_key(), nonce)

    def form(self) -> dict[str, str]:
        """A POST's fields, once its CSRF token is this browser's."""
        fields = web.form_of(app.current_event)
        if not csrf_valid(_csrf_key(), self.cookies.get(CSRF_COOKIE), fields.get("csrf")):
            raise FormExpired
        return fields

    def identity(self, page: Page | None = None) -> Identity:
        """The signed-in person (a fresh token when theirs is half spent), or NotSignedIn."""
        wiring = _wiring()
        token = self.cookies.get(SESSION_COOKIE)
        if not token:
            raise NotSignedInError("no session")
        identity = wiring.verifier.verify(token)
        refresh = self.cookies.get(REFRESH_COOKIE)
        if refresh and identity.needs_refresh(time.time()):
            tokens = wiring.sign_in.refresh(refresh)
            identity = wiring.verifier.verify(tokens.access_token)
            self.set.append(web.cookie(SESSION_COOKIE, tokens.access_token))
        if page is not None and not identity.may_see(page):
            raise Forbidden
        return identity

    def page(self, template: str, status: int = 200, **context: Any) -> Response[Any]:
        settings = _wiring().settings
        return web.page(
            template, status, self.set, csrf=self.csrf, area=settings.area_name, **context
        )


# ----- sign-in and sign-out -----
@app.get("/")
def home() -> Response[Any]:
    return web.redirect("/register")


@app.get("/sign-in")
def sign_in_page() -> Response[Any]:
    return Request().page("sign_in.html", error=None, notice=None)


def _after_step(request: Request, step: Tokens | Challenge) -> Response[Any]:
    if isinstance(step, Challenge):
        request.set.append(web.challenge_cookie(step))
        return request.page(STEP_PAGES[step.name], error=None, secret=step.secret_code)
    identity = _wiring().verifier.verify(step.access_token)
    request.set += [
        web.cookie(SESSION_COOKIE, step.access_token),
        web.expired(CHALLENGE_COOKIE),
        # A new CSRF nonce with each sign-in: one learnt before it is worth nothing after.
        web.cookie(CSRF_COOKIE, new_csrf_nonce()),
    ]
    if step.refresh_token:
        request.set.append(web.cookie(REFRESH_COOKIE, step.refresh_token))
    logger.info("signed in", audit={"who": identity.subject, "what": "sign-in"})
    home = "/register" if identity.may_see(Page.REGISTER) else "/population"
    return web.redirect(home, request.set)


@app.post("/sign-in")
def sign_in() -> Response[Any]:
    request = Request()
    fields = request.form()
    try:
        step = _wiring().sign_in.password(
            fields.get("email", "").strip(), fields.get("password", "")
        )
    except ConsoleSignInError as refused:
        logger.info("sign-in refused", code=refused.code)
        return request.page("sign_in.html", 401, error=refused.message, notice=None)
    return _after_step(request, step)


def _challenge_step(name: str, answer: str) -> Response[Any]:
    request = Request()
    fields = request.form()
    challenge = web.challenge_from(request.cookies)
    if challenge is None or challenge.name != name:
        return request.page(
            "sign_in.html", 401, error="The sign-in took too long. Sign in again.", notice=None
        )
    sign_in = _wiring().sign_in
    try:
        if name == MFA_CODE:
            step = sign_in.mfa_code(challenge, fields.get(answer, "").strip())
        elif name == NEW_PASSWORD:
            step = sign_in.new_password(challenge, fields.get(answer, ""))
        else:
            step = sign_in.finish_mfa_setup(challenge, fields.get(answer, "").strip())
    except ConsoleSignInError as refused:
        logger.info("sign-in step refused", code=refused.code, step=name)
        if name == MFA_SETUP:  # the key is not kept: set the authenticator up from the start
            request.set.append(web.expired(CHALLENGE_COOKIE))
            return request.page("sign_in.html", 401, error=refused.message, notice=None)
        return request.page(STEP_PAGES[name], 401, error=refused.message, secret=None)
    return _after_step(request, step)


@app.post("/sign-in/code")
def sign_in_code() -> Response[Any]:
    return _challenge_step(MFA_CODE, "code")


@app.post("/sign-in/new-password")
def sign_in_new_password() -> Response[Any]:
    return _challenge_step(NEW_PASSWORD, "new_password")


@app.post("/sign-in/authenticator")
def sign_in_authenticator() -> Response[Any]:
    return _challenge_step(MFA_SETUP, "code")


@app.post("/sign-out")
def sign_out() -> Response[Any]:
    request = Request()
    request.form()
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        _wiring().sign_in.sign_out(token)
    request.set += [web.expired(name) for name in (SESSION_COOKIE, REFRESH_COOKIE)]
    return request.page("sign_in.html", error=None, notice="You have signed out.")


# ----- the register -----
def _register_page(
    request: Request, identity: Identity, rows: list[Any], chosen: RegisterFilter, query: str
) -> Response[Any]:
    what = "register:search" if query else f"register:{chosen.value}"
    logger.info("console view", audit=audit_view(identity, what, [r.case_id for r in rows]))
    return request.page(
        "register.html",
        identity=identity,
        rows=rows,
        chosen=chosen,
        filters=list(RegisterFilter),
        query=query,
        searched=bool(query),
    )


@app.get("/register")
def register() -> Response[Any]:
    request = Request()
    identity = request.identity(Page.REGISTER)
    wiring = _wiring()
    chosen_name = app.current_event.get_query_string_value("filter", "all") or "all"
    try:
        chosen = RegisterFilter(chosen_name)
    except ValueError:
        chosen = RegisterFilter.ALL
    today = CLOCK.now().date()
    rows = register_rows(wiring.register.cases(), wiring.settings, today, chosen)
    return _register_page(request, identity, rows, chosen, "")


@app.post("/register/search")
def register_search() -> Response[Any]:
    request = Request()
    identity = request.identity(Page.REGISTER)
    query = request.form().get("query", "").strip()[:100]
    wiring = _wiring()
    today = CLOCK.now().date()
    found = search(wiring.register.cases(), query, wiring.hasher)
    rows = [register_row(case, wiring.settings, today) for case in found]
    return _register_page(request, identity, rows, RegisterFilter.ALL, query)


@app.get("/cases/<reference>")
def case_page(reference: str) -> Response[Any]:
    request = Request()
    identity = request.identity(Page.REGISTER)
    if not CASE_REFERENCE.fullmatch(reference):
        return request.page("not_found.html", 404, identity=identity, heading="Page not found")
    return request.page("case_comes_next.html", 404, identity=identity, reference=reference)


# ----- the register in numbers -----
@app.get("/population")
def population_page() -> Response[Any]:
    request = Request()
    identity = request.identity(Page.POPULATION)
    counted = population(_wiring().register.cases(), CLOCK.now().date())
    return request.page("population.html", identity=identity, counted=counted)


@app.get("/population.csv")
def population_download() -> Response[Any]:
    Request().identity(Page.POPULATION)
    today = CLOCK.now().date()
    counted = population(_wiring().register.cases(), today)
    return web.download(
        population_csv(counted), f"dsr-population-{today:%Y-%m-%d}.csv", "text/csv; charset=utf-8"
    )


# ----- assets, refusals and errors -----
def _plain(template: str, status: int) -> Response[Any]:
    """A page for anyone (no session read, no form): not found, refused, expired."""
    return web.page(template, status, identity=None, area=_wiring().settings.area_name)


@app.get("/assets/<name>")
def assets(name: str) -> Response[Any]:
    return web.asset(name) or _plain("not_found.html", 404)


@app.get("/assets/images/<name>")
def images(name: str) -> Response[Any]:
    return web.asset(f"images/{name}") or _plain("not_found.html", 404)


@app.not_found
def not_found(_: Exception) -> Response[Any]:
    return _plain("not_found.html", 404)


@app.exception_handler(NotSignedInError)  # type: ignore[untyped-decorator]
def not_signed_in(error: NotSignedInError) -> Response[Any]:
    logger.info("not signed in", check=str(error))
    gone = [web.expired(name) for name in (SESSION_COOKIE, REFRESH_COOKIE)]
    return web.redirect("/sign-in", gone)


@app.exception_handler(Forbidden)  # type: ignore[untyped-decorator]
def forbidden(_: Forbidden) -> Response[Any]:
    return _plain("forbidden.html", 403)


@app.exception_handler(FormExpired)  # type: ignore[untyped-decorator]
def form_expired(_: FormExpired) -> Response[Any]:
    logger.info("form refused: no valid CSRF token")
    return _plain("form_expired.html", 403)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


__all__ = ["lambda_handler"]
