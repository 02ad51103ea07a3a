"""A small Microsoft Graph client: the app's own token (OAuth2 client credentials), JSON and
MIME over HTTPS with the standard library, `@odata.nextLink` paging, and throttling honoured.

Credentials come from Secrets Manager through Powertools Parameters (cached); the token is
kept until shortly before it expires. Nothing here logs, and no error message carries a
response body: Graph's messages may quote a subject or an address.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

from shared.errors import DsrIntakeError
from shared.settings import Settings

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# A token is renewed this long before Entra ID says it expires (clock skew, a slow request).
TOKEN_MARGIN_SECONDS = 300
SECRET_MAX_AGE_SECONDS = 300
# Throttling: at most this many tries of one request, waiting at most this long in all, and
# never into the last REQUEST_TIMEOUT_SECONDS the function has left.
MAX_ATTEMPTS = 4
MAX_TOTAL_WAIT_SECONDS = 30.0
REQUEST_TIMEOUT_SECONDS = 20.0
DEFAULT_RETRY_AFTER_SECONDS = 2.0
_LOCAL_HOSTS = ("127.0.0.1", "localhost")


class GraphError(DsrIntakeError):
    """Graph answered with an error. The message carries the status and Graph's error code
    only."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"Microsoft Graph answered {status} ({code})")
        self.status = status
        self.code = code


class GraphCredentials(BaseModel):
    """The app registration's secret, as the admin stores it in Secrets Manager (JSON)."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    client_id: str
    client_secret: SecretStr


def secret_credentials(secrets: Any, secret_arn: str) -> Callable[[], GraphCredentials]:
    """Credentials read with Powertools Parameters from the secret, cached for a few minutes
    (a rotated client secret is picked up without a redeploy)."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    provider = SecretsProvider(boto3_client=secrets)

    def read() -> GraphCredentials:
        value = provider.get(secret_arn, transform="json", max_age=SECRET_MAX_AGE_SECONDS)
        credentials = GraphCredentials.model_validate(value)
        if not (credentials.tenant_id and credentials.client_id and credentials.client_secret):
            raise DsrIntakeError("the Graph secret is not filled in (tenant_id, client_id, ...)")
        return credentials

    return read


@dataclass(frozen=True)
class _Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        value = json.loads(self.body or b"{}")
        return value if isinstance(value, dict) else {}


