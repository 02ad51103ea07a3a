"""template.yaml is the product too: lint it, transform it, and check what moto cannot."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infrastructure.local_stack import (
    LOCAL_PARAMETERS,
    LocalStack,
    load_template,
    transformed_template,
)
from shared.adapters import client
from shared.settings import Settings


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    resources: dict[str, Any] = template["Resources"]
    return resources


@pytest.fixture(scope="module")
def transformed(stack: LocalStack) -> dict[str, Any]:
    return transformed_template(LOCAL_PARAMETERS, client("iam"), "s3://bucket/code.zip")


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: resource for name, resource in resources.items() if resource["Type"] == kind}


def test_cfn_lint_passes() -> None:
    from pathlib import Path

    from cfnlint.api import lint_file

    matches = lint_file(Path("template.yaml"))
    assert [str(match) for match in matches] == []


def test_every_setting_is_a_parameter(template: dict[str, Any]) -> None:
    """Each field of the settings object reaches the functions from a template parameter."""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    per_function = {
        name
        for resource in of_type(template["Resources"], "AWS::Serverless::Function").values()
        for name in resource["Properties"].get("Environment", {}).get("Variables", {})
    }
    for field in Settings.model_fields:
        assert f"DSR_{field.upper()}" in variables or f"DSR_{field.upper()}" in per_function, field


def test_parameter_defaults_match_the_settings_defaults(template: dict[str, Any]) -> None:
    defaults = Settings()
    parameters = template["Parameters"]
    assert parameters["MinimumAge"]["Default"] == defaults.minimum_age
    assert parameters["MaximumAge"]["Default"] == defaults.maximum_age
    assert parameters["ReviewIntervalDaysRed"]["Default"] == defaults.review_interval_days_red
    assert parameters["ReviewIntervalDaysAmber"]["Default"] == defaults.review_interval_days_amber
    assert parameters["ReviewIntervalDaysGreen"]["Default"] == defaults.review_interval_days_green
    assert parameters["ReviewIntervalDaysBlue"]["Default"] == defaults.review_interval_days_blue
    assert parameters["PendingExpiryDays"]["Default"] == defaults.pending_expiry_days
    assert parameters["ReviewGraceDays"]["Default"] == defaults.review_grace_days
    assert parameters["FirstReviewDays"]["Default"] == defaults.first_review_days
    assert parameters["TransitionAlertMonths"]["Default"] == defaults.transition_alert_months
    assert (
        parameters["ConsentReconfirmationMonths"]["Default"]
        == defaults.consent_reconfirmation_months
    )
    assert parameters["LeadAddress"]["Default"] == defaults.lead_address
    assert parameters["MaxAttachments"]["Default"] == defaults.max_attachments
    assert parameters["MaxAttachmentBytes"]["Default"] == defaults.max_attachment_bytes
    assert (
        Settings(
            allowed_sender_domains=parameters["AllowedSenderDomains"]["Default"]
        ).allowed_sender_domains
        == defaults.allowed_sender_domains
    )
    assert (
        Settings(secure_domains=parameters["SecureDomains"]["Default"]).secure_domains
        == defaults.secure_domains
    )


def test_the_register_table_is_protected(resources: dict[str, Any]) -> None:
    table = resources["RegisterTable"]
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": {"Ref": "DataKey"},
    }
    assert properties["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    assert properties["DeletionProtectionEnabled"] is True
    assert properties["TimeToLiveSpecification"]["AttributeName"] == "expires_at"
    assert table["DeletionPolicy"] == "Retain"


def test_the_mail_bucket_is_encrypted_private_tls_only_and_expires_mail(
    resources: dict[str, Any],
) -> None:
    bucket = resources["RawMailBucket"]["Properties"]
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert any(
        r.get("ExpirationInDays") == {"Ref": "RawMailRetentionDays"}
        for r in bucket["LifecycleConfiguration"]["Rules"]
    )
    statements = resources["RawMailBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    [ses] = [s for s in statements if s.get("Principal") == {"Service": "ses.amazonaws.com"}]
    assert (
        ses["Action"] == "s3:PutObject" and "aws:SourceAccount" in ses["Condition"]["StringEquals"]
    )


def test_ses_receives_with_tls_and_scanning_into_the_bucket(resources: dict[str, Any]) -> None:
    rule = resources["InboxReceiptRule"]["Properties"]["Rule"]
    assert rule["TlsPolicy"] == "Require" and rule["ScanEnabled"] is True
    [action] = rule["Actions"]
    # No KmsKeyArn: that would make SES encrypt client-side (see architecture.md).
    assert set(action["S3Action"]) == {"BucketName", "ObjectKeyPrefix"}
    assert action["S3Action"]["ObjectKeyPrefix"] == "inbound/"


def test_queues_are_encrypted_with_dead_letter_queues(resources: dict[str, Any]) -> None:
    for queue in of_type(resources, "AWS::SQS::Queue").values():
        assert queue["Properties"]["KmsMasterKeyId"] == {"Ref": "DataKey"}
    intake = resources["IntakeQueue"]["Properties"]
    assert intake["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["IntakeDLQ", "Arn"]}


def test_the_queue_outlives_six_function_timeouts(template: dict[str, Any]) -> None:
    timeout = template["Globals"]["Function"]["Timeout"]
    assert template["Resources"]["IntakeQueue"]["Properties"]["VisibilityTimeout"] >= 6 * timeout


def test_every_dead_letter_queue_and_function_has_an_alarm(resources: dict[str, Any]) -> None:
    alarms = of_type(resources, "AWS::CloudWatch::Alarm").values()
    watched = {json.dumps(alarm["Properties"]["Dimensions"]) for alarm in alarms}
    for queue in ("IntakeDLQ", "EffectsDLQ", "ScheduleDLQ"):
        assert any(queue in dimensions for dimensions in watched), queue
    for function in of_type(resources, "AWS::Serverless::Function"):
        assert any(function in dimensions for dimensions in watched), function
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "OpsTopic"}]


def _function_statements(transformed: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    statements: dict[str, list[dict[str, Any]]] = {}
    for name, resource in transformed["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role" and name.endswith("FunctionRole"):
            statements[name] = [
                statement
                for policy in resource["Properties"].get("Policies", [])
                for statement in policy["PolicyDocument"]["Statement"]
            ]
    return statements


def test_function_roles_have_least_privilege(transformed: dict[str, Any]) -> None:
    roles = _function_statements(transformed)
    assert set(roles) == {
        "IntakeFunctionRole",
        "EffectsFunctionRole",
        "ReminderFunctionRole",
        "DigestFunctionRole",
    }
    for role, statements in roles.items():
        for statement in statements:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            assert all("*" not in action for action in actions), (role, actions)
            assert statement["Resource"] != "*", (role, statement)
    intake_actions = {
        a
        for s in roles["IntakeFunctionRole"]
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    # The intake decides and records; only the effects function sends or schedules.
    assert intake_actions == {
        "s3:GetObject",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "kms:GenerateMac",
    }

    def actions_of(role: str) -> set[str]:
        return {
            a
            for s in roles[role]
            for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        }

    # Reminders and the panel pack record their emails in the outbox: neither sends itself.
    assert actions_of("ReminderFunctionRole") == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    }
    assert actions_of("DigestFunctionRole") == {
        "dynamodb:Scan",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    }
    # Erasure deletes mail only under the two prefixes that can hold a case's data.
    [delete] = [s for s in roles["EffectsFunctionRole"] if s["Action"] == "s3:DeleteObject"]
    assert [r["Fn::Sub"] for r in delete["Resource"]] == [
        "${RawMailBucket.Arn}/inbound/*",
        "${RawMailBucket.Arn}/cases/*",
    ]
    # It reads raw emails only to attach unreadable files to the coordinators' copy.
    [read] = [s for s in roles["EffectsFunctionRole"] if s["Action"] == "s3:GetObject"]
    assert read["Resource"] == {"Fn::Sub": "${RawMailBucket.Arn}/inbound/*"}


def test_sending_is_limited_to_the_inbox_address(transformed: dict[str, Any]) -> None:
    for role, statements in _function_statements(transformed).items():
        for statement in statements:
            if "ses:SendEmail" in json.dumps(statement["Action"]):
                assert statement["Condition"] == {
                    "StringEquals": {"ses:FromAddress": {"Ref": "InboxAddress"}}
                }, role


def test_the_effects_function_only_sees_outbox_inserts(transformed: dict[str, Any]) -> None:
    [mapping] = [
        r["Properties"]
        for r in transformed["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
        and "StreamArn" in json.dumps(r["Properties"]["EventSourceArn"])
    ]
    pattern = json.loads(mapping["FilterCriteria"]["Filters"][0]["Pattern"])
    assert pattern == {
        "eventName": ["INSERT"],
        "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "OUTBOX#"}]}}},
    }
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "OnFailure" in mapping["DestinationConfig"]


def test_the_intake_reports_partial_batch_failures(transformed: dict[str, Any]) -> None:
    [mapping] = [
        r["Properties"]
        for r in transformed["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
        and "IntakeQueue" in json.dumps(r["Properties"]["EventSourceArn"])
    ]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_scheduler_role_only_invokes_the_scheduled_functions(
    resources: dict[str, Any],
) -> None:
    role = resources["SchedulerRole"]["Properties"]
    statements = {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}
    assert statements["Invoke"]["Action"] == "lambda:InvokeFunction"
    assert statements["Invoke"]["Resource"] == [
        {"Fn::GetAtt": ["ReminderFunction", "Arn"]},
        {"Fn::GetAtt": ["DigestFunction", "Arn"]},
    ]
    assert statements["ParkUndeliveredEvents"]["Resource"] == {"Fn::GetAtt": ["ScheduleDLQ", "Arn"]}
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]


def test_the_panel_pack_runs_on_its_cron_with_retries_and_a_dead_letter_queue(
    resources: dict[str, Any],
) -> None:
    timer = resources["PanelPackTimer"]["Properties"]
    assert timer["ScheduleExpression"] == {"Ref": "PanelPackSchedule"}
    assert timer["ScheduleExpressionTimezone"] == "Europe/London"
    assert timer["Target"]["Arn"] == {"Fn::GetAtt": ["DigestFunction", "Arn"]}
    assert timer["Target"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["ScheduleDLQ", "Arn"]}}


def test_the_whole_stack_creates_in_local_aws(stack: LocalStack, template: dict[str, Any]) -> None:
    """Every resource of the template exists in the embedded stack (by CloudFormation or API)."""
    expected = {
        name
        for name, resource in template["Resources"].items()
        if resource["Type"]
        not in {
            "AWS::SNS::Subscription",
            "AWS::SES::ReceiptRule",
            "AWS::S3::BucketPolicy",
            "AWS::SQS::QueuePolicy",
            "AWS::CloudWatch::Alarm",
        }
        and "Condition" not in resource
    }
    created = set(stack.resources)
    # SAM names a layer version by its logical id plus a content hash.
    missing = {
        name for name in expected if not any(c == name or c.startswith(name) for c in created)
    }
    assert missing == set()
    ses = stack.client("ses")
    rule_set = ses.describe_receipt_rule_set(RuleSetName=stack.resources["ReceiptRuleSet"])
    [rule] = rule_set["Rules"]
    assert rule["TlsPolicy"] == "Require" and rule["ScanEnabled"] is True
    alarms = stack.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert {alarm["AlarmName"] for alarm in alarms} >= {
        "IntakeDLQAlarm",
        "EffectsDLQAlarm",
        "ScheduleDLQAlarm",
        "IntakeErrorsAlarm",
        "ReminderErrorsAlarm",
        "DigestErrorsAlarm",
    }
    identity_key = stack.client("kms").describe_key(KeyId=stack.resources["IdentityKey"])[
        "KeyMetadata"
    ]
    assert identity_key["KeySpec"] == "HMAC_256"
