"""The console's sign-in (Cognito's InitiateAuth and its challenges) and the verification of
its access tokens (PyJWT against the user pool's published keys). Nothing here is written by
hand: Cognito checks passwords and codes, PyJWT checks signatures and times."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import jwt
from botocore.exceptions import ClientError

from shared.console.session import Identity, roles_of
from shared.errors import ConsoleSignInError, NotSignedInError

MFA_CODE = "SOFTWARE_TOKEN_MFA"
MFA_SETUP = "MFA_SETUP"
NEW_PASSWORD = "NEW_PASSWORD_REQUIRED"
CHALLENGES = frozenset({MFA_CODE, MFA_SETUP, NEW_PASSWORD})

# What a person is told, by Cognito's error code: never which of email or password was wrong.
_REFUSALS = {
    "NotAuthorizedException": "The email address or password is not right, or the sign-in "
    "took too long. Sign in again.",
    "UserNotFoundException": "The email address or password is not right.",
    "CodeMismatchException": "The code is not right. Enter the 6 digits your authenticator "
    "app shows now.",
    "ExpiredCodeException": "The code has expired. Enter the code your authenticator app "
    "shows now.",
    "EnableSoftwareTokenMFAException": "The code is not right. Enter the 6 digits your "
    "authenticator app shows now.",
    "InvalidPasswordException": "The new password does not meet the password rules.",
    "PasswordResetRequiredException": "Your password must be reset: ask the DSR admin.",
    "TooManyRequestsException": "Too many attempts. Wait a minute, then try again.",
    "LimitExceededException": "Too many attempts. Wait a minute, then try again.",
}
_SIGN_IN_AGAIN = "The sign-in took too long. Sign in again."


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None


@dataclass(frozen=True)
class Challenge:
    """A further step Cognito asks for, with its session (kept in a cookie between pages)."""

    name: str
    session: str
    username: str
    secret_code: str | None = None  # MFA_SETUP: the key to add to an authenticator app


def _refused(error: ClientError) -> ConsoleSignInError:
    code = error.response.get("Error", {}).get("Code", "SignInRefused")
    return ConsoleSignInError(code, _REFUSALS.get(code, _SIGN_IN_AGAIN))


class CognitoSignIn:
    """The user pool's public sign-in API (no IAM: the app client is the caller)."""

    def __init__(self, cognito: Any, client_id: str) -> None:
        self.cognito = cognito
        self.client_id = client_id

    def _step(self, answer: dict[str, Any], username: str) -> Tokens | Challenge:
        if "AuthenticationResult" in answer:
            result = answer["AuthenticationResult"]
            return Tokens(result["AccessToken"], result.get("RefreshToken"))
        name = answer.get("ChallengeName", "")
        if name not in CHALLENGES:
            # SMS, custom or device challenges: the pool is set up for none of them.
            raise ConsoleSignInError(name or "NoChallenge", _SIGN_IN_AGAIN)
        session = answer["Session"]
        if name == MFA_SETUP:
            # The key for the person's authenticator app; Cognito moves the session on.
            try:
                association = self.cognito.associate_software_token(Session=session)
            except ClientError as error:
                raise _refused(error) from None
            return Challenge(name, association["Session"], username, association["SecretCode"])
        return Challenge(name, session, username)

    def password(self, username: str, password: str) -> Tokens | Challenge:
        try:
            answer = self.cognito.initiate_auth(
                ClientId=self.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        except ClientError as error:
            raise _refused(error) from None
        return self._step(answer, username)

    def _respond(self, challenge: Challenge, responses: dict[str, str]) -> Tokens | Challenge:
        try:
            answer = self.cognito.respond_to_auth_challenge(
                ClientId=self.client_id,
                ChallengeName=challenge.name,
                Session=challenge.session,
                ChallengeResponses={"USERNAME": challenge.username, **responses},
            )
        except ClientError as error:
            raise _refused(error) from None
        return self._step(answer, challenge.username)

    def new_password(self, challenge: Challenge, new_password: str) -> Tokens | Challenge:
        return self._respond(challenge, {"NEW_PASSWORD": new_password})

    def mfa_code(self, challenge: Challenge, code: str) -> Tokens | Challenge:
        return self._respond(challenge, {"SOFTWARE_TOKEN_MFA_CODE": code})

    def finish_mfa_setup(self, challenge: Challenge, code: str) -> Tokens | Challenge:
        try:
            verified = self.cognito.verify_software_token(
                Session=challenge.session, UserCode=code, FriendlyDeviceName="DSR console"
            )
        except ClientError as error:
            raise _refused(error) from None
        moved_on = Challenge(challenge.name, verified["Session"], challenge.username)
        return self._respond(moved_on, {})

    def refresh(self, refresh_token: str) -> Tokens:
        try:
            answer = self.cognito.initiate_auth(
                ClientId=self.client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token},
            )
        except ClientError as error:
            raise NotSignedInError("refresh refused") from error
        return Tokens(answer["AuthenticationResult"]["AccessToken"], refresh_token)

    def email_of(self, access_token: str) -> str:
        """The signed-in person's email address, as the pool holds it: the audit's and the
        actions' name for them (an access token carries only the pool's own username, a
        uuid when people sign in by email). GetUser is authorised by the token itself."""
        try:
            answer = self.cognito.get_user(AccessToken=access_token)
        except ClientError as error:
            raise NotSignedInError("the pool does not know the token's user") from error
        attributes = {item["Name"]: item["Value"] for item in answer.get("UserAttributes", [])}
        return str(attributes.get("email") or answer["Username"])

    def sign_out(self, access_token: str) -> None:
        """Revokes the person's tokens everywhere; an already dead token is signed out."""
        with contextlib.suppress(ClientError):
            self.cognito.global_sign_out(AccessToken=access_token)


class TokenVerifier:
    """An access token from this pool for this client, checked by PyJWT: RS256 signature
    against the pool's JWKS, issuer, expiry and issue time; then token_use and client_id
    (an access token carries client_id, not aud)."""

    def __init__(self, jwks_url: str, issuer: str, client_id: str) -> None:
        self.keys = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600)
        self.issuer = issuer
        self.client_id = client_id

    def verify(self, token: str) -> Identity:
        try:
            key = self.keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "sub", "token_use", "client_id"]},
            )
        except jwt.PyJWTError as error:
            raise NotSignedInError(type(error).__name__) from None
        if claims["token_use"] != "access":
            raise NotSignedInError("not an access token")
        if claims["client_id"] != self.client_id:
            raise NotSignedInError("another client's token")
        return Identity(
            subject=str(claims["sub"]),
            username=str(claims.get("username", claims["sub"])),
            roles=roles_of(claims.get("cognito:groups")),
            expires_at=int(claims["exp"]),
            issued_at=int(claims["iat"]),
        )
