"""The embedded local AWS: moto's server in-process, the stack built from `template.yaml`.

The template goes through the SAM transform, then moto's CloudFormation; what moto's
CloudFormation skips (SES receipt rules, the configuration set and its event destination,
the intake domain's identity and the outputs that read its DKIM tokens,
schedule groups and schedules, bucket, queue and topic policies, bucket notifications,
alarms, asynchronous invocation configs) is created here by API from the same template. The
handlers run in-process, driven the way Lambda would drive them: S3 -> SQS -> IntakeFunction
and DynamoDB stream -> EffectsFunction. Time is the stack's own: `advance` moves it forward
and fires what EventBridge Scheduler would have fired (ReminderFunction, DigestFunction), and
expires what DynamoDB's TTL would have removed.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import re
import secrets
import sys
import uuid
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from infrastructure import bounded, console_journal
from infrastructure.local_console_resources import (
    CONSOLE_RESOURCE_TYPES,
    console_environment,
    create_console_resource,
)

if TYPE_CHECKING:
    from infrastructure.local_graph import LocalGraphMailbox

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
REGION = "eu-west-2"
STACK_NAME = "dsr-intake-local"
CODE_BUCKET = "dsr-local-code"

HANDLERS = {
    "IntakeFunction": "intake",
    "EffectsFunction": "effects",
    "ReminderFunction": "reminder",
    "DigestFunction": "digest",
    "OutboxSweeperFunction": "sweeper",
    "ReconcileFunction": "reconcile",
    "MailEventsFunction": "mail_events",
    "MailboxFunction": "mailbox",  # the Graph route only (InboundRoute=graph)
    "ConsoleFunction": "console",  # behind ConsoleApi; locally infrastructure.local_console
}
# Resource types whose attributes moto's CloudFormation cannot give an output.
OUTPUTS_MOTO_CANNOT_RESOLVE = frozenset(
    {"AWS::SES::EmailIdentity", "AWS::ApiGatewayV2::Api", "AWS::Cognito::UserPool"}
)
# Timers `advance` does not fire: here the pipeline always runs to its end, so the sweeper
# and the reconciliation would find nothing (every 5 minutes of a simulated year is 100,000
# firings); `dsr-intake ops deliver-outbox` and `ops reconcile` run them on demand.
# The MailboxFunction's every-2-minutes timer likewise: `run_pipeline` reads the mailbox first.
OPERATIONS_FUNCTIONS = frozenset({"OutboxSweeperFunction", "ReconcileFunction", "MailboxFunction"})
# What `Ref AWS::NoValue` resolves to: the property is dropped, as CloudFormation drops it.
_NO_VALUE = object()

LOCAL_PARAMETERS = {
    "StageName": "local",
    "InboxAddress": "bromley.dsr@nhs.net",
    "LeadAddress": "dsr.lead@nhs.net",
    "CoordinatorAddresses": "dsr.coordinator@nhs.net,dsr.lead@nhs.net",
    # The area's NHSmail shared mailbox, which forwards referrers' emails to the intake.
    "TrustedForwarders": "dsr.mailbox@nhs.net",
    "PanelAddresses": "panel.member@nhs.net",
    # `dsr-intake ops smoke` sends from it; its answers are kept under smoke/.
    "SmokeTestAddress": "dsr.smoke-test@nhs.net",
}


class LocalStackError(Exception):
    """The embedded stack could not be built as asked (e.g. a parameter the template refuses)."""


class _CurrentStdout(io.TextIOBase):
    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@dataclass
class FakeLambdaContext:
    """What Powertools reads of a Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _set_local_credentials() -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }
    )


def _quiet_local_aws() -> None:
    """moto's server logs every request and every resource type it skips; the demo's story
    should not drown in them (the skipped types are created by API below)."""
    import logging

    for name in ("werkzeug", "moto", "botocore.credentials"):
        logging.getLogger(name).setLevel(logging.ERROR)
    logging.getLogger("moto.cloudformation.parsing").setLevel(logging.CRITICAL)
    logging.getLogger("moto.awslambda").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", message="Tried to parse AWS::")
    # A function that published no metric in an invocation: expected, not news.
    warnings.filterwarnings("ignore", message="No application metrics to publish")


def _keep_simple_email_headers() -> None:
    """moto's SESv2 drops the headers of a Simple email; SES sends them. Keep them on the
    message moto records, so `sent_emails()` shows an answer's threading headers however it
    was sent (the smoke test finds its acknowledgement by In-Reply-To)."""
    from moto.ses.models import ses_backends
    from moto.sesv2.responses import SESV2Response

    if getattr(SESV2Response.send_email, "keeps_headers", False):
        return
    drops_headers = SESV2Response.send_email

    def send_email(self: SESV2Response) -> str:
        answer: str = drops_headers(self)
        simple = json.loads(self.body).get("Content", {}).get("Simple", {})
        if simple.get("Headers"):
            message_id = json.loads(answer)["MessageId"]
            backend = ses_backends[self.current_account][self.region]
            for message in backend.sent_messages:
                if message.id == message_id:
                    message.headers = {h["Name"]: h["Value"] for h in simple["Headers"]}
        return answer

    send_email.keeps_headers = True  # type: ignore[attr-defined]
    SESV2Response.send_email = send_email  # type: ignore[method-assign]