def _checked_url(url: str) -> str:
    """TLS everywhere but the local stand-in on this machine."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS):
        return url.rstrip("/")
    raise ValueError("a Graph URL must be https (http only for the local mailbox)")


class GraphClient:
    def __init__(
        self,
        credentials: Callable[[], GraphCredentials],
        api_url: str,
        login_url: str,
        *,
        seconds_left: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credentials = credentials
        self.api_url = _checked_url(api_url)
        self.login_url = _checked_url(login_url)
        # How long the invocation has left; no wait or request may outlast it.
        self.seconds_left = seconds_left or (lambda: float("inf"))
        self.sleep = sleep
        self.clock = clock
        self._token: tuple[str, float] | None = None  # (token, renew at)
        self._tls = ssl.create_default_context()

    # ----- the calls the adapters use -----
    def get_json(self, path_or_link: str, prefer: str = "") -> dict[str, Any]:
        return self._call("GET", path_or_link, prefer=prefer).json()

    def get_bytes(self, path: str, prefer: str = "") -> bytes:
        return self._call("GET", path, prefer=prefer).body

    def post_json(self, path: str, body: dict[str, Any], prefer: str = "") -> dict[str, Any]:
        data = json.dumps(body).encode("utf-8")
        return self._call("POST", path, data, "application/json", prefer=prefer).json()

    def send_mime(self, path: str, mime: bytes) -> None:
        """POST a whole MIME message (Graph takes it base64-encoded, as text/plain). Only a
        429 is tried again: any other failure may have come after Graph accepted it."""
        import base64

        self._call("POST", path, base64.b64encode(mime), "text/plain", retry_unavailable=False)

    def pages(self, path_or_link: str, prefer: str = "") -> Iterator[dict[str, Any]]:
        """Each page of a collection, following `@odata.nextLink` to the last page (which
        carries the `@odata.deltaLink` of a delta query)."""
        link: str | None = path_or_link
        while link:
            page = self.get_json(link, prefer)
            yield page
            link = page.get("@odata.nextLink")

    # ----- HTTP -----
    def _url(self, path_or_link: str) -> str:
        if path_or_link.startswith("/"):
            return self.api_url + path_or_link
        # A link Graph handed back: followed only on Graph's own host, never elsewhere with
        # our token.
        if not path_or_link.startswith(self.api_url + "/"):
            raise ValueError("a Graph link must be on the Graph API's own URL")
        return path_or_link

    def _call(
        self,
        method: str,
        path_or_link: str,
        data: bytes | None = None,
        content_type: str = "",
        *,
        prefer: str = "",
        retry_unavailable: bool = True,
    ) -> _Response:
        url = self._url(path_or_link)
        waited = 0.0
        for attempt in range(1, MAX_ATTEMPTS + 1):
            headers = {"Authorization": f"Bearer {self._access_token()}"}
            if content_type:
                headers["Content-Type"] = content_type
            if prefer:
                headers["Prefer"] = prefer
            response = self._request(method, url, data, headers)
            if response.status == 401 and attempt == 1:
                self._token = None  # revoked or expired early: one fresh token, once
                continue
            retryable = response.status == 429 or (response.status == 503 and retry_unavailable)
            if response.status < 400:
                return response
            wait = _retry_after(response.headers)
            left = self.seconds_left() - REQUEST_TIMEOUT_SECONDS - wait
            if (
                not retryable
                or attempt == MAX_ATTEMPTS
                or waited + wait > MAX_TOTAL_WAIT_SECONDS
                or left < 0
            ):
                raise GraphError(response.status, _error_code(response))
            self.sleep(wait)
            waited += wait
        raise GraphError(401, "unauthorized")

    def _request(
        self, method: str, url: str, data: bytes | None, headers: dict[str, str]
    ) -> _Response:
        """One request. A lost connection or a timeout propagates: its outcome is unknown."""
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        timeout = max(1.0, min(REQUEST_TIMEOUT_SECONDS, self.seconds_left()))
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=self._tls) as answer:
                return _Response(answer.status, dict(answer.headers.items()), answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return _Response(error.code, dict(error.headers.items()), error.read())

    def _access_token(self) -> str:
        if self._token and self.clock() < self._token[1]:
            return self._token[0]
        credentials = self.credentials()
        form = urllib.parse.urlencode(
            {
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret.get_secret_value(),
                "scope": GRAPH_SCOPE,
                "grant_type": "client_credentials",
            }
        ).encode("ascii")
        tenant = urllib.parse.quote(credentials.tenant_id, safe="")
        url = f"{self.login_url}/{tenant}/oauth2/v2.0/token"
        for attempt in range(1, MAX_ATTEMPTS + 1):
            response = self._request(
                "POST", url, form, {"Content-Type": "application/x-www-form-urlencoded"}
            )
            if response.status in (429, 503) and attempt < MAX_ATTEMPTS:
                self.sleep(min(_retry_after(response.headers), MAX_TOTAL_WAIT_SECONDS))
                continue
            if response.status >= 400:
                # Entra ID's error names the problem (invalid_client ...), never a person.
                raise GraphError(response.status, str(response.json().get("error", "token")))
            answer = response.json()
            expires_in = float(answer.get("expires_in", 0))
            self._token = (
                str(answer["access_token"]),
                self.clock() + max(0.0, expires_in - TOKEN_MARGIN_SECONDS),
            )
            return self._token[0]
        raise GraphError(429, "token throttled")


def graph_client(settings: Settings, seconds_left: Callable[[], float] | None = None) -> GraphClient:
    """The client for this deployment's app registration (its secret in Secrets Manager)."""
    from shared.adapters import client

    return GraphClient(
        secret_credentials(client("secretsmanager"), settings.graph_secret_arn),
        settings.graph_api_url,
        settings.graph_login_url,
        seconds_left=seconds_left,
    )


def _retry_after(headers: dict[str, str]) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                break  # an HTTP date: not what Graph sends
    return DEFAULT_RETRY_AFTER_SECONDS


def _error_code(response: _Response) -> str:
    """Graph's error code (`ErrorItemNotFound`, `TooManyRequests`): never its message."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        return "unreadable"
    code = error.get("code") if isinstance(error, dict) else None
    return str(code)[:64] if code else "unknown"
