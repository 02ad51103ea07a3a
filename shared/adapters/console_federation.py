"""The user pool domain's token endpoint: the code a federated sign-in brings back, exchanged
(with its PKCE verifier) for the pool's tokens. The app client is public (no secret): the
verifier proves the exchange comes from the browser's own sign-in. Standard library only;
what comes back is verified by shared.adapters.console_auth like any other token."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlencode, urlsplit

from shared.adapters.console_auth import Tokens
from shared.errors import ConsoleSignInError

TIMEOUT_SECONDS = 10.0  # the function has 29; a stuck endpoint is a refusal, not a hang
MAX_ANSWER_BYTES = 64 * 1024  # three tokens; anything larger is not Cognito's answer
_REFUSED = (
    "Signing in through your organisation did not work. Try again; if it happens again, "
    "ask a DSR admin."
)


class TokenEndpoint:
    def __init__(self, domain: str, client_id: str, timeout: float = TIMEOUT_SECONDS) -> None:
        parts = urlsplit(domain)
        # Cognito's domain is HTTPS; plain HTTP only to this machine (the tests' stand-in).
        if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost"):
            raise ValueError("the user pool domain must be an https:// address")
        self.url = f"{domain.rstrip('/')}/oauth2/token"
        self.client_id = client_id
        self.timeout = timeout

    def exchange(self, code: str, verifier: str, redirect_uri: str) -> Tokens:
        """The pool's tokens for `code`; ConsoleSignInError (its code names the failure,
        never the person) when the endpoint refuses, fails or cannot be reached."""
        request = urllib.request.Request(
            self.url,
            data=urlencode(
                {
                    "grant_type": "authorization_code",
                    "client_id": self.client_id,
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": verifier,
                }
            ).encode("ascii"),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read(MAX_ANSWER_BYTES))  # cut short: not JSON
        except urllib.error.HTTPError as error:
            raise ConsoleSignInError(_oauth_error(error), _REFUSED) from None
        except (OSError, ValueError):  # unreachable, timed out, not JSON
            raise ConsoleSignInError("TokenEndpointFailed", _REFUSED) from None
        access_token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(access_token, str) or not access_token:
            raise ConsoleSignInError("TokenEndpointNoToken", _REFUSED)
        refresh_token = answer.get("refresh_token")
        return Tokens(access_token, refresh_token if isinstance(refresh_token, str) else None)


def _oauth_error(error: urllib.error.HTTPError) -> str:
    """OAuth's error code (`invalid_grant`, ...) when the answer names one: a fixed word,
    safe to log; never its description."""
    try:
        named = json.loads(error.read(4096)).get("error")
    except (OSError, ValueError, AttributeError):
        named = None
    if isinstance(named, str) and named.replace("_", "").isalpha() and len(named) <= 40:
        return f"TokenEndpoint:{named}"
    return f"TokenEndpoint:HTTP{error.code}"