def check_parameters(values: dict[str, str], declared: dict[str, Any]) -> None:
    """Refuse parameter values as CloudFormation would: name, type, bounds, pattern, choices."""
    unknown = set(values) - set(declared)
    if unknown:
        raise LocalStackError(f"template.yaml has no parameter {', '.join(sorted(unknown))}")
    for name, value in values.items():
        rules = declared[name]
        if rules["Type"] == "Number":
            try:
                number = float(value)
            except ValueError:
                raise LocalStackError(f"{name} must be a number") from None
            if "MinValue" in rules and number < rules["MinValue"]:
                raise LocalStackError(f"{name} must be at least {rules['MinValue']}")
            if "MaxValue" in rules and number > rules["MaxValue"]:
                raise LocalStackError(f"{name} must be at most {rules['MaxValue']}")
        if "AllowedPattern" in rules and not re.fullmatch(rules["AllowedPattern"], value):
            raise LocalStackError(f"{name} does not match {rules['AllowedPattern']}")
        if "AllowedValues" in rules and value not in [str(v) for v in rules["AllowedValues"]]:
            raise LocalStackError(f"{name} must be one of {rules['AllowedValues']}")
    # CloudFormation cannot compare one parameter with another; the functions' settings do
    # (they refuse to start), and here the command says so before anything is built.
    effective = {
        name: str(values.get(name, rules.get("Default", ""))) for name, rules in declared.items()
    }
    minimum, maximum = effective.get("MinimumAge", "0"), effective.get("MaximumAge", "17")
    if minimum and maximum and float(minimum) > float(maximum):
        raise LocalStackError(
            f"MinimumAge ({minimum}) must not be more than MaximumAge ({maximum})"
        )


def load_template() -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    template: dict[str, Any] = yaml_parse(TEMPLATE.read_text("utf-8"))
    return template


def transformed_template(parameters: dict[str, str], iam: Any, code_uri: str) -> dict[str, Any]:
    """The CloudFormation that `sam deploy` would create, with code pointed at `code_uri`."""
    from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
    from samtranslator.translator.transform import transform

    template = copy.deepcopy(load_template())
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for uri in ("CodeUri", "ContentUri"):
            if uri in properties:
                properties[uri] = code_uri
    result: dict[str, Any] = transform(template, parameters, ManagedPolicyLoader(iam))
    return result


