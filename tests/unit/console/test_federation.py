"""Sign-in through the organisation's identity provider, the pure part: the authorize address,
PKCE's S256 and the state that binds the callback to the browser that started it."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from shared.console.federation import (
    SCOPES,
    FederatedStart,
    code_challenge,
    verifier_for,
)


def test_the_challenge_is_rfc_7636s_s256() -> None:
    # RFC 7636, Appendix B: the example verifier and its S256 challenge.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_each_start_is_new_and_its_verifier_is_within_pkces_bounds() -> None:
    starts = [FederatedStart.new() for _ in range(20)]
    assert len({start.state for start in starts}) == 20
    assert len({start.verifier for start in starts}) == 20
    for start in starts:
        # RFC 7636 4.1: 43 to 128 unreserved characters.
        assert re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", start.verifier)
        assert len(start.state) >= 43 and "." not in start.state + start.verifier


def test_the_authorize_address_goes_straight_to_the_provider_with_pkce() -> None:
    start = FederatedStart(state="the-state", verifier="v" * 50)
    url = start.authorize_url(
        "https://dsr-console.auth.eu-west-2.amazoncognito.com/",
        "client-123",
        "https://console.example.nhs.uk/auth/callback",
        "NHSmail",
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "dsr-console.auth.eu-west-2.amazoncognito.com",
        "/oauth2/authorize",
    )
    asked = {name: values[0] for name, values in parse_qs(parts.query, strict_parsing=True).items()}
    assert asked == {
        "response_type": "code",
        "client_id": "client-123",
        "redirect_uri": "https://console.example.nhs.uk/auth/callback",
        "identity_provider": "NHSmail",
        "scope": "openid email aws.cognito.signin.user.admin",
        "state": "the-state",
        "code_challenge": code_challenge("v" * 50),
        "code_challenge_method": "S256",
    }
    # The verifier itself never leaves the browser's cookie for the provider.
    assert "v" * 50 not in url
    assert "aws.cognito.signin.user.admin" in SCOPES  # GetUser and sign-out by the token


def test_the_callback_is_this_browsers_own_only() -> None:
    start = FederatedStart.new()
    assert verifier_for(start.cookie_value, start.state) == start.verifier
    other = FederatedStart.new()
    # Another browser's state (a forged or replayed callback), or none, or no cookie.
    assert verifier_for(start.cookie_value, other.state) is None
    assert verifier_for(start.cookie_value, None) is None
    assert verifier_for(start.cookie_value, "") is None
    assert verifier_for(None, start.state) is None
    # A cookie that is not one this console set.
    assert verifier_for(start.state, start.state) is None
    assert verifier_for(f"{start.state}.", start.state) is None
    assert verifier_for(f".{start.verifier}", "") is None
    assert verifier_for(start.cookie_value, start.state + "é") is None
