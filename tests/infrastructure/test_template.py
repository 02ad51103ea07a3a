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
    assert parameters["OutboxSweepAfterMinutes"]["Default"] == defaults.outbox_sweep_after_minutes
    assert parameters["OutboxSweepAfterMinutes"]["MinValue"] == 5
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


def _metric_alarms(resources: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(metric name, what its dimensions name) -> the alarm's properties."""
    found = {}
    for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        if "MetricName" in properties:
            found[(properties["MetricName"], json.dumps(properties["Dimensions"]))] = properties
    return found


def _alarm_on(resources: dict[str, Any], metric: str, subject: str) -> dict[str, Any]:
    [alarm] = [
        properties
        for (name, dimensions), properties in _metric_alarms(resources).items()
        if name == metric and subject in dimensions
    ]
    return alarm


def test_every_dead_letter_queue_and_function_has_an_alarm(resources: dict[str, Any]) -> None:
    for queue in ("IntakeDLQ", "EffectsDLQ", "ScheduleDLQ"):
        assert _alarm_on(resources, "ApproximateNumberOfMessagesVisible", queue)["Threshold"] == 0
    for function in of_type(resources, "AWS::Serverless::Function"):
        assert _alarm_on(resources, "Errors", function)["Threshold"] == 0
        throttles = _alarm_on(resources, "Throttles", function)
        assert (throttles["Threshold"], throttles["ComparisonOperator"]) == (
            0,
            "GreaterThanThreshold",
        )
    # Every alarm tells the ops topic when it fires and when it clears.
    for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "OpsTopic"}]
        assert alarm["Properties"]["OKActions"] == [{"Ref": "OpsTopic"}]


OPS_COMMANDS = (
    "dsr-intake ops status",
    "dsr-intake ops redrive intake",
    "dsr-intake ops redrive schedule",
    "dsr-intake ops reprocess MESSAGE_ID",
    "dsr-intake ops deliver-outbox",
    "dsr-intake ops reconcile",
)


def test_every_alarm_description_is_a_runbook_line(resources: dict[str, Any]) -> None:
    for name, alarm in of_type(resources, "AWS::CloudWatch::Alarm").items():
        description = alarm["Properties"]["AlarmDescription"]
        assert "\n" not in description and len(description) <= 200, name
        assert any(f"`{command}`" in description for command in OPS_COMMANDS), name


def test_the_pipeline_is_alarmed_when_it_stalls(resources: dict[str, Any]) -> None:
    oldest = _alarm_on(resources, "ApproximateAgeOfOldestMessage", "IntakeQueue")
    assert (oldest["Threshold"], oldest["ComparisonOperator"]) == (900, "GreaterThanThreshold")
    iterator = _alarm_on(resources, "IteratorAge", "EffectsFunction")
    assert iterator["Namespace"] == "AWS/Lambda" and iterator["Threshold"] == 900000
    quiet = _alarm_on(resources, "NumberOfMessagesSent", "IntakeQueue")
    assert quiet["Period"] == 86400 and quiet["Statistic"] == "Sum"
    assert quiet["EvaluationPeriods"] == {"Ref": "NoInboundMailAlarmDays"}
    assert (quiet["Threshold"], quiet["ComparisonOperator"]) == (1, "LessThanThreshold")
    assert quiet["TreatMissingData"] == "breaching"


