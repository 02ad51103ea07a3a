"""The console's HTTP plumbing: pages from Jinja2 templates (autoescaped, undefined names an
error), the vendored NHS design system assets, cookies, forms, and the security headers every
response carries."""

from __future__ import annotations

import base64
import json
import mimetypes
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jinja2
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from shared.adapters.console_auth import Challenge
from shared.console.session import (
    CHALLENGE_COOKIE,
    CSRF_COOKIE,
    LONG_CACHE,
    NO_STORE,
    REFRESH_COOKIE,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    new_csrf_nonce,
)
from shared.console.wording import correction_label

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
# The assets served, by the name in their URL: a fixed list read once, so no path a request
# names can reach any other file.
ASSET_FILES = {
    path.relative_to(ASSETS).as_posix(): path
    for path in ASSETS.rglob("*")
    if path.is_file() and path.suffix in {".css", ".svg", ".ico", ".png", ".txt"}
}
# The largest form is a referral entered by hand (53 fields, some long answers).
MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 120
CHALLENGE_SECONDS = 180  # Cognito's sign-in session (AuthSessionValidity: 3 minutes)

TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,  # every value escaped, in text and attributes
    undefined=jinja2.StrictUndefined,  # a name the page was not given is an error, not ""
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: date | None) -> str:
    """A date as the NHS style writes it (`3 March 2026`), a moment with its time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%-d %B %Y %H:%M")
    return value.strftime("%-d %B %Y")


def _shown(value: object) -> str:
    """A value read from a form, as text: ticks as Yes/No, lists joined."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return _when(value)
    if isinstance(value, tuple | list):
        return ", ".join(_shown(item) for item in value) or "None"
    if isinstance(value, dict):
        return "; ".join(f"{key.replace('_', ' ')}: {item}" for key, item in value.items())
    if value is None or value == "":
        return "Not given"
    return str(getattr(value, "value", value))


TEMPLATES.filters["when"] = _when
TEMPLATES.filters["shown"] = _shown
TEMPLATES.filters["correction_label"] = correction_label


def page(
    template: str, status: int = 200, cookies: list[Cookie] | None = None, **context: Any
) -> Response[Any]:
    body = TEMPLATES.get_template(template).render(**context)
    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=body,
        headers={**SECURITY_HEADERS, **NO_STORE},
        cookies=cookies or [],
    )


def redirect(location: str, cookies: list[Cookie] | None = None) -> Response[Any]:
    # 303: the browser follows with a GET, so a refreshed page never sends a form again.
    return Response(
        status_code=303,
        body="",
        headers={**SECURITY_HEADERS, **NO_STORE, "Location": location},
        cookies=cookies or [],
    )


def download(body: str | bytes, filename: str, content_type: str) -> Response[Any]:
    return Response(
        status_code=200,
        content_type=content_type,
        body=body,
        headers={
            **SECURITY_HEADERS,
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


def asset(name: str) -> Response[Any] | None:
    path = ASSET_FILES.get(name)
    if path is None:
        return None
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind == "image/svg+xml":
        kind += "; charset=utf-8"
    return Response(
        status_code=200,
        content_type=kind,
        body=path.read_bytes(),
        headers={**SECURITY_HEADERS, **LONG_CACHE},
    )


def cookie(name: str, value: str, max_age: int | None = None) -> Cookie:
    """HttpOnly, Secure, SameSite=Strict, Path=/ and no Domain (what `__Host-` requires)."""
    return Cookie(
        name=name,
        value=value,
        path="/",
        secure=True,
        http_only=True,
        same_site=SameSite.STRICT_MODE,
        max_age=max_age,
    )


def expired(name: str) -> Cookie:
    return cookie(name, "", max_age=0)


def signed_in_cookies(access_token: str, refresh_token: str | None) -> list[Cookie]:
    """What a finished sign-in sets, by the console's form or the organisation's: the session,
    the refresh token, the sign-in step's cookie gone, and a new CSRF nonce (one learnt
    before signing in is worth nothing after)."""
    cookies = [
        cookie(SESSION_COOKIE, access_token),
        expired(CHALLENGE_COOKIE),
        cookie(CSRF_COOKIE, new_csrf_nonce()),
    ]
    if refresh_token:
        cookies.append(cookie(REFRESH_COOKIE, refresh_token))
    return cookies


def cookies_of(event: APIGatewayProxyEventV2) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in event.cookies or []:
        name, _, value = pair.partition("=")
        found.setdefault(name.strip(), value.strip())
    return found


def form_of(event: APIGatewayProxyEventV2) -> dict[str, str]:
    """A urlencoded form's fields (the first of each); too large a body is no form at all."""
    body = event.decoded_body or ""
    if len(body.encode("utf-8", "replace")) > MAX_FORM_BYTES:
        return {}
    try:
        fields = parse_qs(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:  # more fields than any console form has
        return {}
    return {name: values[0] for name, values in fields.items() if values}


def challenge_cookie(challenge: Challenge) -> Cookie:
    """Cognito's session for the next sign-in step (never the authenticator's key)."""
    value = json.dumps(
        {"name": challenge.name, "session": challenge.session, "username": challenge.username}
    )
    encoded = base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")
    return cookie(CHALLENGE_COOKIE, encoded, max_age=CHALLENGE_SECONDS)


def challenge_from(cookies: dict[str, str]) -> Challenge | None:
    encoded = cookies.get(CHALLENGE_COOKIE)
    if not encoded:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        return Challenge(str(value["name"]), str(value["session"]), str(value["username"]))
    except (ValueError, KeyError, TypeError):
        return None