class LocalStack:
    """One embedded stack. Use as a context manager: `with LocalStack() as stack: ...`."""

    def __init__(
        self, parameters: dict[str, str] | None = None, *, echo_logs: bool = False
    ) -> None:
        self.parameters = {**LOCAL_PARAMETERS, **(parameters or {})}
        declared = load_template()["Parameters"]
        check_parameters(self.parameters, declared)
        # Every parameter's value, defaults included, for resolving what is created by API.
        self.parameter_values = {
            name: str(self.parameters.get(name, rules.get("Default", "")))
            for name, rules in declared.items()
        }
        self.echo_logs = echo_logs
        self.graph: LocalGraphMailbox | None = None  # the Graph routes' mailbox, when used
        self.log_lines: list[str] = []
        self.log_limit: int | None = None  # keep only the last lines (`dsr-intake serve`)
        self._clients: dict[str, Any] = {}
        self.server: Any = None
        self.outputs: dict[str, str] = {}
        self.resources: dict[str, str] = {}
        self.environment: dict[str, str] = {}
        self._stream_positions: dict[str, str] = {}  # shard -> last sequence number read
        self.after_firing: Callable[[], object] | None = None  # called after each firing
        # Lambda's event source mappings, played by this class's run_* methods.
        self.event_source_mappings: dict[str, dict[str, Any]] = {}
        self._handlers: dict[str, ModuleType] = {}
        # The stack's clock: real time plus however far `advance` has moved it.
        self.clock_offset = timedelta(0)
        self._fired: set[tuple[str, datetime]] = set()
        self._deferred_outputs: dict[str, Any] = {}

    # ----- lifecycle -----
    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        _set_local_credentials()
        _quiet_local_aws()
        _keep_simple_email_headers()
        bounded.stop_tracking_models()
        bounded.back_up_transactions_by_item()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
        console_journal.install()  # before the handlers make their clients
        if "graph" in (
            self.parameter_values["InboundRoute"],
            self.parameter_values["OutboundRoute"],
        ):
            from infrastructure.local_graph import LocalGraphMailbox

            # Microsoft 365 stands in here: the shared mailbox the Graph routes use (and the
            # smoke test's mailbox, which the application access policy also grants).
            smoke = self.parameter_values.get("SmokeTestMailbox", "")
            self.graph = LocalGraphMailbox(
                self.parameter_values["GraphMailbox"], (smoke,) if smoke else ()
            )
            self.graph.start()
        self._create_stack()
        self._complete_what_cloudformation_skipped()
        self._configure_handlers()

    def stop(self) -> None:
        if self.graph is not None:
            self.graph.stop()
            self.graph = None
        if self.server is not None:
            self.server.stop()
            self.server = None

    def client(self, service: str) -> Any:
        import boto3

        # One client per service: each new one loads its service model again.
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=REGION)
        return self._clients[service]

    # ----- building the stack from template.yaml -----
    def _create_stack(self) -> None:
        s3 = self.client("s3")
        s3.create_bucket(
            Bucket=CODE_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("app.py", "# the local stack runs the handlers in-process\n")
        s3.put_object(Bucket=CODE_BUCKET, Key="code.zip", Body=archive.getvalue())
        cloudformation = self.client("cloudformation")
        template = transformed_template(
            self.parameters, self.client("iam"), f"s3://{CODE_BUCKET}/code.zip"
        )
        # moto refuses an output that reads an attribute of a type it skips (the intake
        # domain's DKIM tokens): those outputs are resolved here once the resource exists.
        lacking = {
            logical_id
            for logical_id, resource in template["Resources"].items()
            if resource["Type"] in OUTPUTS_MOTO_CANNOT_RESOLVE
        }
        self._deferred_outputs = {
            name: template["Outputs"].pop(name)
            for name, output in list(template.get("Outputs", {}).items())
            if any(logical_id in json.dumps(output["Value"]) for logical_id in lacking)
        }
        # moto would run the functions in Docker for these; the driver below plays them instead.
        for logical_id, resource in list(template["Resources"].items()):
            if resource["Type"] == "AWS::Lambda::EventSourceMapping":
                self.event_source_mappings[logical_id] = template["Resources"].pop(logical_id)[
                    "Properties"
                ]
        cloudformation.create_stack(
            StackName=STACK_NAME,
            TemplateBody=json.dumps(template),
            Parameters=[
                {"ParameterKey": k, "ParameterValue": v} for k, v in self.parameters.items()
            ],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        stack = cloudformation.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise LocalStackError(f"local stack did not create: {stack['StackStatus']}")
        self.outputs = {
            output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])
        }
        paginator = cloudformation.get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=STACK_NAME):
            for resource in page["StackResourceSummaries"]:
                if resource.get("LogicalResourceId"):
                    self.resources[resource["LogicalResourceId"]] = resource.get(
                        "PhysicalResourceId", ""
                    )
        self.template = template

    def _resource(self, logical_id: str) -> dict[str, Any]:
        resource: dict[str, Any] = self.template["Resources"][logical_id]
        return resource

    def _resolve(self, value: Any) -> Any:
        """Resolve the few intrinsics the post-create resources use, from the created stack."""
        if isinstance(value, dict) and len(value) == 1:
            ((name, argument),) = value.items()
            if name == "Ref":
                if argument in self.parameter_values:
                    return self.parameter_values[argument]
                return {
                    "AWS::AccountId": "123456789012",
                    "AWS::Region": REGION,
                    "AWS::Partition": "aws",
                    "AWS::StackName": STACK_NAME,
                    "AWS::NoValue": _NO_VALUE,
                }.get(argument, self.resources.get(argument, argument))
            if name == "Fn::If":
                condition, when_true, when_false = argument
                return self._resolve(when_true if self._holds(condition) else when_false)
            if name == "Fn::Equals":
                left, right = (self._resolve(side) for side in argument)
                return str(left) == str(right)
            if name == "Fn::Not":
                return not self._resolve(argument[0])
            if name == "Fn::Or":
                return any(self._resolve(side) for side in argument)
            if name == "Fn::And":
                return all(self._resolve(side) for side in argument)
            if name == "Condition":
                return self._holds(argument)
            if name == "Fn::GetAtt":
                logical_id, attribute = (
                    argument if isinstance(argument, list) else argument.split(".", 1)
                )
                return self._attribute(logical_id, attribute)
            if name == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                return re.sub(
                    r"\$\{([^}]+)\}",
                    lambda m: str(
                        self._resolve(
                            {"Fn::GetAtt": m.group(1).split(".", 1)}
                            if "." in m.group(1)
                            else {"Ref": m.group(1)}
                        )
                    ),
                    text,
                )
        if isinstance(value, dict):
            resolved = {key: self._resolve(inner) for key, inner in value.items()}
            return {key: inner for key, inner in resolved.items() if inner is not _NO_VALUE}
        if isinstance(value, list):
            return [r for r in map(self._resolve, value) if r is not _NO_VALUE]
        return value

    def _holds(self, condition: str) -> bool:
        """A condition of the template's `Conditions`, for the stack's parameter values."""
        return bool(self._resolve(self.template.get("Conditions", {})[condition]))

    def _exists(self, resource: dict[str, Any]) -> bool:
        return "Condition" not in resource or self._holds(resource["Condition"])

    def _attribute(self, logical_id: str, attribute: str) -> str:
        physical = self.resources[logical_id]
        kind = self._resource(logical_id)["Type"]
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{physical}"
        if kind == "AWS::SQS::Queue":
            arn = self.client("sqs").get_queue_attributes(
                QueueUrl=physical, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            return str(arn) if attribute == "Arn" else str(arn).rsplit(":", 1)[-1]
        if kind == "AWS::KMS::Key" and attribute == "Arn":
            return str(self.client("kms").describe_key(KeyId=physical)["KeyMetadata"]["Arn"])
        if kind == "AWS::Lambda::Function" and attribute == "Arn":
            return str(
                self.client("lambda").get_function(FunctionName=physical)["Configuration"][
                    "FunctionArn"
                ]
            )
        if kind == "AWS::Logs::LogGroup" and attribute == "Arn":  # the console's access logs
            return f"arn:aws:logs:{REGION}:123456789012:log-group:{physical}:*"
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            return str(self.client("iam").get_role(RoleName=physical)["Role"]["Arn"])
        dkim = re.fullmatch(r"DkimDNSToken(Name|Value)([123])", attribute)
        if kind == "AWS::SES::EmailIdentity" and dkim:
            # SES's Easy DKIM CNAME <token>._domainkey.<domain> -> <token>.dkim.amazonses.com;
            # moto makes no tokens, so locally they are placeholders.
            found = self.client("sesv2").get_email_identity(EmailIdentity=physical)
            tokens = found.get("DkimAttributes", {}).get("Tokens") or [
                f"local-dkim-token-{n}" for n in (1, 2, 3)
            ]
            token = tokens[int(dkim[2]) - 1]
            if dkim[1] == "Name":
                return f"{token}._domainkey.{physical}"
            return f"{token}.dkim.amazonses.com"
        raise KeyError(f"{logical_id}.{attribute}")

    def _complete_what_cloudformation_skipped(self) -> None:
        """Create by API the resources moto's CloudFormation skips, from their template text."""
        s3, sqs, ses = self.client("s3"), self.client("sqs"), self.client("ses")
        bucket = self.resources["RawMailBucket"]
        kms = self.client("kms")
        for logical_id, resource in self.template["Resources"].items():
            if resource["Type"] == "AWS::KMS::Key":
                # moto's CloudFormation keeps a key policy as a dict, which breaks every KMS
                # call on the key; put it again as the JSON text the API expects.
                policy = self._resolve(resource["Properties"]["KeyPolicy"])
                kms.put_key_policy(
                    KeyId=self.resources[logical_id],
                    PolicyName="default",
                    Policy=json.dumps(policy),
                )
                spec = resource["Properties"].get("KeySpec")
                if (
                    spec
                    and kms.describe_key(KeyId=self.resources[logical_id])["KeyMetadata"]["KeySpec"]
                    != spec
                ):
                    # moto's CloudFormation makes every key symmetric: make the HMAC key by API.
                    key = kms.create_key(
                        KeySpec=spec,
                        KeyUsage=resource["Properties"]["KeyUsage"],
                        Description=resource["Properties"]["Description"],
                        Policy=json.dumps(policy),
                    )
                    self.resources[logical_id] = key["KeyMetadata"]["KeyId"]
        skipped = {
            "AWS::S3::BucketPolicy",
            "AWS::SQS::QueuePolicy",
            "AWS::SNS::TopicPolicy",
            "AWS::SES::ReceiptRuleSet",
            "AWS::SES::ConfigurationSet",
            "AWS::SES::EmailIdentity",
            "AWS::Scheduler::ScheduleGroup",
            "AWS::CloudWatch::Alarm",
            "AWS::Lambda::EventInvokeConfig",
            "AWS::SecretsManager::Secret",
            *CONSOLE_RESOURCE_TYPES,
        }
        # Also skipped, and left out on purpose: AWS::SNS::Subscription (the ops email, and
        # the MailEventsFunction's subscription to MailEventsTopic: moto's SES publishes no
        # bounces or complaints, so the MailEventsFunction is invoked directly).
        for logical_id, resource in self.template["Resources"].items():
            kind = resource["Type"]
            if kind not in skipped or not self._exists(resource):
                continue
            properties = self._resolve(resource.get("Properties", {}))
            if kind == "AWS::S3::BucketPolicy":
                # moto applies a bucket policy's Deny without reading its condition, and its
                # endpoint is plain HTTP: the TLS-only statement would deny everything here.
                document = properties["PolicyDocument"]
                document["Statement"] = [
                    statement
                    for statement in document["Statement"]
                    if "aws:SecureTransport" not in json.dumps(statement.get("Condition", {}))
                ]
                s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))
            elif kind == "AWS::SQS::QueuePolicy":
                for queue_url in properties["Queues"]:
                    sqs.set_queue_attributes(
                        QueueUrl=queue_url,
                        Attributes={"Policy": json.dumps(properties["PolicyDocument"])},
                    )
            elif kind == "AWS::SNS::TopicPolicy":
                for topic_arn in properties["Topics"]:
                    self.client("sns").set_topic_attributes(
                        TopicArn=topic_arn,
                        AttributeName="Policy",
                        AttributeValue=json.dumps(properties["PolicyDocument"]),
                    )
            elif kind == "AWS::SES::ConfigurationSet":
                self.client("sesv2").create_configuration_set(
                    ConfigurationSetName=properties["Name"],
                    DeliveryOptions=properties.get("DeliveryOptions", {}),
                    ReputationOptions=properties.get("ReputationOptions", {}),
                    SendingOptions=properties.get("SendingOptions", {}),
                )
                self.resources[logical_id] = properties["Name"]
            elif kind == "AWS::SES::EmailIdentity":
                self._create_email_identity(logical_id, properties)
            elif kind in CONSOLE_RESOURCE_TYPES:
                self.resources[logical_id] = create_console_resource(self, kind, properties)
            elif kind == "AWS::SecretsManager::Secret":
                # The admin's step after a deploy: the app registration's values (here the
                # local mailbox's) go in the secret.
                secret = self.client("secretsmanager").create_secret(
                    Name=properties.get("Name", f"{STACK_NAME}-{logical_id}"),
                    Description=properties["Description"],
                    KmsKeyId=properties["KmsKeyId"],
                    SecretString=json.dumps(self.graph.credentials)
                    if self.graph is not None and logical_id == "GraphSecret"
                    # GenerateSecretString (the console's CSRF key): random, as AWS makes it.
                    else properties.get("SecretString") or secrets.token_urlsafe(48),
                )
                self.resources[logical_id] = secret["ARN"]
            elif kind == "AWS::Lambda::EventInvokeConfig":
                self.client("lambda").put_function_event_invoke_config(
                    FunctionName=properties["FunctionName"],
                    MaximumRetryAttempts=properties["MaximumRetryAttempts"],
                    DestinationConfig=properties.get("DestinationConfig", {}),
                )
            elif kind == "AWS::SES::ReceiptRuleSet":
                ses.create_receipt_rule_set(RuleSetName=properties["RuleSetName"])
                self.resources[logical_id] = properties["RuleSetName"]
            elif kind == "AWS::Scheduler::ScheduleGroup":
                # moto's scheduler raises a bare KeyError for a group that does not exist.
                self.client("scheduler").create_schedule_group(Name=properties["Name"])
                self.resources[logical_id] = properties["Name"]
            elif kind == "AWS::CloudWatch::Alarm":
                # A number taken from a parameter (NoInboundMailAlarmDays) resolves as text.
                for number in ("EvaluationPeriods", "DatapointsToAlarm", "Period"):
                    if number in properties:
                        properties[number] = int(properties[number])
                self.client("cloudwatch").put_metric_alarm(AlarmName=logical_id, **properties)
        for logical_id, resource in self.template["Resources"].items():
            if resource["Type"] == "AWS::Scheduler::Schedule" and self._exists(resource):
                properties = self._resolve(resource["Properties"])
                self.client("scheduler").create_schedule(**properties)
                self.resources[logical_id] = properties["Name"]
        for resource in self.template["Resources"].values():
            if resource["Type"] == "AWS::SES::ConfigurationSetEventDestination":
                properties = self._resolve(resource["Properties"])
                destination = dict(properties["EventDestination"])
                destination["SNSDestination"] = destination.pop("SnsDestination")
                ses.create_configuration_set_event_destination(
                    ConfigurationSetName=properties["ConfigurationSetName"],
                    EventDestination=destination,
                )
        rule_sets = {s["Name"] for s in ses.list_receipt_rule_sets().get("RuleSets", [])}
        for logical_id, resource in self.template["Resources"].items():
            if resource["Type"] == "AWS::SES::ReceiptRule" and self._exists(resource):
                properties = self._resolve(resource["Properties"])
                if properties["RuleSetName"] not in rule_sets:
                    # ExistingReceiptRuleSet: the account's active rule set, which the stack
                    # joins. A fresh local account has none, so it is made here first.
                    ses.create_receipt_rule_set(RuleSetName=properties["RuleSetName"])
                    rule_sets.add(properties["RuleSetName"])
                ses.create_receipt_rule(
                    RuleSetName=properties["RuleSetName"],
                    Rule=properties["Rule"],
                    **({"After": properties["After"]} if "After" in properties else {}),
                )
                self.resources[logical_id] = properties["Rule"]["Name"]  # what its Ref gives
        for name, output in self._deferred_outputs.items():
            if "Condition" not in output or self._holds(output["Condition"]):
                self.outputs[name] = str(self._resolve(output["Value"]))
        notification = self._resolve(
            self._resource("RawMailBucket")["Properties"]["NotificationConfiguration"]
        )
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": config["Queue"],
                        "Events": [config["Event"]],
                        "Filter": {"Key": {"FilterRules": config["Filter"]["S3Key"]["Rules"]}},
                    }
                    for config in notification["QueueConfigurations"]
                ]
            },
        )
        inbox = self.parameters["InboxAddress"]
        made = {
            i["IdentityName"]
            for i in self.client("sesv2").list_email_identities()["EmailIdentities"]
        }
        for identity in {inbox.split("@", 1)[1], inbox} - made:
            self.client("sesv2").create_email_identity(EmailIdentity=identity)

    def _create_email_identity(self, logical_id: str, properties: dict[str, Any]) -> None:
        """The intake domain's SES identity (AWS::SES::EmailIdentity), with its MAIL FROM."""
        identity = properties["EmailIdentity"]
        self.client("sesv2").create_email_identity(
            EmailIdentity=identity,
            DkimSigningAttributes=properties.get("DkimSigningAttributes", {}),
        )
        mail_from = properties.get("MailFromAttributes")
        if mail_from:
            # moto's SESv2 has no PutEmailIdentityMailFromAttributes; SES v1's is the same setting.
            behaviour = {"REJECT_MESSAGE": "RejectMessage", "USE_DEFAULT_VALUE": "UseDefaultValue"}
            self.client("ses").set_identity_mail_from_domain(
                Identity=identity,
                MailFromDomain=mail_from["MailFromDomain"],
                BehaviorOnMXFailure=behaviour[
                    mail_from.get("BehaviorOnMxFailure", "USE_DEFAULT_VALUE")
                ],
            )
        self.resources[logical_id] = identity

    def _configure_handlers(self) -> None:
        """Give the in-process handlers the environment Lambda would give them."""
        functions = self.client("lambda")
        for logical_id in HANDLERS:
            if logical_id not in self.resources:
                continue  # tests/infrastructure checks the template has every handler
            configuration = functions.get_function_configuration(
                FunctionName=self.resources[logical_id]
            )
            variables = configuration.get("Environment", {}).get("Variables", {})
            self.environment.update({name: str(value) for name, value in variables.items()})
        # moto's CloudFormation does not resolve every attribute the template hands over.
        self.environment["DSR_SCHEDULE_GROUP"] = self.resources["ReviewScheduleGroup"]
        self.environment["DSR_IDENTITY_KEY_ID"] = self.resources["IdentityKey"]
        self.environment["DSR_REMINDER_DLQ_ARN"] = self._attribute("ScheduleDLQ", "Arn")
        self.environment["DSR_CONFIGURATION_SET"] = self.resources["OutboundConfigurationSet"]
        self.environment.update(console_environment(self))
        if self.graph is not None:
            self.environment["DSR_GRAPH_API_URL"] = self.graph.api_url
            self.environment["DSR_GRAPH_LOGIN_URL"] = self.graph.url
            self.environment["DSR_GRAPH_SECRET_ARN"] = self.resources["GraphSecret"]
        os.environ.update(self.environment)
        os.environ["POWERTOOLS_METRICS_NAMESPACE"] = "DSRIntake"

    # ----- driving the handlers as Lambda would -----
    def handler(self, name: str) -> ModuleType:
        if name not in self._handlers:
            import importlib

            module = importlib.import_module(f"functions.{name}.app")
            # Powertools' Logger keeps the stream it was given; point it at whatever stdout is
            # during an invocation, so `invoke` captures log lines like CloudWatch would.
            module.logger.registered_handler.setStream(_CurrentStdout())
            self._handlers[name] = module
        return self._handlers[name]

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0) + self.clock_offset

    def invoke(
        self, name: str, event: dict[str, Any], at: datetime | None = None
    ) -> dict[str, Any]:
        """Call a handler in-process as Lambda would, at the stack's time (or `at`); its log
        lines go to `self.log_lines`."""
        from shared.clock import CLOCK

        captured = io.StringIO()
        CLOCK.pin(at or self.now())
        try:
            with contextlib.redirect_stdout(captured):
                response: dict[str, Any] = self.handler(name).lambda_handler(
                    event, FakeLambdaContext(name)
                )
        finally:
            CLOCK.pin(None)
        lines = [line for line in captured.getvalue().splitlines() if line.strip()]
        self.log_lines += lines
        if self.log_limit is not None:
            del self.log_lines[: -self.log_limit or None]
        if self.echo_logs:
            for line in lines:
                print(line, file=sys.stderr)
        return response

    def deliver_email(self, raw: bytes, message_id: str | None = None) -> str:
        """Store raw MIME as the SES S3 action does; returns the SES message id."""
        message_id = message_id or uuid.uuid4().hex
        self.client("s3").put_object(
            Bucket=self.resources["RawMailBucket"], Key=f"inbound/{message_id}", Body=raw
        )
        return message_id

    def run_intake(self) -> list[dict[str, Any]]:
        """Poll the intake queue and invoke the IntakeFunction as the SQS event source would.

        Returns the batch item failures (left on the queue for redelivery, as in Lambda).
        """
        sqs = self.client("sqs")
        queue_url = self.resources["IntakeQueue"]
        queue_arn = self._attribute("IntakeQueue", "Arn")
        failures: list[dict[str, Any]] = []
        while True:
            messages = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                AttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                return failures
            event = {
                "Records": [
                    {
                        "messageId": message["MessageId"],
                        "receiptHandle": message["ReceiptHandle"],
                        "body": message["Body"],
                        "attributes": message.get("Attributes", {}),
                        "messageAttributes": {},
                        "md5OfBody": message["MD5OfBody"],
                        "eventSource": "aws:sqs",
                        "eventSourceARN": queue_arn,
                        "awsRegion": REGION,
                    }
                    for message in messages
                ]
            }
            response = self.invoke("intake", event)
            failed = {
                failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])
            }
            failures += response.get("batchItemFailures", [])
            for message in messages:
                if message["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            if failed:
                return failures

    def run_effects(self) -> list[dict[str, Any]]:
        """Read the register's stream and invoke the EffectsFunction with the outbox inserts,
        applying the same filter as the template's event source mapping."""
        streams = self.client("dynamodbstreams")
        stream_arn = self.client("dynamodb").describe_table(
            TableName=self.resources["RegisterTable"]
        )["Table"]["LatestStreamArn"]
        failures: list[dict[str, Any]] = []
        shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            # Read on from the last record handed over (a stored iterator goes stale in moto).
            last = self._stream_positions.get(shard_id)
            iterator = streams.get_shard_iterator(
                StreamArn=stream_arn,
                ShardId=shard_id,
                **(
                    {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
                    if last
                    else {"ShardIteratorType": "TRIM_HORIZON"}
                ),
            )["ShardIterator"]
            while iterator:
                page = streams.get_records(ShardIterator=iterator, Limit=100)
                if not page["Records"]:
                    break
                records = [r for r in page["Records"] if _is_outbox_insert(r)]
                if records:
                    event = {"Records": [_stream_record(r, stream_arn) for r in records]}
                    response = self.invoke("effects", event)
                    failures += response.get("batchItemFailures", [])
                self._stream_positions[shard_id] = page["Records"][-1]["dynamodb"]["SequenceNumber"]
                iterator = page.get("NextShardIterator")
            bounded.trim_stream(
                REGION, self.resources["RegisterTable"], self._stream_positions.get(shard_id)
            )
        return failures

    def run_pipeline(self) -> None:
        """Drive everything that is waiting until nothing is left to do."""
        if "MailboxFunction" in self.resources:
            self.invoke("mailbox", {"timer": "mailbox"})  # what its timer would have done
        intake_failures = self.run_intake()
        effect_failures = self.run_effects()
        if intake_failures or effect_failures:
            raise RuntimeError(
                f"local pipeline left failures: intake {len(intake_failures)}, effects {len(effect_failures)}"
            )

    # ----- time: what Scheduler and DynamoDB TTL would have done -----
    def advance(self, days: float) -> list[Firing]:
        """Move the stack's clock forward, firing every schedule that falls due on the way (in
        time order, each at its own moment, its effects delivered before the next)."""
        start = self.now()
        until = start + timedelta(days=days)
        firings = []
        # Only moments after `start` can fire again: forget the ones before.
        self._fired = {fired for fired in self._fired if fired[1] > start}
        while True:
            due = self._due_schedules(start, until)
            if not due:
                break
            moment, name, target = due[0]
            self._fired.add((name, moment))
            self.clock_offset = moment - datetime.now(UTC).replace(microsecond=0)
            self._expire(moment)
            handler = HANDLERS[self._logical_id_of_function(target["Arn"])]
            sent_before = len(sent_emails())
            response = self.invoke(handler, json.loads(target.get("Input") or "{}"), at=moment)
            self.run_pipeline()
            emails = tuple((email.to, email.subject) for email in sent_emails()[sent_before:])
            firings.append(Firing(moment, name, handler, response, emails))
            if self.after_firing is not None:
                self.after_firing()  # at the firing's own moment (serve's mailbox dates it)
        self.clock_offset = until - datetime.now(UTC).replace(microsecond=0)
        self._expire(until)
        return firings

    def _due_schedules(
        self, after: datetime, until: datetime
    ) -> list[tuple[datetime, str, dict[str, Any]]]:
        from infrastructure.local_scheduler import UnsupportedScheduleError, fire_times

        due = []
        for schedule in bounded.schedules(REGION):
            if (schedule.state or "ENABLED") != "ENABLED":  # an update without State: ENABLED
                continue
            # Before fire_times: the sweeper's rate(5 minutes) is not evaluated locally.
            if self._logical_id_of_function(schedule.target["Arn"]) in OPERATIONS_FUNCTIONS:
                continue
            try:
                times = fire_times(
                    schedule.schedule_expression,
                    schedule.schedule_expression_timezone,
                    after,
                    until,
                )
            except UnsupportedScheduleError as error:
                raise LocalStackError(f"schedule {schedule.name}: {error}") from None
            due += [
                (moment, schedule.name, dict(schedule.target))
                for moment in times
                if (schedule.name, moment) not in self._fired
            ]
        return sorted(due, key=lambda entry: (entry[0], entry[1]))

    def _logical_id_of_function(self, arn: str) -> str:
        name = arn.rsplit(":", 1)[-1]
        for logical_id in HANDLERS:
            if self.resources.get(logical_id) == name:
                return logical_id
        raise LocalStackError(
            f"a schedule targets {arn}, which is not one of the stack's functions"
        )

    def _expire(self, moment: datetime) -> None:
        """Remove what DynamoDB's TTL would have removed by then (it takes up to two days in
        AWS; the code never relies on the removal)."""
        dynamodb = self.client("dynamodb")
        table = self.resources["RegisterTable"]
        for key in bounded.expired_keys(REGION, table, "expires_at", int(moment.timestamp())):
            dynamodb.delete_item(TableName=table, Key=key)


@dataclass(frozen=True)
class Firing:
    """One schedule that fired while the clock moved on."""

    at: datetime
    schedule: str
    handler: str
    response: dict[str, Any]
    emails: tuple[tuple[tuple[str, ...], str], ...]  # (to, subject) of what it sent


def _is_outbox_insert(record: dict[str, Any]) -> bool:
    keys = record.get("dynamodb", {}).get("Keys", {})
    return record.get("eventName") == "INSERT" and str(keys.get("PK", {}).get("S", "")).startswith(
        "OUTBOX#"
    )


def _stream_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A dynamodbstreams record as Lambda delivers it (times as epoch numbers)."""
    body = dict(record["dynamodb"])
    created = body.get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        body["ApproximateCreationDateTime"] = created.timestamp()
    return {**record, "dynamodb": body, "eventSourceARN": stream_arn}


@dataclass(frozen=True)
class SentEmail:
    to: tuple[str, ...]
    subject: str
    body: str
    attachments: dict[str, str | bytes] = field(default_factory=dict)  # filename -> content
    # The threading headers of an email sent raw (moto keeps no headers of a Simple one).
    headers: dict[str, str] = field(default_factory=dict)


def sent_emails() -> list[SentEmail]:
    """What SES has sent so far in the embedded stack (moto keeps it in memory)."""
    from email import message_from_bytes
    from email.message import EmailMessage
    from email.policy import default

    from moto.backends import get_backend

    backend = get_backend("ses")["123456789012"][REGION]
    sent = []
    for message in backend.sent_messages:
        if hasattr(message, "raw_data"):  # sent as raw MIME (with attachments)
            parsed = message_from_bytes(message.raw_data.encode("utf-8"), policy=default)
            assert isinstance(parsed, EmailMessage)
            body_part = parsed.get_body(preferencelist=("plain",))
            sent.append(
                SentEmail(
                    to=tuple(dict.fromkeys(message.destinations)),  # moto lists To twice
                    subject=str(parsed["Subject"]),
                    body=body_part.get_content() if body_part else "",
                    attachments={
                        str(part.get_filename()): part.get_content()
                        for part in parsed.iter_attachments()
                        if isinstance(part, EmailMessage)
                    },
                    headers={
                        name: " ".join(str(parsed[name]).split())
                        for name in ("In-Reply-To", "References", "Auto-Submitted")
                        if parsed[name] is not None
                    },
                )
            )
        else:
            kept = getattr(message, "headers", {})  # see _keep_simple_email_headers
            sent.append(
                SentEmail(
                    to=tuple(message.destinations["ToAddresses"]),
                    subject=message.subject,
                    body=message.body,
                    headers={
                        name: " ".join(str(kept[name]).split())
                        for name in ("In-Reply-To", "References", "Auto-Submitted")
                        if name in kept
                    },
                )
            )
    return sent
