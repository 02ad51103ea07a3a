"""The console's web session, pure: who is signed in and in which role, what each role may
see, the CSRF tokens on every form, and the headers every page is sent with.

The tokens themselves are Cognito's (verified by shared.adapters.console_auth with PyJWT);
nothing here parses or signs a JWT.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from shared.case import StaffRole


class Page(StrEnum):
    REGISTER = "register"  # names, ages, ratings: a person's data
    POPULATION = "population"  # counts only


# Who may see what. A person's data only to those who work the register; counts to all three.
ALLOWED: dict[Page, frozenset[StaffRole]] = {
    Page.REGISTER: frozenset({StaffRole.COORDINATOR, StaffRole.PANEL}),
    Page.POPULATION: frozenset({StaffRole.COORDINATOR, StaffRole.PANEL, StaffRole.ADMIN}),
}

# Cookie names: `__Host-` binds each to this exact origin (Secure, Path=/, no Domain).
SESSION_COOKIE = "__Host-dsr-session"  # the access token
REFRESH_COOKIE = "__Host-dsr-refresh"  # the refresh token: a fresh access token while active
CHALLENGE_COOKIE = "__Host-dsr-sign-in"  # Cognito's session between the sign-in steps
CSRF_COOKIE = "__Host-dsr-csrf"  # the random half of the signed double-submit token
# The event id of the Triage decision just made, read once by the page it redirects to (what
# it came to, from the register): never in the URL, which holds the action's name only.
DONE_COOKIE = "__Host-dsr-done"


@dataclass(frozen=True)
class Identity:
    """A verified access token's claims the console uses."""

    subject: str  # Cognito's sub: the audit's "who"
    username: str
    roles: frozenset[StaffRole]
    expires_at: int  # epoch seconds
    issued_at: int

    @property
    def role(self) -> StaffRole | None:
        """The role shown and audited: the widest a person holds."""
        for role in (StaffRole.COORDINATOR, StaffRole.PANEL, StaffRole.ADMIN):
            if role in self.roles:
                return role
        return None

    def may_see(self, page: Page) -> bool:
        return bool(self.roles & ALLOWED[page])

    def needs_refresh(self, now: float) -> bool:
        """In the second half of its life: swapped for a fresh token, so only a person idle
        for a whole token's life is signed out."""
        return now >= self.issued_at + (self.expires_at - self.issued_at) / 2


def roles_of(groups: object) -> frozenset[StaffRole]:
    """The roles named by a token's `cognito:groups`; any other group gives none."""
    if not isinstance(groups, list):
        return frozenset()
    known = {role.value: role for role in StaffRole}
    return frozenset(known[group] for group in groups if group in known)


def new_csrf_nonce() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(key: bytes, nonce: str) -> str:
    """The form's half: an HMAC of the cookie's nonce, so a page on another site can neither
    read nor forge it (signed double-submit)."""
    return hmac.new(key, f"dsr-console-csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(key: bytes, nonce: str | None, submitted: str | None) -> bool:
    if not nonce or not submitted:
        return False
    return hmac.compare_digest(csrf_token(key, nonce), submitted)


# Self only, nothing inline: the NHS design system's stylesheet and icons come from /assets.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Pages may hold a person's data: never kept by the browser or anything between.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# The vendored stylesheet and icons: named by version, so kept for a year.
LONG_CACHE = {"Cache-Control": "public, max-age=31536000, immutable"}


def audit_view(
    identity: Identity, what: str, case_ids: list[str], waiting: list[str] | None = None
) -> dict[str, object]:
    """The audit line of a view of people's data: who (Cognito's sub and role), what page,
    which cases (references only, never a name or a search's words) and, on Triage, which
    emails and held withdrawals (SES message ids and hold references); the log line's own
    timestamp is the when. Written to the console's log group (KMS-encrypted, retained)."""
    line: dict[str, object] = {
        "who": identity.subject,
        "role": identity.role.value if identity.role else None,
        "what": what,
        "cases": sorted(case_ids),
    }
    if waiting:
        line["waiting"] = sorted(waiting)
    return line
