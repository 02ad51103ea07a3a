"""samconfig.toml's staging and production environments deploy the template as it is: every
override names a parameter and passes its rules, the two stacks do not collide, share one
receipt rule set, and name no real address."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from infrastructure.local_stack import check_parameters, load_template
from shared.settings import domain_matches

CONFIG = tomllib.loads((Path(__file__).resolve().parents[2] / "samconfig.toml").read_text())
ENVIRONMENTS = ("staging", "production")
GRAPH_ENVIRONMENT = "staging-graph"


def deploy(environment: str) -> tuple[dict[str, Any], dict[str, str]]:
    settings = CONFIG[environment]["deploy"]["parameters"]
    pairs = dict(pair.split("=", 1) for pair in settings["parameter_overrides"])
    return settings, pairs


def check_deployable(environment: str) -> dict[str, str]:
    settings, parameters = deploy(environment)
    declared = load_template()["Parameters"]
    check_parameters(parameters, declared)
    # Nothing is inherited from [default]: what `sam deploy`, `sam build` and `sam validate`
    # need is here.
    assert settings["capabilities"] == "CAPABILITY_IAM" and settings["resolve_s3"] is True
    assert settings["region"] == "eu-west-2"
    assert CONFIG[environment]["build"]["parameters"] == CONFIG["default"]["build"]["parameters"]
    assert CONFIG[environment]["validate"]["parameters"] == {"lint": True}
    required = {name for name, rules in declared.items() if "Default" not in rules}
    assert required <= set(parameters)
    # Placeholders only: nothing can be delivered to a .invalid domain (RFC 2606).
    for name, value in parameters.items():
        if "@" in value:
            assert all(a.strip().endswith(".invalid") for a in value.split(",")), name
    return parameters


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_an_environment_deploys_with_the_templates_parameters(environment: str) -> None:
    parameters = check_deployable(environment)
    # The smoke address is at the intake domain, which is an allowed sender domain.
    smoke = parameters["SmokeTestAddress"]
    assert smoke.endswith("@" + parameters["IntakeDomain"])
    assert parameters["InboxAddress"].endswith("@" + parameters["IntakeDomain"])
    allowed = tuple(parameters["AllowedSenderDomains"].split(","))
    assert domain_matches(smoke, allowed)


def test_the_graph_staging_example_has_mailboxes_of_its_own() -> None:
    parameters = check_deployable(GRAPH_ENVIRONMENT)
    assert parameters["InboundRoute"] == parameters["OutboundRoute"] == "graph"
    mailbox, smoke = parameters["GraphMailbox"], parameters["SmokeTestMailbox"]
    assert parameters["InboxAddress"] == mailbox != smoke
    assert smoke.rsplit("@", 1)[1] == mailbox.rsplit("@", 1)[1]  # internal mail: one domain
    assert domain_matches(smoke, tuple(parameters["AllowedSenderDomains"].split(",")))
    # SES receives nothing for it: it joins no rule set and makes none.
    assert "ExistingReceiptRuleSet" not in parameters and "SmokeTestAddress" not in parameters
    stacks = {deploy(env)[0]["stack_name"] for env in (*ENVIRONMENTS, GRAPH_ENVIRONMENT)}
    assert len(stacks) == 3


def test_staging_and_production_share_a_rule_set_and_nothing_else() -> None:
    (staging, ours), (production, theirs) = (deploy(env) for env in ENVIRONMENTS)
    assert staging["stack_name"] != production["stack_name"]
    for name in ("StageName", "IntakeDomain", "InboxAddress", "SmokeTestAddress"):
        assert ours[name] != theirs[name], name
    # One active rule set per account and region: both join it.
    assert ours["ExistingReceiptRuleSet"] == theirs["ExistingReceiptRuleSet"] != ""
    assert production["confirm_changeset"] is True
