"""Signing in to the console through the organisation's identity provider (NHSmail's Entra
ID, federated to the user pool by SAML), pure: where to send the browser - the user pool
domain's authorize endpoint, straight to the provider - with a PKCE challenge (RFC 7636,
S256) and a state bound to this browser by a cookie, and the check of what comes back.

The code that comes back is exchanged for the pool's own tokens
(shared.adapters.console_federation), which are then verified like any other sign-in's
(shared.adapters.console_auth): nothing here reads or signs a token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

# The state and the PKCE verifier between the start and the callback. SameSite=Lax, not
# Strict as the session's are: the callback is a top-level GET that arrives from the pool's
# domain, on which a browser sends Lax cookies and withholds Strict ones.
FEDERATION_COOKIE = "__Host-dsr-federation"
FEDERATION_SECONDS = 600  # the time a person has at the identity provider
# aws.cognito.signin.user.admin: the access token may then ask Cognito who it belongs to
# (GetUser, on every request) and sign itself out (GlobalSignOut), as a password sign-in's.
SCOPES = ("openid", "email", "aws.cognito.signin.user.admin")


def code_challenge(verifier: str) -> str:
    """PKCE's S256: base64url(SHA-256(verifier)), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class FederatedStart:
    """One browser's sign-in at the identity provider: its state and PKCE verifier, kept in
    FEDERATION_COOKIE until the callback."""

    state: str
    verifier: str

    @classmethod
    def new(cls) -> FederatedStart:
        # token_urlsafe(64): 86 characters of [A-Za-z0-9_-], within PKCE's 43..128.
        return cls(state=secrets.token_urlsafe(32), verifier=secrets.token_urlsafe(64))

    @property
    def cookie_value(self) -> str:
        return f"{self.state}.{self.verifier}"  # neither holds a "."

    def authorize_url(self, domain: str, client_id: str, callback_url: str, provider: str) -> str:
        """The pool domain's /oauth2/authorize, naming the provider so the pool's own page is
        skipped and the person goes straight to it."""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": callback_url,
                "identity_provider": provider,
                "scope": " ".join(SCOPES),
                "state": self.state,
                "code_challenge": code_challenge(self.verifier),
                "code_challenge_method": "S256",
            }
        )
        return f"{domain.rstrip('/')}/oauth2/authorize?{query}"


def verifier_for(cookie_value: str | None, returned_state: str | None) -> str | None:
    """The PKCE verifier of the sign-in this browser started, when the state that came back is
    its state; None for anything else (no cookie, another browser's state, a forged callback:
    CSRF on the callback)."""
    if not cookie_value or not returned_state:
        return None
    state, dot, verifier = cookie_value.partition(".")
    if not dot or not state or not verifier:
        return None
    if not hmac.compare_digest(state.encode(), returned_state.encode()):
        return None
    return verifier
