"""What every console route shares: the AWS adapters wired once per container, and one
request's session - its cookies, CSRF token, verified identity and the cookies to set."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

try:
    from functions.console import web  # the tests and the embedded stack
except ImportError:  # Lambda: the function's own folder is the root of its code
    import web  # type: ignore[no-redef,import-not-found]
from shared.adapters import client
from shared.adapters.console_auth import CognitoSignIn, TokenVerifier
from shared.adapters.console_register import ConsoleMailStore, ConsoleRegisterTable
from shared.adapters.identity import KmsIdentityHasher
from shared.case import Actor
from shared.console.service import ConsoleService
from shared.console.session import (
    CSRF_COOKIE,
    REFRESH_COOKIE,
    SESSION_COOKIE,
    Identity,
    Page,
    csrf_token,
    csrf_valid,
    new_csrf_nonce,
)
from shared.errors import NotSignedInError
from shared.outcome import Reason
from shared.settings import Settings


class Forbidden(Exception):
    """The signed-in person's role may not see this page."""


class FormExpired(Exception):
    """A POST without the CSRF token of this browser's session."""


@dataclass(frozen=True)
class Wiring:
    settings: Settings
    register: ConsoleRegisterTable
    hasher: KmsIdentityHasher
    sign_in: CognitoSignIn
    verifier: TokenVerifier
    service: ConsoleService


@cache
def wiring() -> Wiring:
    settings = Settings.from_environment()
    register = ConsoleRegisterTable(client("dynamodb"), settings.table_name)
    hasher = KmsIdentityHasher(client("kms"), settings.identity_key_id)
    mail = ConsoleMailStore(client("s3"), settings.raw_mail_bucket)
    return Wiring(
        settings=settings,
        register=register,
        hasher=hasher,
        sign_in=CognitoSignIn(client("cognito-idp"), settings.console_client_id),
        verifier=TokenVerifier(
            settings.console_jwks_url, settings.console_issuer, settings.console_client_id
        ),
        service=ConsoleService(settings, register, mail, hasher),
    )


def _csrf_key() -> bytes:
    secret = parameters.get_secret(wiring().settings.console_session_key_arn, max_age=300)
    return str(secret).encode()


def form_token() -> str:
    """A one-time token for an action's form: the same form sent twice is one event."""
    return secrets.token_urlsafe(24)


class Request:
    """What one request's page needs: its cookies, its CSRF token, the cookies to set."""

    def __init__(self, event: APIGatewayProxyEventV2) -> None:
        self.event = event
        self.cookies = web.cookies_of(event)
        self.set: list[Cookie] = []
        self.set_token: str | None = None  # a fresh access token, when this request made one
        self.email: str | None = None  # the signed-in person's address, as the pool holds it
        nonce = self.cookies.get(CSRF_COOKIE)
        if not nonce:
            nonce = new_csrf_nonce()
            self.set.append(web.cookie(CSRF_COOKIE, nonce))
        self.csrf = csrf_token(_csrf_key(), nonce)

    def form(self) -> dict[str, str]:
        """A POST's fields, once its CSRF token is this browser's."""
        fields = web.form_of(self.event)
        if not csrf_valid(_csrf_key(), self.cookies.get(CSRF_COOKIE), fields.get("csrf")):
            raise FormExpired
        return fields

    def identity(self, page: Page | None = None) -> Identity:
        """The signed-in person (a fresh token when theirs is half spent), or NotSignedIn."""
        wired = wiring()
        token = self.cookies.get(SESSION_COOKIE)
        if not token:
            raise NotSignedInError("no session")
        identity = wired.verifier.verify(token)
        refresh = self.cookies.get(REFRESH_COOKIE)
        if refresh and identity.needs_refresh(time.time()):
            tokens = wired.sign_in.refresh(refresh)
            identity = wired.verifier.verify(tokens.access_token)
            self.set.append(web.cookie(SESSION_COOKIE, tokens.access_token))
            self.set_token = tokens.access_token
        # Asked of Cognito every time: a token revoked by signing out (here or anywhere) is
        # refused, though its signature and expiry still verify; and the answer names the
        # person for the audit (a token carries only the pool's own username).
        self.email = wired.sign_in.email_of(self.set_token or token)
        if page is not None and not identity.may_see(page):
            raise Forbidden
        return identity

    def actor(self, identity: Identity) -> Actor:
        """Who acts, as the actions and the audit name them: the widest role held, and the
        address the pool holds (read with this request's identity)."""
        if identity.role is None or self.email is None:
            raise Forbidden
        return Actor(sub=identity.subject, email=self.email, role=identity.role)

    def page(self, template: str, status: int = 200, **context: Any) -> Response[Any]:
        settings = wiring().settings
        federation = settings.console_federation_name if settings.console_federates else None
        return web.page(
            template, status, self.set, csrf=self.csrf, area=settings.area_name,
            signed_in_as=self.email, federation=federation, **context,
        )  # fmt: skip


def signed_in(
    event: APIGatewayProxyEventV2, page: Page = Page.REGISTER
) -> tuple[Request, Identity, Actor]:
    """A page's request, its signed-in person (allowed the page) and who acts."""
    request = Request(event)
    identity = request.identity(page)
    return request, identity, request.actor(identity)


def errors_of(reasons: list[Reason]) -> tuple[dict[str, str], list[str]]:
    """A refusal's messages by field (the first of each), and those that name none."""
    by_field: dict[str, str] = {}
    general = []
    for reason in reasons:
        if reason.field:
            by_field.setdefault(reason.field, reason.message)
        else:
            general.append(reason.message)
    return by_field, general
