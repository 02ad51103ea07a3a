"""The console's resources in the embedded stack: moto's CloudFormation skips the Cognito user
pool, its client and groups, and the HTTP API with its stage, so they are created here by API
from the same template text; and the people who sign in to it locally.

The access token's keys: moto signs with one fixed RSA key and serves its JWKS only to a
request that names the cognito-idp service in an Authorization header, which PyJWKClient
never sends. So the JWKS moto serves is fetched once here and published at the same path by a
small local server standing in for Cognito's well-known endpoint: the function fetches the key
set over HTTP and checks every signature with it, as on AWS.
"""

from __future__ import annotations

import base64
import os
import secrets
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infrastructure.local_stack import LocalStack

CONSOLE_RESOURCE_TYPES = frozenset(
    {
        "AWS::Cognito::UserPool",
        "AWS::Cognito::UserPoolClient",
        "AWS::Cognito::UserPoolGroup",
        "AWS::Cognito::UserPoolIdentityProvider",  # federation only
        "AWS::Cognito::UserPoolDomain",  # federation only
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Stage",
    }
)
_CLIENT_SETTINGS = (
    "ClientName",
    "GenerateSecret",
    "ExplicitAuthFlows",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "SupportedIdentityProviders",
    "TokenValidityUnits",
    "AllowedOAuthFlowsUserPoolClient",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "CallbackURLs",
)


def create_console_resource(stack: LocalStack, kind: str, properties: dict[str, Any]) -> str:
    """Create one skipped resource; returns what its Ref gives."""
    if kind == "AWS::Cognito::UserPool":
        return _user_pool(stack, properties)
    cognito = stack.client("cognito-idp")
    if kind == "AWS::Cognito::UserPoolClient":
        numbers = {
            name: int(properties[name])
            for name in (
                "AccessTokenValidity",
                "IdTokenValidity",
                "RefreshTokenValidity",
                "AuthSessionValidity",
            )
            if name in properties
        }
        client = cognito.create_user_pool_client(
            UserPoolId=properties["UserPoolId"],
            **{name: properties[name] for name in _CLIENT_SETTINGS if name in properties},
            **numbers,
        )
        return str(client["UserPoolClient"]["ClientId"])
    if kind == "AWS::Cognito::UserPoolGroup":
        cognito.create_group(
            UserPoolId=properties["UserPoolId"],
            GroupName=properties["GroupName"],
            Description=properties.get("Description", ""),
        )
        return str(properties["GroupName"])
    if kind == "AWS::Cognito::UserPoolIdentityProvider":
        # moto keeps the provider as given (it fetches no metadata): the deployed shape.
        cognito.create_identity_provider(
            UserPoolId=properties["UserPoolId"],
            ProviderName=properties["ProviderName"],
            ProviderType=properties["ProviderType"],
            ProviderDetails=properties["ProviderDetails"],
            AttributeMapping=properties.get("AttributeMapping", {}),
        )
        return str(properties["ProviderName"])
    if kind == "AWS::Cognito::UserPoolDomain":
        cognito.create_user_pool_domain(
            UserPoolId=properties["UserPoolId"], Domain=properties["Domain"]
        )
        return str(properties["Domain"])
    apis = stack.client("apigatewayv2")
    if kind == "AWS::ApiGatewayV2::Api":
        # The routes and the Lambda integration are played by infrastructure.local_console.
        api = apis.create_api(
            Name=f"{properties.get('Name', 'console')}-local",
            ProtocolType="HTTP",
            Description=properties.get("Description", ""),
        )
        return str(api["ApiId"])
    stage = apis.create_stage(
        ApiId=properties["ApiId"],
        StageName=properties["StageName"],
        AutoDeploy=properties.get("AutoDeploy", True),
        DefaultRouteSettings={
            name: float(value) if name == "ThrottlingRateLimit" else int(value)
            for name, value in properties.get("DefaultRouteSettings", {}).items()
        },
        AccessLogSettings=properties.get("AccessLogSettings", {}),
    )
    return str(stage["StageName"])


def _sign_out_finds_the_tokens_pool() -> None:
    """moto answers GlobalSignOut (a call with no signature, so no account) from the default
    account's backend, not the one whose pool issued the token, and refuses every token of a
    pool made under the stack's account: signing out would revoke nothing. AWS finds the
    token's pool; so does moto's own GetUser (`_find_backend_by_access_token`), which this
    follows."""
    from moto.cognitoidp import models

    if getattr(models.CognitoIdpBackend, "_dsr_sign_out_patched", False):
        return
    original = models.CognitoIdpBackend.global_sign_out

    def global_sign_out(self: Any, access_token: str) -> None:
        for backends in models.cognitoidp_backends.values():
            for region, backend in backends.items():
                pools = backend.user_pools.values() if region != "global" else ()
                if any(access_token in pool.access_tokens for pool in pools):
                    return original(backend, access_token)
        return original(self, access_token)

    models.CognitoIdpBackend.global_sign_out = global_sign_out  # type: ignore[method-assign]
    models.CognitoIdpBackend._dsr_sign_out_patched = True  # type: ignore[attr-defined]