def test_the_functions_own_metrics_are_alarmed(resources: dict[str, Any]) -> None:
    """Custom metrics as Powertools Metrics publishes them: namespace DSRIntake, the default
    dimension `service` set to the function's service name."""
    outbox = _alarm_on(resources, "OldestUndeliveredOutboxSeconds", "dsr-sweeper")
    assert outbox["Namespace"] == "DSRIntake"
    assert outbox["Dimensions"] == [{"Name": "service", "Value": "dsr-sweeper"}]
    assert (outbox["Threshold"], outbox["ComparisonOperator"]) == (3600, "GreaterThanThreshold")
    # No value at all means the sweeper is not running: that is alarming too.
    assert outbox["TreatMissingData"] == "breaching"
    repaired = _alarm_on(resources, "SchedulesRepaired", "dsr-reconcile")
    assert repaired["Namespace"] == "DSRIntake" and repaired["Threshold"] == 0
    uncertain = resources["EmailsUncertainAlarm"]["Properties"]
    stats = {
        query["Id"]: query["MetricStat"]["Metric"]
        for query in uncertain["Metrics"]
        if "MetricStat" in query
    }
    assert {(m["Namespace"], m["MetricName"]) for m in stats.values()} == {
        ("DSRIntake", "EmailsUncertain")
    }
    assert {m["Dimensions"][0]["Value"] for m in stats.values()} == {"dsr-effects", "dsr-sweeper"}
    assert (uncertain["Threshold"], uncertain["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    # The services named are the ones the functions publish under.
    functions = of_type(resources, "AWS::Serverless::Function")
    services = {
        f["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for f in functions.values()
    }
    assert {"dsr-sweeper", "dsr-reconcile", "dsr-effects"} <= services


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


# Actions IAM authorises on no resource type: granted on "*" or not at all.
UNSCOPABLE_ACTIONS = {"scheduler:ListSchedules", "dynamodb:ListStreams"}


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def test_function_roles_have_least_privilege(transformed: dict[str, Any]) -> None:
    roles = _function_statements(transformed)
    assert set(roles) == {
        "IntakeFunctionRole",
        "EffectsFunctionRole",
        "OutboxSweeperFunctionRole",
        "ReminderFunctionRole",
        "DigestFunctionRole",
        "ReconcileFunctionRole",
        "MailEventsFunctionRole",
        "MailboxFunctionRole",
        "ConsoleFunctionRole",
    }
    for role, statements in roles.items():
        for statement in statements:
            assert statement["Effect"] == "Allow", (role, statement)
            actions = _actions(statement)
            assert all("*" not in action for action in actions), (role, actions)
            if statement["Resource"] == "*":
                assert set(actions) <= UNSCOPABLE_ACTIONS, (role, statement)
            if "iam:PassRole" in actions:
                assert statement["Resource"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
                assert statement["Condition"] == {
                    "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
                }
        # SAM's one managed policy is AWSLambdaBasicExecutionRole: CloudWatch Logs only.
        properties = transformed["Resources"][role]["Properties"]
        assert properties.get("ManagedPolicyArns", []) == [
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        ], role
    # Powertools Metrics writes metrics into the logs (EMF): no function calls the API.
    assert not any("cloudwatch:PutMetricData" in _actions(s) for st in roles.values() for s in st)
    intake_actions = {a for s in roles["IntakeFunctionRole"] for a in _actions(s)}
    # The intake decides and records; only the effects function sends or schedules.
    assert intake_actions == {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
        "s3:GetObject",
        "s3:ListBucket",
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
    # The reminder moves its case's schedule on itself.
    assert actions_of("ReminderFunctionRole") == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:GetSchedule",
        "scheduler:DeleteSchedule",
        "iam:PassRole",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "sqs:SendMessage",
    }
    assert actions_of("DigestFunctionRole") == {
        "dynamodb:Scan",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "sqs:SendMessage",
    }
    # DeleteItem: a retention erasure deletes the person lookup, in its transaction.
    assert actions_of("ReconcileFunctionRole") == {
        "dynamodb:Scan",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:GetSchedule",
        "scheduler:DeleteSchedule",
        "scheduler:ListSchedules",
        "iam:PassRole",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "sqs:SendMessage",
    }
    # The console reads the register and records its actions as the intake records an email
    # (one transaction, the triage mark updated; no stream, no sending - effects send);
    # it reads original emails and erases a dismissed one, under inbound/ only.
    assert actions_of("ConsoleFunctionRole") == {
        "dynamodb:Scan",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:ListBucket",
        "kms:Decrypt",
        "kms:GenerateMac",
        "secretsmanager:GetSecretValue",
    }
    console = {s["Sid"]: s for s in roles["ConsoleFunctionRole"]}
    # Its one update (register_table's triage resolve: REMOVE the triage attributes of an
    # email's outcome, a hold or a report) is allowed by one statement, held to those.
    [update] = [s for s in roles["ConsoleFunctionRole"] if "dynamodb:UpdateItem" in _actions(s)]
    assert _actions(update) == ["dynamodb:UpdateItem"]
    triage = ["triage_queue", "triage_since", "triage_kind"]
    assert update["Condition"] == {
        "ForAllValues:StringEquals": {"dynamodb:Attributes": ["PK", "SK", *triage]},
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["SUBMISSION#*", "HOLD#*", "EVENT#*"]},
    }
    # It reads what the data key protects (the table's key, mail, the CSRF secret); it
    # writes nothing DynamoDB does not encrypt itself, so no GenerateDataKey.
    assert _actions(console["UseDataKey"]) == ["kms:Decrypt"]
    assert console["ReadAndEraseInboundMail"]["Resource"] == {
        "Fn::Sub": "${RawMailBucket.Arn}/inbound/*"
    }
    assert console["ReadAndRecordTheRegister"]["Resource"] == {
        "Fn::GetAtt": ["RegisterTable", "Arn"]
    }
    assert not actions_of("ConsoleFunctionRole") & {
        "s3:PutObject",
        "ses:SendEmail",
        "sqs:SendMessage",
        "scheduler:CreateSchedule",
        "kms:Encrypt",
    }
    assert actions_of("MailEventsFunctionRole") == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "sqs:SendMessage",
    }
    # The sweeper delivers outbox items exactly as the effects function does, and finds them
    # by the sparse index (its DLQ is the schedule DLQ, the effects function's the stream's).
    stream = {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    }
    effects_actions = actions_of("EffectsFunctionRole")
    sweeper_actions = actions_of("OutboxSweeperFunctionRole")
    assert sweeper_actions == effects_actions - stream
    [index] = [
        s
        for s in roles["OutboxSweeperFunctionRole"]
        if s["Resource"] == {"Fn::Sub": "${RegisterTable.Arn}/index/OutboxByAge"}
    ]
    assert _actions(index) == ["dynamodb:Query"]
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
    senders = set()
    for role, statements in _function_statements(transformed).items():
        for statement in statements:
            if "ses:SendEmail" in json.dumps(statement["Action"]):
                senders.add(role)
                assert statement["Condition"] == {
                    "StringEquals": {"ses:FromAddress": {"Ref": "InboxAddress"}}
                }, role
                # SES v2 authorises SendEmail on the identity and on the configuration set.
                assert {
                    "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
                    ":configuration-set/${OutboundConfigurationSet}"
                } in statement["Resource"], role
    assert senders == {"EffectsFunctionRole", "OutboxSweeperFunctionRole"}


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


def _function_arn(stage_name_suffix: str) -> dict[str, str]:
    return {
        "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}"
        f":function:dsr-intake-${{StageName}}-{stage_name_suffix}"
    }


def test_the_scheduler_role_only_invokes_the_scheduled_functions(
    resources: dict[str, Any],
) -> None:
    role = resources["SchedulerRole"]["Properties"]
    statements = {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}
    assert statements["Invoke"]["Action"] == "lambda:InvokeFunction"
    assert statements["Invoke"]["Resource"] == [
        _function_arn("reminder"),
        {"Fn::GetAtt": ["DigestFunction", "Arn"]},
        _function_arn("sweeper"),
        _function_arn("reconcile"),
        _function_arn("mailbox"),
    ]
    # The ARNs built by name are the functions' own names.
    for logical_id, suffix in (
        ("ReminderFunction", "reminder"),
        ("OutboxSweeperFunction", "sweeper"),
        ("ReconcileFunction", "reconcile"),
        ("MailboxFunction", "mailbox"),
    ):
        assert resources[logical_id]["Properties"]["FunctionName"] == {
            "Fn::Sub": f"dsr-intake-${{StageName}}-{suffix}"
        }
    assert statements["ParkUndeliveredEvents"]["Resource"] == {"Fn::GetAtt": ["ScheduleDLQ", "Arn"]}
    # Only Scheduler, only for this account and only for this stack's schedule group.
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}"
            ":schedule-group/${ReviewScheduleGroup}"
        },
        {
            "Fn::Sub": "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}"
            ":schedule/${ReviewScheduleGroup}/*"
        },
    ]


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
            "AWS::SES::ConfigurationSetEventDestination",
            "AWS::S3::BucketPolicy",
            "AWS::SQS::QueuePolicy",
            "AWS::SNS::TopicPolicy",
            "AWS::CloudWatch::Alarm",
            # Played by the driver (stack.run_intake, stack.run_effects).
            "AWS::Lambda::EventSourceMapping",
        }
        and "Condition" not in resource
    }
    assert set(stack.event_source_mappings) >= {"IntakeMailSource", "EffectsOutboxSource"}
    created = set(stack.resources)
    # SAM names a layer version by its logical id plus a content hash.
    missing = {
        name for name in expected if not any(c == name or c.startswith(name) for c in created)
    }
    assert missing == set()
    ses = stack.client("ses")
    rule_set = ses.describe_receipt_rule_set(RuleSetName=stack.resources["ReceiptRuleSet"])
    rules = {rule["Name"]: rule for rule in rule_set["Rules"]}
    assert set(rules) == {"dsr-inbox-local", "dsr-smoke-local"}  # the smoke test's too
    for rule in rules.values():
        assert rule["TlsPolicy"] == "Require" and rule["ScanEnabled"] is True
    alarms = stack.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert {alarm["AlarmName"] for alarm in alarms} >= {
        "IntakeDLQAlarm",
        "EffectsDLQAlarm",
        "ScheduleDLQAlarm",
        "IntakeErrorsAlarm",
        "ReminderErrorsAlarm",
        "DigestErrorsAlarm",
        "NoInboundMailAlarm",
        "OldestUndeliveredOutboxAlarm",
        "EmailsUncertainAlarm",
        "SchedulesRepairedAlarm",
    }
    # What moto's CloudFormation skips is made by API from the same template.
    sesv2 = stack.client("sesv2")
    configuration_set = sesv2.get_configuration_set(
        ConfigurationSetName=stack.resources["OutboundConfigurationSet"]
    )
    assert configuration_set["DeliveryOptions"]["TlsPolicy"] == "REQUIRE"
    [destination] = stack.client("ses").describe_configuration_set(
        ConfigurationSetName=stack.resources["OutboundConfigurationSet"],
        ConfigurationSetAttributeNames=["eventDestinations"],
    )["EventDestinations"]
    assert destination["SNSDestination"]["TopicARN"] == stack.resources["MailEventsTopic"]
    for topic in ("OpsTopic", "MailEventsTopic"):
        policy = stack.client("sns").get_topic_attributes(TopicArn=stack.resources[topic])[
            "Attributes"
        ]["Policy"]
        assert "aws:SecureTransport" in policy, topic
    for queue in ("IntakeQueue", "IntakeDLQ", "EffectsDLQ", "ScheduleDLQ"):
        policy = stack.client("sqs").get_queue_attributes(
            QueueUrl=stack.resources[queue], AttributeNames=["Policy"]
        )["Attributes"]["Policy"]
        assert "aws:SecureTransport" in policy, queue
    for function in ("ReminderFunction", "DigestFunction", "OutboxSweeperFunction"):
        config = stack.client("lambda").get_function_event_invoke_config(
            FunctionName=stack.resources[function]
        )
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == stack._attribute(
            "ScheduleDLQ", "Arn"
        )
    identity_key = stack.client("kms").describe_key(KeyId=stack.resources["IdentityKey"])[
        "KeyMetadata"
    ]
    assert identity_key["KeySpec"] == "HMAC_256"


