"""The console's optional federation to the organisation's identity provider (NHSmail's Entra
ID) in template.yaml: parameters, one condition, the SAML provider and the pool's domain made
only under it, the app client's OAuth settings only under it, and the stack as built in local
AWS both ways."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from infrastructure.local_stack import LocalStack, LocalStackError, check_parameters, load_template

METADATA = (
    "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/"
    "federationmetadata/2007-06/federationmetadata.xml?appid=11111111-1111-1111-1111-111111111111"
)
FEDERATED = {
    "ConsoleFederationMetadataUrl": METADATA,
    "ConsoleDomainPrefix": "dsr-console-bromley",
    "ConsoleHostName": "abc123.execute-api.eu-west-2.amazonaws.com",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def _resolved(template: dict[str, Any], parameters: dict[str, str]) -> LocalStack:
    """The template's conditions and Fn::If resolved for these parameters, as CloudFormation
    resolves them (the local stack's resolver; nothing is started)."""
    stack = LocalStack(parameters)
    stack.template = template
    return stack


def test_federation_is_off_by_default_and_set_by_four_parameters(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    assert parameters["ConsoleFederationMetadataUrl"]["Default"] == ""
    assert parameters["ConsoleFederationName"]["Default"] == "NHSmail"
    assert parameters["ConsoleDomainPrefix"]["Default"] == ""
    assert parameters["ConsoleHostName"]["Default"] == ""
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    [console] = [g for g in groups if g["Label"]["default"] == "The coordinators' console"]
    assert {"ConsoleFederationMetadataUrl", "ConsoleFederationName", "ConsoleDomainPrefix",
            "ConsoleHostName"} <= set(console["Parameters"])  # fmt: skip
    # The metadata URL alone is refused, not silently ignored.
    rule = template["Rules"]["FederationNeedsItsAddresses"]
    assert rule["RuleCondition"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ConsoleFederationMetadataUrl"}, ""]}]
    }
    assert len(rule["Assertions"]) == 2


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"ConsoleFederationMetadataUrl": "http://login.example/metadata"}, "does not match"),
        ({"ConsoleDomainPrefix": "DSR_Console"}, "does not match"),
        ({"ConsoleDomainPrefix": "-dsr"}, "does not match"),
        ({"ConsoleHostName": "https://console.example.nhs.uk/"}, "does not match"),
        ({"ConsoleFederationName": "N"}, "does not match"),
    ],
)
def test_federation_parameters_are_checked(values: dict[str, str], message: str) -> None:
    with pytest.raises(LocalStackError, match=message):
        check_parameters(values, load_template()["Parameters"])


