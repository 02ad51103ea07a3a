"""The SES route in template.yaml: the intake domain's identity, the DNS records the stack
outputs for it, and the smoke address's mailbox under smoke/ (what moto cannot run is
checked on the template itself)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from infrastructure.local_stack import LocalStackError, check_parameters, load_template

DNS_OUTPUTS = {
    "IntakeDomainMxRecord": "${IntakeDomain} MX 10 inbound-smtp.${AWS::Region}.amazonaws.com",
    "IntakeDomainDkimRecord1": "${IntakeDomainIdentity.DkimDNSTokenName1} CNAME ${IntakeDomainIdentity.DkimDNSTokenValue1}",
    "IntakeDomainDkimRecord2": "${IntakeDomainIdentity.DkimDNSTokenName2} CNAME ${IntakeDomainIdentity.DkimDNSTokenValue2}",
    "IntakeDomainDkimRecord3": "${IntakeDomainIdentity.DkimDNSTokenName3} CNAME ${IntakeDomainIdentity.DkimDNSTokenValue3}",
    "IntakeDomainMailFromMxRecord": "bounce.${IntakeDomain} MX 10 feedback-smtp.${AWS::Region}.amazonses.com",
    "IntakeDomainMailFromSpfRecord": 'bounce.${IntakeDomain} TXT "v=spf1 include:amazonses.com -all"',
    "IntakeDomainDmarcRecord": '_dmarc.${IntakeDomain} TXT "v=DMARC1; p=reject; adkim=s; aspf=r"',
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def test_the_intake_domain_identity_signs_and_aligns(template: dict[str, Any]) -> None:
    assert template["Parameters"]["IntakeDomain"]["Default"] == ""
    assert template["Conditions"]["HasIntakeDomain"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "IntakeDomain"}, ""]}]
    }
    identity = template["Resources"]["IntakeDomainIdentity"]
    assert identity["Type"] == "AWS::SES::EmailIdentity"
    assert identity["Condition"] == "HasIntakeDomain"
    properties = identity["Properties"]
    assert properties["EmailIdentity"] == {"Ref": "IntakeDomain"}
    assert properties["DkimAttributes"] == {"SigningEnabled": True}
    assert properties["DkimSigningAttributes"] == {"NextSigningKeyLength": "RSA_2048_BIT"}
    # Never sent half-proved: no fallback to amazonses.com (SPF would not align).
    assert properties["MailFromAttributes"] == {
        "MailFromDomain": {"Fn::Sub": "bounce.${IntakeDomain}"},
        "BehaviorOnMxFailure": "REJECT_MESSAGE",
    }
    assert properties["ConfigurationSetAttributes"] == {
        "ConfigurationSetName": {"Ref": "OutboundConfigurationSet"}
    }


def test_every_dns_record_to_publish_is_an_output(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    for name, value in DNS_OUTPUTS.items():
        assert outputs[name]["Condition"] == "HasIntakeDomain", name
        assert outputs[name]["Value"] == {"Fn::Sub": value}, name


def test_the_smoke_address_has_its_own_mailbox_the_intake_never_reads(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    rule = resources["SmokeReceiptRule"]
    assert rule["Condition"] == "HasSmokeTestAddress"
    assert (
        rule["Properties"]["RuleSetName"]
        == resources["InboxReceiptRule"]["Properties"]["RuleSetName"]
    )
    # After the inbox's rule, which exists on the SES route only (InboundRoute ses).
    assert rule["Properties"]["After"] == {
        "Fn::If": ["ReceivesWithSes", {"Ref": "InboxReceiptRule"}, {"Ref": "AWS::NoValue"}]
    }
    smoke = rule["Properties"]["Rule"]
    assert smoke["Recipients"] == [{"Ref": "SmokeTestAddress"}]
    assert smoke["TlsPolicy"] == "Require" and smoke["ScanEnabled"] is True
    [action] = smoke["Actions"]
    assert action["S3Action"]["ObjectKeyPrefix"] == "smoke/"
    assert "KmsKeyArn" not in action["S3Action"]  # the bucket's SSE-KMS, never client-side
    bucket = resources["RawMailBucket"]["Properties"]
    # The intake is told of inbound/ only.
    [queue] = bucket["NotificationConfiguration"]["QueueConfigurations"]
    assert queue["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "inbound/"}]
    [expiry] = [r for r in bucket["LifecycleConfiguration"]["Rules"] if r.get("Prefix") == "smoke/"]
    assert expiry["Status"] == "Enabled" and expiry["ExpirationInDays"] == 1
    statements = resources["RawMailBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    [ses] = [s for s in statements if s.get("Principal") == {"Service": "ses.amazonaws.com"}]
    assert ses["Resource"] == [
        {"Fn::Sub": "${RawMailBucket.Arn}/inbound/*"},
        {"Fn::Sub": "${RawMailBucket.Arn}/smoke/*"},
    ]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"IntakeDomain": "Not A Domain"}, "IntakeDomain does not match"),
        ({"IntakeDomain": "dsr@example.nhs.uk"}, "IntakeDomain does not match"),
        ({"SmokeTestAddress": "smoke"}, "SmokeTestAddress does not match"),
    ],
)
def test_domain_and_smoke_address_are_checked(values: dict[str, str], message: str) -> None:
    with pytest.raises(LocalStackError, match=message):
        check_parameters(values, load_template()["Parameters"])


def test_the_local_stack_makes_the_identity_and_resolves_its_records() -> None:
    """In its own process: moto's backends are per process, and the session's stack has
    no intake domain."""
    script = """
import json
from infrastructure.local_stack import LocalStack
domain = "dsr-intake.example.nhs.uk"
with LocalStack({"IntakeDomain": domain, "InboxAddress": "dsr@" + domain,
                 "SmokeTestAddress": "smoke@" + domain}) as stack:
    identity = stack.client("sesv2").get_email_identity(EmailIdentity=domain)
    mail_from = stack.client("ses").get_identity_mail_from_domain_attributes(
        Identities=[domain])["MailFromDomainAttributes"][domain]
    print(json.dumps({"outputs": stack.outputs, "dkim": identity["DkimAttributes"],
                      "mail_from": mail_from}, default=str))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    outputs = found["outputs"]
    domain = "dsr-intake.example.nhs.uk"
    assert outputs["IntakeDomainMxRecord"] == f"{domain} MX 10 inbound-smtp.eu-west-2.amazonaws.com"
    assert outputs["IntakeDomainMailFromMxRecord"] == (
        f"bounce.{domain} MX 10 feedback-smtp.eu-west-2.amazonses.com"
    )
    for n in (1, 2, 3):
        name, kind, value = outputs[f"IntakeDomainDkimRecord{n}"].split(" ")
        assert name.endswith(f"._domainkey.{domain}") and kind == "CNAME"
        assert value.endswith(".dkim.amazonses.com")
    assert found["dkim"]["SigningEnabled"] is True
    assert found["dkim"]["NextSigningKeyLength"] == "RSA_2048_BIT"
    assert found["mail_from"]["MailFromDomain"] == f"bounce.{domain}"
    assert found["mail_from"]["BehaviorOnMXFailure"] == "RejectMessage"
