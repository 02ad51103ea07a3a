"""Sign-in through the organisation's identity provider (NHSmail's Entra ID), when the
template configures it: `/sign-in/federated` sends the browser to the user pool domain with a
PKCE challenge and a state kept in a cookie; `/auth/callback` checks the state, exchanges the
code for the pool's tokens and signs the person in with the same cookies as the console's own
form - so every later request is verified the same way (PyJWT, then GetUser). A person the
pool made at their first federated sign-in has no group, so no role, until an admin adds
them: they are refused with a page that says so. MFA is the identity provider's."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

try:  # the tests and the embedded stack
    from functions.console import web
    from functions.console.shell import Request, wiring
except ImportError:  # Lambda: the function's own folder is the root of its code
    import web  # type: ignore[no-redef,import-not-found]
    from shell import Request, wiring  # type: ignore[no-redef,import-not-found]
from shared.adapters.console_federation import TokenEndpoint
from shared.console.federation import (
    FEDERATION_COOKIE,
    FEDERATION_SECONDS,
    FederatedStart,
    verifier_for,
)
from shared.console.session import Page
from shared.errors import ConsoleSignInError

logger = Logger(service="dsr-console", child=True)
router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

_START_AGAIN = "The sign-in took too long, or was not started from this page. Sign in again."


def _federation_cookie(value: str, max_age: int) -> Cookie:
    return Cookie(
        name=FEDERATION_COOKIE,
        value=value,
        path="/",
        secure=True,
        http_only=True,
        same_site=SameSite.LAX_MODE,  # read on the top-level GET back from the pool's domain
        max_age=max_age,
    )


def _not_found() -> Response[Any]:
    return web.page("not_found.html", 404, identity=None, area=wiring().settings.area_name)


@router.get("/sign-in/federated")
def start() -> Response[Any]:
    settings = wiring().settings
    if not settings.console_federates:
        return _not_found()
    begun = FederatedStart.new()
    location = begun.authorize_url(
        settings.console_federation_domain,
        settings.console_client_id,
        settings.console_federation_callback_url,
        settings.console_federation_name,
    )
    return web.redirect(location, [_federation_cookie(begun.cookie_value, FEDERATION_SECONDS)])


def _refused(request: Request, why: str, message: str) -> Response[Any]:
    logger.info("federated sign-in refused", check=why)  # a fixed word or OAuth's code
    return request.page("sign_in.html", 401, error=message, notice=None)


@router.get("/auth/callback")
def callback() -> Response[Any]:
    wired = wiring()
    settings = wired.settings
    if not settings.console_federates:
        return _not_found()
    request = Request(router.current_event)
    request.set.append(_federation_cookie("", 0))  # one use, whatever happens next
    asked = router.current_event.query_string_parameters or {}
    if "error" in asked:  # refused or abandoned at the provider; its words are not logged
        return _refused(
            request, "provider", f"Signing in with {settings.console_federation_name} did not "
            "finish. Sign in again; if it happens again, ask a DSR admin.",
        )  # fmt: skip
    verifier = verifier_for(request.cookies.get(FEDERATION_COOKIE), asked.get("state"))
    if verifier is None:
        return _refused(request, "state", _START_AGAIN)
    code = asked.get("code", "")
    if not code:
        return _refused(request, "code", _START_AGAIN)
    endpoint = TokenEndpoint(settings.console_federation_domain, settings.console_client_id)
    try:
        tokens = endpoint.exchange(code, verifier, settings.console_federation_callback_url)
    except ConsoleSignInError as refused:
        return _refused(request, refused.code, refused.message)
    identity = wired.verifier.verify(tokens.access_token)
    if identity.role is None:
        # Made by the pool at a first federated sign-in: in no group until an admin adds them.
        email = wired.sign_in.email_of(tokens.access_token)
        wired.sign_in.sign_out(tokens.access_token)
        logger.info("federated sign-in refused", check="no role", who=identity.subject)
        return request.page(
            "no_role.html", 403, identity=None, email=email,
            provider=settings.console_federation_name,
        )  # fmt: skip
    request.set += web.signed_in_cookies(tokens.access_token, tokens.refresh_token)
    logger.info("signed in", audit={"who": identity.subject, "what": "sign-in:federated"})
    home = "/register" if identity.may_see(Page.REGISTER) else "/population"
    # A page, not a redirect: this request came from the pool's domain, and a browser keeps
    # the session's SameSite=Strict cookie off a redirect that follows a cross-site one.
    return request.page("signed_in.html", identity=None, home=home)