def test_the_lead_address_must_be_given(template: dict[str, Any]) -> None:
    """No default: a real-looking one would send children's details to whoever owns it."""
    assert "Default" not in template["Parameters"]["LeadAddress"]
    assert LOCAL_PARAMETERS["LeadAddress"] == "dsr.lead@nhs.net"


def test_the_inbox_rule_joins_an_existing_rule_set_or_makes_its_own(
    template: dict[str, Any], stack: LocalStack
) -> None:
    resources = template["Resources"]
    assert template["Parameters"]["ExistingReceiptRuleSet"]["Default"] == ""
    # Its own only when it receives with SES at all (the SES way in, or the smoke address):
    # a Graph-only stack makes none, so nobody activates an empty one over the account's.
    assert template["Conditions"]["CreatesReceiptRuleSet"] == {
        "Fn::And": [
            {"Fn::Equals": [{"Ref": "ExistingReceiptRuleSet"}, ""]},
            {"Condition": "UsesSesReceiving"},
        ]
    }
    assert template["Conditions"]["UsesSesReceiving"] == {
        "Fn::Or": [
            {"Fn::Equals": [{"Ref": "InboundRoute"}, "ses"]},
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "SmokeTestAddress"}, ""]}]},
        ]
    }
    assert template["Outputs"]["ReceiptRuleSetName"]["Condition"] == "UsesSesReceiving"
    assert resources["ReceiptRuleSet"]["Condition"] == "CreatesReceiptRuleSet"
    choice = {
        "Fn::If": [
            "CreatesReceiptRuleSet",
            {"Ref": "ReceiptRuleSet"},
            {"Ref": "ExistingReceiptRuleSet"},
        ]
    }
    assert resources["InboxReceiptRule"]["Properties"]["RuleSetName"] == choice
    assert template["Outputs"]["ReceiptRuleSetName"]["Value"] == choice
    # SES may store mail for the rule set the rule is in, whichever that is.
    [ses] = [
        s
        for s in resources["RawMailBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "ses.amazonaws.com"}
    ]
    source = ses["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::If"]
    assert source[0] == "CreatesReceiptRuleSet"
    assert "receipt-rule-set/dsr-intake-${StageName}:" in source[1]["Fn::Sub"]
    assert "receipt-rule-set/${ExistingReceiptRuleSet}:" in source[2]["Fn::Sub"]
    # The local stack resolves the choice as CloudFormation would, both ways.
    joining = LocalStack({"ExistingReceiptRuleSet": "area-inbound"})
    joining.template = stack.template
    assert joining._holds("CreatesReceiptRuleSet") is False
    assert joining._exists(stack.template["Resources"]["ReceiptRuleSet"]) is False
    assert joining._resolve(choice) == "area-inbound"
    assert stack._holds("CreatesReceiptRuleSet") is True


def test_outbound_mail_requires_tls_and_reports_what_went_wrong(
    resources: dict[str, Any],
) -> None:
    configuration_set = resources["OutboundConfigurationSet"]["Properties"]
    assert configuration_set["DeliveryOptions"] == {"TlsPolicy": "REQUIRE"}
    assert configuration_set["ReputationOptions"] == {"ReputationMetricsEnabled": True}
    assert configuration_set["SendingOptions"] == {"SendingEnabled": True}
    destination = resources["OutboundMailEvents"]["Properties"]
    assert destination["ConfigurationSetName"] == {"Ref": "OutboundConfigurationSet"}
    events = destination["EventDestination"]
    assert set(events["MatchingEventTypes"]) == {"bounce", "complaint", "reject", "deliveryDelay"}
    assert events["SnsDestination"] == {"TopicARN": {"Ref": "MailEventsTopic"}}
    assert resources["MailEventsTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "DataKey"}
    statements = resources["MailEventsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    [ses] = [s for s in statements if s["Effect"] == "Allow"]
    assert ses["Principal"] == {"Service": "ses.amazonaws.com"} and ses["Action"] == "sns:Publish"
    assert ses["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert "configuration-set/${OutboundConfigurationSet}" in json.dumps(
        ses["Condition"]["ArnLike"]["aws:SourceArn"]
    )
    # SES may use the data key to publish to the encrypted topic.
    key_statements = resources["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    [publish] = [s for s in key_statements if s["Sid"] == "SesPublishesMailEvents"]
    assert "kms:GenerateDataKey*" in publish["Action"] and "kms:Decrypt" in publish["Action"]
    # The functions that send name the configuration set.
    for function in ("EffectsFunction", "OutboxSweeperFunction"):
        variables = resources[function]["Properties"]["Environment"]["Variables"]
        assert variables["DSR_CONFIGURATION_SET"] == {"Ref": "OutboundConfigurationSet"}


def test_mail_events_reach_their_function(
    resources: dict[str, Any], transformed: dict[str, Any]
) -> None:
    function = resources["MailEventsFunction"]["Properties"]
    assert function["CodeUri"] == "functions/mail_events/"
    assert function["Handler"] == "app.lambda_handler"
    [event] = function["Events"].values()
    assert event == {"Type": "SNS", "Properties": {"Topic": {"Ref": "MailEventsTopic"}}}
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "MailEventsLogGroup"}}
    [subscription] = [
        r["Properties"]
        for r in transformed["Resources"].values()
        if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["Protocol"] == "lambda"
    ]
    assert subscription["TopicArn"] == {"Ref": "MailEventsTopic"}


def test_the_sweeper_and_reconcile_run_on_their_timers(resources: dict[str, Any]) -> None:
    expected = {
        "OutboxSweeperTimer": ("OutboxSweeperFunction", "rate(5 minutes)", None),
        "ReconcileTimer": ("ReconcileFunction", "cron(0 6 * * ? *)", "Europe/London"),
    }
    for timer, (function, expression, zone) in expected.items():
        properties = resources[timer]["Properties"]
        assert properties["GroupName"] == {"Ref": "ReviewScheduleGroup"}
        assert properties["ScheduleExpression"] == expression
        assert properties.get("ScheduleExpressionTimezone") == zone
        target = properties["Target"]
        assert target["Arn"] == {"Fn::GetAtt": [function, "Arn"]}
        assert target["RoleArn"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["ScheduleDLQ", "Arn"]}}
        # Not "{}", which in the schedule DLQ is the panel pack's event.
        assert json.loads(target["Input"]) != {}
    for function, code in (
        ("OutboxSweeperFunction", "functions/sweeper/"),
        ("ReconcileFunction", "functions/reconcile/"),
    ):
        properties = resources[function]["Properties"]
        assert (properties["CodeUri"], properties["Handler"]) == (code, "app.lambda_handler")
    assert resources["OutboxSweeperTimer"]["Properties"]["Target"]["Arn"]
    parameter = load_template()["Parameters"]["OutboxSweepAfterMinutes"]
    assert (parameter["Type"], parameter["Default"], parameter["MinValue"]) == ("Number", 15, 5)


def test_functions_that_move_schedules_are_told_how(resources: dict[str, Any]) -> None:
    reminder_arn = {
        "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}"
        ":function:dsr-intake-${StageName}-reminder"
    }
    for function in (
        "EffectsFunction",
        "OutboxSweeperFunction",
        "ReminderFunction",
        "ReconcileFunction",
    ):
        variables = resources[function]["Properties"]["Environment"]["Variables"]
        assert variables["DSR_SCHEDULER_ROLE_ARN"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
        assert variables["DSR_REMINDER_DLQ_ARN"] == {"Fn::GetAtt": ["ScheduleDLQ", "Arn"]}
        assert variables["DSR_REMINDER_FUNCTION_ARN"] in (
            reminder_arn,
            {"Fn::GetAtt": ["ReminderFunction", "Arn"]},
        )
    # The reminder cannot !GetAtt its own Arn: its ARN is built from its explicit name.
    reminder = resources["ReminderFunction"]["Properties"]
    assert reminder["Environment"]["Variables"]["DSR_REMINDER_FUNCTION_ARN"] == reminder_arn


def test_the_reminders_own_arn_resolves_locally(stack: LocalStack) -> None:
    functions = stack.client("lambda")
    reminder = functions.get_function_configuration(
        FunctionName=stack.resources["ReminderFunction"]
    )
    assert (
        reminder["Environment"]["Variables"]["DSR_REMINDER_FUNCTION_ARN"]
        == (reminder["FunctionArn"])
    )


def test_the_outbox_index_is_sparse_and_keys_only(resources: dict[str, Any]) -> None:
    table = resources["RegisterTable"]["Properties"]
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"OutboxByAge", "ClosedByDay", "TriageQueue"}
    index = indexes["OutboxByAge"]
    assert index["KeySchema"] == [
        {"AttributeName": "outbox_queue", "KeyType": "HASH"},
        {"AttributeName": "outbox_since", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert types["outbox_queue"] == types["outbox_since"] == "S"



def test_the_triage_index_is_sparse_and_only_the_console_reads_it(
    resources: dict[str, Any],
) -> None:
    table = resources["RegisterTable"]["Properties"]
    [index] = [i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == "TriageQueue"]
    assert index["KeySchema"] == [
        {"AttributeName": "triage_queue", "KeyType": "HASH"},
        {"AttributeName": "triage_since", "KeyType": "RANGE"},
    ]
    # Keys and why an item waits: no personal data in the index.
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["triage_kind"]}
    console = resources["ConsoleFunction"]["Properties"]["Policies"][0]["Statement"]
    [query] = [s for s in console if s["Sid"] == "ReadTheTriageQueue"]
    assert query["Action"] == "dynamodb:Query"
    assert query["Resource"] == {"Fn::Sub": "${RegisterTable.Arn}/index/TriageQueue"}
    [update] = [s for s in console if s["Sid"] == "TakeOutOfTriage"]
    allowed = update["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"]
    assert set(allowed) == {"PK", "SK", "triage_queue", "triage_since", "triage_kind"}
    parameter = load_template()["Parameters"]["SelfReferrals"]
    assert parameter["Default"] == "verify" and parameter["AllowedValues"] == ["verify", "quarantine"]


ASYNCHRONOUS_FUNCTIONS = (
    "ReminderFunction",
    "DigestFunction",
    "OutboxSweeperFunction",
    "ReconcileFunction",
    "MailEventsFunction",
)


def test_failed_asynchronous_invocations_are_kept(transformed: dict[str, Any]) -> None:
    """Scheduler (and SNS) invoke asynchronously: after Lambda's retries the event would be
    dropped, so it goes to the schedule DLQ."""
    configs = {
        r["Properties"]["FunctionName"]["Ref"]: r["Properties"]
        for r in transformed["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
    }
    assert set(configs) == set(ASYNCHRONOUS_FUNCTIONS)
    roles = _function_statements(transformed)
    for function, config in configs.items():
        assert config["MaximumRetryAttempts"] == 2
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": ["ScheduleDLQ", "Arn"]
        }
        statements = roles[f"{function}Role"]
        assert any(
            _actions(s) == ["sqs:SendMessage"]
            and s["Resource"] == {"Fn::GetAtt": ["ScheduleDLQ", "Arn"]}
            for s in statements
        ), function
        assert any(
            "kms:GenerateDataKey" in _actions(s)
            and s["Resource"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
            for s in statements
        ), function


def test_every_queue_and_topic_refuses_plain_http(resources: dict[str, Any]) -> None:
    def denies_plain_http(policy: dict[str, Any], arn: Any) -> bool:
        return any(
            s["Effect"] == "Deny"
            and s["Principal"] == "*"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            and s["Resource"] == arn
            for s in policy["PolicyDocument"]["Statement"]
        )

    queue_policies = of_type(resources, "AWS::SQS::QueuePolicy").values()
    for queue in of_type(resources, "AWS::SQS::Queue"):
        assert any(
            p["Properties"]["Queues"] == [{"Ref": queue}]
            and denies_plain_http(p["Properties"], {"Fn::GetAtt": [queue, "Arn"]})
            for p in queue_policies
        ), queue
    topic_policies = of_type(resources, "AWS::SNS::TopicPolicy").values()
    for topic in of_type(resources, "AWS::SNS::Topic"):
        assert resources[topic]["Properties"]["KmsMasterKeyId"] == {"Ref": "DataKey"}
        assert any(
            p["Properties"]["Topics"] == [{"Ref": topic}]
            and denies_plain_http(p["Properties"], {"Ref": topic})
            for p in topic_policies
        ), topic
    # Replacing the ops topic's default policy must still let the alarms publish.
    [alarms] = [
        s
        for s in resources["OpsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    ]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}


def test_the_schedule_group_outlives_the_stack(resources: dict[str, Any]) -> None:
    """Deleting the group would delete every case's reminder with it."""
    group = resources["ReviewScheduleGroup"]
    assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Retain"


def test_a_missing_raw_email_reads_as_not_found(transformed: dict[str, Any]) -> None:
    """Without s3:ListBucket, S3 answers a missing key 403 (AccessDenied), not 404."""
    roles = _function_statements(transformed)
    for role in (
        "IntakeFunctionRole",
        "EffectsFunctionRole",
        "OutboxSweeperFunctionRole",
        "ConsoleFunctionRole",
    ):
        [listing] = [
            s
            for s in roles[role]
            if _actions(s) == ["s3:ListBucket"] and "inbound/*" in json.dumps(s["Condition"])
        ]
        assert listing["Resource"] == {"Fn::GetAtt": ["RawMailBucket", "Arn"]}
        assert listing["Condition"] == {"StringLikeIfExists": {"s3:prefix": "inbound/*"}}


def test_the_graph_route_is_conditional_and_least_privilege(transformed: dict[str, Any]) -> None:
    """InboundRoute graph: the MailboxFunction, its timer, log group and alarms exist, the
    SES inbox receipt rule does not; its role reads the secret, puts under inbound/ and
    touches its one register item only."""
    resources = transformed["Resources"]
    for name in ("MailboxFunction", "MailboxTimer", "MailboxLogGroup", "MailboxErrorsAlarm",
                 "MailboxThrottlesAlarm", "MailboxMessagesSetAsideAlarm"):  # fmt: skip
        assert resources[name]["Condition"] == "ReadsGraphMailbox", name
    assert resources["InboxReceiptRule"]["Condition"] == "ReceivesWithSes"
    assert resources["GraphSecret"]["Condition"] == "UsesGraph"
    assert resources["GraphSecret"]["Properties"]["KmsKeyId"] == {"Ref": "DataKey"}
    statements = {s["Sid"]: s for s in _function_statements(transformed)["MailboxFunctionRole"]}
    assert {sid: sorted(_actions(s)) for sid, s in statements.items()} == {
        "ReadGraphSecret": ["secretsmanager:GetSecretValue"],
        "StoreInboundMail": ["s3:PutObject"],
        "MailboxDeltaLink": ["dynamodb:GetItem", "dynamodb:PutItem"],
        "RecordSetAsideNotices": ["dynamodb:PutItem"],
        "UseDataKey": ["kms:Decrypt", "kms:GenerateDataKey"],
    }
    # A set-aside email's notice only: its event guard and outbox items, and the audit line.
    from shared.set_aside import SET_ASIDE_EVENT_PREFIX

    assert statements["RecordSetAsideNotices"]["Condition"] == {
        "ForAllValues:StringLike": {
            "dynamodb:LeadingKeys": [
                f"EVENT#{SET_ASIDE_EVENT_PREFIX}*",
                f"OUTBOX#{SET_ASIDE_EVENT_PREFIX}*",
                "AUDIT#*",
            ]
        }
    }
    assert statements["StoreInboundMail"]["Resource"] == {
        "Fn::Sub": "${RawMailBucket.Arn}/inbound/*"
    }
    assert statements["MailboxDeltaLink"]["Condition"] == {
        "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["MAILBOX#inbox"]}
    }
    from shared.adapters.register_table.keys import MAILBOX_DELTA_PK

    assert MAILBOX_DELTA_PK == "MAILBOX#inbox"


def test_the_retention_index_is_sparse_and_keys_only(resources: dict[str, Any]) -> None:
    """Closed cases past their retention are found by a query on keys, no personal data."""
    table = resources["RegisterTable"]["Properties"]
    [index] = [i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == "ClosedByDay"]
    assert index["KeySchema"] == [
        {"AttributeName": "retention_queue", "KeyType": "HASH"},
        {"AttributeName": "closed_on", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert types["retention_queue"] == types["closed_on"] == "S"
    # Only the reconciliation queries it.
    queriers = [
        name
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
        and any(
            statement.get("Resource") == {"Fn::Sub": "${RegisterTable.Arn}/index/ClosedByDay"}
            for policy in resource["Properties"].get("Policies", [])
            for statement in policy.get("Statement", [])
        )
    ]
    assert queriers == ["ReconcileFunction"]


def test_the_console_signs_in_with_mfa_and_is_rate_limited(
    resources: dict[str, Any], transformed: dict[str, Any]
) -> None:
    pool = resources["ConsoleUserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert (pool["MfaConfiguration"], pool["EnabledMfas"]) == ("ON", ["SOFTWARE_TOKEN_MFA"])
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 14
    client = resources["ConsoleUserPoolClient"]["Properties"]
    assert client["ExplicitAuthFlows"] == ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert client["AccessTokenValidity"] == {"Ref": "ConsoleIdleMinutes"}
    assert client["TokenValidityUnits"]["AccessToken"] == "minutes"
    groups = {
        r["Properties"]["GroupName"]
        for r in of_type(resources, "AWS::Cognito::UserPoolGroup").values()
    }
    assert groups == {"coordinator", "panel", "admin"}
    [stage] = [
        r["Properties"]
        for r in transformed["Resources"].values()
        if r["Type"] == "AWS::ApiGatewayV2::Stage"
    ]
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    access_log = stage["AccessLogSettings"]["Format"]
    assert "$context.path" in access_log and "querystring" not in access_log.lower()