def test_the_provider_and_the_domain_exist_only_when_federating(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    provider = resources["ConsoleIdentityProvider"]
    domain = resources["ConsoleUserPoolDomain"]
    assert provider["Condition"] == domain["Condition"] == "FederatesConsoleSignIn"
    properties = provider["Properties"]
    assert properties["ProviderType"] == "SAML"
    assert properties["ProviderDetails"] == {"MetadataURL": {"Ref": "ConsoleFederationMetadataUrl"}}
    assert properties["AttributeMapping"] == {
        "email": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
    }
    assert domain["Properties"]["Domain"] == {"Ref": "ConsoleDomainPrefix"}
    plain = _resolved(template, {})
    assert not plain._exists(provider) and not plain._exists(domain)
    # The metadata URL needs both addresses (the rule says so; the condition agrees).
    half = _resolved(template, {"ConsoleFederationMetadataUrl": METADATA})
    assert not half._exists(provider)
    federated = _resolved(template, FEDERATED)
    assert federated._exists(provider) and federated._exists(domain)


def test_the_app_client_takes_the_code_flow_only_when_federating(template: dict[str, Any]) -> None:
    client = template["Resources"]["ConsoleUserPoolClient"]["Properties"]
    oauth = ("AllowedOAuthFlowsUserPoolClient", "AllowedOAuthFlows", "AllowedOAuthScopes",
             "CallbackURLs")  # fmt: skip
    plain = _resolved(template, {})._resolve(client)
    assert plain["SupportedIdentityProviders"] == ["COGNITO"]
    assert not set(oauth) & set(plain)
    stack = _resolved(template, FEDERATED)
    stack.resources["ConsoleIdentityProvider"] = "NHSmail"  # what its Ref gives once made
    federated = stack._resolve(client)
    assert federated["SupportedIdentityProviders"] == ["COGNITO", "NHSmail"]
    assert federated["AllowedOAuthFlowsUserPoolClient"] is True
    assert federated["AllowedOAuthFlows"] == ["code"]  # no implicit flow; PKCE, no secret
    assert set(federated["AllowedOAuthScopes"]) == {
        "openid",
        "email",
        "aws.cognito.signin.user.admin",
    }
    assert federated["CallbackURLs"] == [
        "https://abc123.execute-api.eu-west-2.amazonaws.com/auth/callback"
    ]
    assert federated["GenerateSecret"] is False
    # The console's own sign-in stays as it was.
    assert federated["ExplicitAuthFlows"] == [
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    ]


def test_the_function_is_told_only_when_federating(template: dict[str, Any]) -> None:
    variables = template["Resources"]["ConsoleFunction"]["Properties"]["Environment"]["Variables"]
    names = ("DSR_CONSOLE_FEDERATION_NAME", "DSR_CONSOLE_FEDERATION_DOMAIN",
             "DSR_CONSOLE_FEDERATION_CALLBACK_URL")  # fmt: skip
    plain = _resolved(template, {})._resolve({name: variables[name] for name in names})
    assert plain == dict.fromkeys(names, "")
    stack = _resolved(template, FEDERATED)
    stack.resources.update(
        {"ConsoleIdentityProvider": "NHSmail", "ConsoleUserPoolDomain": "dsr-console-bromley"}
    )
    federated = stack._resolve({name: variables[name] for name in names})
    assert federated == {
        "DSR_CONSOLE_FEDERATION_NAME": "NHSmail",
        "DSR_CONSOLE_FEDERATION_DOMAIN": "https://dsr-console-bromley.auth.eu-west-2.amazoncognito.com",
        "DSR_CONSOLE_FEDERATION_CALLBACK_URL": "https://abc123.execute-api.eu-west-2.amazonaws.com/auth/callback",
    }
    # The token endpoint is the app client's public one: the function's role gains nothing.
    policies = json.dumps(template["Resources"]["ConsoleFunction"]["Properties"]["Policies"])
    assert "cognito-idp:" not in policies


def test_the_local_stack_makes_the_provider_the_domain_and_the_client() -> None:
    """In its own process: moto's backends are per process, and the session's stack does not
    federate."""
    script = f"""
import json, os
from infrastructure.local_stack import LocalStack
with LocalStack({FEDERATED!r}) as stack:
    cognito = stack.client("cognito-idp")
    pool = stack.resources["ConsoleUserPool"]
    print(json.dumps({{
        "provider": cognito.describe_identity_provider(
            UserPoolId=pool, ProviderName="NHSmail")["IdentityProvider"],
        "domain": cognito.describe_user_pool_domain(
            Domain="dsr-console-bromley")["DomainDescription"],
        "client": cognito.describe_user_pool_client(
            UserPoolId=pool, ClientId=stack.resources["ConsoleUserPoolClient"])["UserPoolClient"],
        "pool": pool,
        "environment": {{k: v for k, v in os.environ.items() if "FEDERATION" in k}},
    }}, default=str))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["provider"]["ProviderType"] == "SAML"
    assert found["provider"]["ProviderDetails"] == {"MetadataURL": METADATA}
    assert found["domain"]["UserPoolId"] == found["pool"]
    client = found["client"]
    assert client["SupportedIdentityProviders"] == ["COGNITO", "NHSmail"]
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["CallbackURLs"] == [
        "https://abc123.execute-api.eu-west-2.amazonaws.com/auth/callback"
    ]
    assert found["environment"] == {
        "DSR_CONSOLE_FEDERATION_NAME": "NHSmail",
        "DSR_CONSOLE_FEDERATION_DOMAIN": "https://dsr-console-bromley.auth.eu-west-2.amazoncognito.com",
        "DSR_CONSOLE_FEDERATION_CALLBACK_URL": "https://abc123.execute-api.eu-west-2.amazonaws.com/auth/callback",
    }