def _user_pool(stack: LocalStack, properties: dict[str, Any]) -> str:
    # moto checks TOTP codes only when told to; the local console must refuse a wrong code.
    os.environ["MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"] = "true"
    _sign_out_finds_the_tokens_pool()
    cognito = stack.client("cognito-idp")
    settings = {
        name: properties[name]
        for name in (
            "Policies",
            "AdminCreateUserConfig",
            "UsernameAttributes",
            "AutoVerifiedAttributes",
            "AccountRecoverySetting",
            "UserPoolAddOns",
            "DeletionProtection",
        )
        if name in properties
    }
    pool = cognito.create_user_pool(PoolName=properties["UserPoolName"], **settings)
    pool_id = str(pool["UserPool"]["Id"])
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        MfaConfiguration=properties.get("MfaConfiguration", "OFF"),
        SoftwareTokenMfaConfiguration={
            "Enabled": "SOFTWARE_TOKEN_MFA" in properties.get("EnabledMfas", [])
        },
    )
    return pool_id


def console_environment(stack: LocalStack) -> dict[str, str]:
    """What moto's CloudFormation could not resolve for the ConsoleFunction."""
    pool_id = stack.resources.get("ConsoleUserPool")
    if not pool_id:
        return {}
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    request = urllib.request.Request(
        f"{endpoint}/{pool_id}/.well-known/jwks.json",
        # Tells moto's server which service the request is for (it has no host name to go by).
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=testing/0/eu-west-2/cognito-idp/"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        key_set = response.read()
    path = f"/{pool_id}/.well-known/jwks.json"
    server = _key_sets()
    server.published[path] = key_set
    region = os.environ.get("AWS_REGION", "eu-west-2")
    federation: dict[str, str] = {}
    if stack.resources.get("ConsoleIdentityProvider"):
        # What the template's Fn::If gives when it federates (moto's CloudFormation cannot
        # read these skipped resources); locally nobody answers at the pool's domain.
        federation = {
            "DSR_CONSOLE_FEDERATION_NAME": stack.resources["ConsoleIdentityProvider"],
            "DSR_CONSOLE_FEDERATION_DOMAIN": f"https://{stack.resources['ConsoleUserPoolDomain']}"
            f".auth.{region}.amazoncognito.com",
            "DSR_CONSOLE_FEDERATION_CALLBACK_URL": "https://"
            f"{stack.parameter_values['ConsoleHostName']}/auth/callback",
        }
    return {
        **federation,
        "DSR_CONSOLE_USER_POOL_ID": pool_id,
        "DSR_CONSOLE_CLIENT_ID": stack.resources["ConsoleUserPoolClient"],
        "DSR_CONSOLE_ISSUER": f"https://cognito-idp.{region}.amazonaws.com/{pool_id}",
        "DSR_CONSOLE_JWKS_URL": f"http://127.0.0.1:{server.server_address[1]}{path}",
        "DSR_CONSOLE_SESSION_KEY_ARN": stack.resources["ConsoleSessionKey"],
    }


class _KeySetServer(ThreadingHTTPServer):
    published: dict[str, bytes]


_KEY_SETS: list[_KeySetServer] = []


def _key_sets() -> _KeySetServer:
    """One server for the process (moto signs every pool's tokens with the same key)."""
    if _KEY_SETS:
        return _KEY_SETS[0]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = server.published.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = _KeySetServer(("127.0.0.1", 0), Handler)
    server.published = {}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _KEY_SETS.append(server)
    return server


@dataclass(frozen=True)
class ConsoleUser:
    """A person who can sign in to the local console."""

    username: str
    password: str
    totp_secret: str  # base32, as an authenticator app takes it

    def current_code(self, at: float | None = None) -> str:
        return totp_code(self.totp_secret, at)


# Seconds a code must have left before it is given out (see totp_code).
CODE_MARGIN_SECONDS = 3.0


def totp_code(secret: str, at: float | None = None) -> str:
    """The authenticator app's 6-digit code (RFC 6238, SHA-1, 30 s), by `cryptography`."""
    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    padded = secret + "=" * (-len(secret) % 8)
    key = base64.b32decode(padded, casefold=True)
    code = TOTP(key, 6, SHA1(), 30, enforce_key_length=False)
    if at is None:
        # moto accepts the current window's code only: a code read in a window's last
        # seconds would be refused by the time it is typed, so wait for the next one.
        left = 30 - time.time() % 30
        if left < CODE_MARGIN_SECONDS:
            time.sleep(left + 0.05)
    return code.generate(int(time.time() if at is None else at)).decode("ascii")


def create_user(
    stack: LocalStack, email: str, group: str, password: str | None = None
) -> ConsoleUser:
    """An account as an admin would make it, already through its first sign-in: a permanent
    password (`password`, or a new one) and an authenticator registered, so the next
    sign-in asks for a code."""
    cognito = stack.client("cognito-idp")
    pool_id = stack.resources["ConsoleUserPool"]
    client_id = stack.resources["ConsoleUserPoolClient"]
    password = password or f"Dsr-{secrets.token_urlsafe(12)}-9a"
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
        ],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=email, Password=password, Permanent=True
    )
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
    # moto gives tokens to a user without an authenticator (AWS would ask to set one up).
    signed_in = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    access_token = signed_in["AuthenticationResult"]["AccessToken"]
    secret = cognito.associate_software_token(AccessToken=access_token)["SecretCode"]
    cognito.verify_software_token(AccessToken=access_token, UserCode=totp_code(secret))
    cognito.admin_set_user_mfa_preference(
        UserPoolId=pool_id,
        Username=email,
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    return ConsoleUser(email, password, secret)
