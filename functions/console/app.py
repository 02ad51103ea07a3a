"""ConsoleFunction: the coordinators' console behind the HTTP API - sign-in against Cognito
(password, then the authenticator's code), the register and its search, the register in
numbers; the case page and its actions (case_pages) and the triage queue (triage_pages).
Server-rendered pages that work without JavaScript; every request's access token verified
(shared.adapters.console_auth), every form's CSRF token checked, every view of a person's
data audited."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

try:  # the tests and the embedded stack
    from functions.console import case_pages, federation_pages, triage_pages, web
    from functions.console.shell import Forbidden, FormExpired, Request, wiring
except ImportError:  # Lambda: the function's own folder is the root of its code
    import case_pages  # type: ignore[no-redef,import-not-found]
    import federation_pages  # type: ignore[no-redef,import-not-found]
    import triage_pages  # type: ignore[no-redef,import-not-found]
    import web  # type: ignore[no-redef,import-not-found]
    from shell import (  # type: ignore[no-redef,import-not-found]
        Forbidden,
        FormExpired,
        Request,
        wiring,
    )
from shared.adapters.console_auth import (
    MFA_CODE,
    MFA_SETUP,
    NEW_PASSWORD,
    Challenge,
    Tokens,
)
from shared.clock import CLOCK
from shared.console.population import population, population_csv
from shared.console.register_view import RegisterFilter, register_row, register_rows, search
from shared.console.session import (
    CHALLENGE_COOKIE,
    REFRESH_COOKIE,
    SESSION_COOKIE,
    Identity,
    Page,
    audit_view,
)
from shared.errors import ConsoleSignInError, NotSignedInError
from shared.panel_pack import panel_pack_csv
from shared.synthetic import is_test_case

logger = Logger(service="dsr-console")
app = APIGatewayHttpResolver()
app.include_router(case_pages.router)
app.include_router(triage_pages.router)
app.include_router(federation_pages.router)
STEP_PAGES = {MFA_CODE: "sign_in_code.html", MFA_SETUP: "sign_in_authenticator.html",
              NEW_PASSWORD: "sign_in_new_password.html"}  # fmt: skip


# ----- sign-in and sign-out -----
@app.get("/")
def home() -> Response[Any]:
    return web.redirect("/register")


@app.get("/sign-in")
def sign_in_page() -> Response[Any]:
    return Request(app.current_event).page("sign_in.html", error=None, notice=None)


def _after_step(request: Request, step: Tokens | Challenge) -> Response[Any]:
    if isinstance(step, Challenge):
        request.set.append(web.challenge_cookie(step))
        return request.page(STEP_PAGES[step.name], error=None, secret=step.secret_code)
    identity = wiring().verifier.verify(step.access_token)
    request.set += web.signed_in_cookies(step.access_token, step.refresh_token)
    logger.info("signed in", audit={"who": identity.subject, "what": "sign-in"})
    home = "/register" if identity.may_see(Page.REGISTER) else "/population"
    return web.redirect(home, request.set)


@app.post("/sign-in")
def sign_in() -> Response[Any]:
    request = Request(app.current_event)
    fields = request.form()
    try:
        step = wiring().sign_in.password(
            fields.get("email", "").strip(), fields.get("password", "")
        )
    except ConsoleSignInError as refused:
        logger.info("sign-in refused", code=refused.code)
        return request.page("sign_in.html", 401, error=refused.message, notice=None)
    return _after_step(request, step)


def _challenge_step(name: str, answer: str) -> Response[Any]:
    request = Request(app.current_event)
    fields = request.form()
    challenge = web.challenge_from(request.cookies)
    if challenge is None or challenge.name != name:
        return request.page(
            "sign_in.html", 401, error="The sign-in took too long. Sign in again.", notice=None
        )
    sign_in = wiring().sign_in
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
    request = Request(app.current_event)
    request.form()
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        wiring().sign_in.sign_out(token)
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
    request = Request(app.current_event)
    identity = request.identity(Page.REGISTER)
    wired = wiring()
    chosen_name = app.current_event.get_query_string_value("filter", "all") or "all"
    try:
        chosen = RegisterFilter(chosen_name)
    except ValueError:
        chosen = RegisterFilter.ALL
    today = CLOCK.now().date()
    rows = register_rows(wired.register.cases(), wired.settings, today, chosen)
    return _register_page(request, identity, rows, chosen, "")


@app.post("/register/search")
def register_search() -> Response[Any]:
    request = Request(app.current_event)
    identity = request.identity(Page.REGISTER)
    query = request.form().get("query", "").strip()[:100]
    wired = wiring()
    today = CLOCK.now().date()
    found = search(wired.register.cases(), query, wired.hasher)
    rows = [register_row(case, wired.settings, today) for case in found]
    return _register_page(request, identity, rows, RegisterFilter.ALL, query)


@app.get("/register/panel-pack.csv")
def panel_pack_download() -> Response[Any]:
    """The panel pack's CSV on demand: every open case as the monthly pack lists it."""
    request = Request(app.current_event)
    identity = request.identity(Page.REGISTER)
    wired = wiring()
    today = CLOCK.now().date()
    cases = wired.register.cases()
    table = panel_pack_csv(cases, today, wired.settings.transition_age, wired.settings.ctr_due_days)
    listed = [case.case_id for case in cases if case.status.is_open and not is_test_case(case)]
    logger.info("console view", audit=audit_view(identity, "register:panel-pack", listed))
    return web.download(table, f"dsr-panel-pack-{today:%Y-%m-%d}.csv", "text/csv; charset=utf-8")


# ----- the register in numbers -----
@app.get("/population")
def population_page() -> Response[Any]:
    request = Request(app.current_event)
    identity = request.identity(Page.POPULATION)
    counted = population(wiring().register.cases(), CLOCK.now().date())
    return request.page("population.html", identity=identity, counted=counted)


@app.get("/population.csv")
def population_download() -> Response[Any]:
    Request(app.current_event).identity(Page.POPULATION)
    today = CLOCK.now().date()
    counted = population(wiring().register.cases(), today)
    return web.download(
        population_csv(counted), f"dsr-population-{today:%Y-%m-%d}.csv", "text/csv; charset=utf-8"
    )


# ----- assets, refusals and errors -----
def _plain(template: str, status: int) -> Response[Any]:
    """A page for anyone (no session read, no form): not found, refused, expired."""
    return web.page(template, status, identity=None, area=wiring().settings.area_name)


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
