"""`dsr-intake ops`: answering the alarms, against a deployed stack or the embedded one.

    dsr-intake ops status [--stack NAME]              queues, DLQs, outbox, schedules, alarms
    dsr-intake ops redrive intake|schedule [--stack]  DLQ messages back to work
    dsr-intake ops reprocess MESSAGE_ID [--stack]     a stored email with no outcome, again
    dsr-intake ops deliver-outbox [--stack NAME]      deliver every undelivered outbox item now
    dsr-intake ops reconcile [--stack NAME]           repair every case's reminder schedule
    dsr-intake ops smoke [--stack NAME]               a synthetic referral through the inbox
    dsr-intake ops erase-test-case CASE_ID [--stack]  erase a test case (999 NHS number) only

With `--stack`, the admin's AWS credentials and region (the usual AWS settings) are used and
the stack's own functions do the work (so they run with their own least-privilege roles);
without it, the embedded local stack (the register `process` and `advance` keep). Every
command prints what it did in counts and ids, never personal data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

# The resources ops reads, by logical id in template.yaml.
QUEUES = {
    "intake queue": "IntakeQueue",
    "intake DLQ": "IntakeDLQ",
    "effects DLQ": "EffectsDLQ",
    "schedule DLQ": "ScheduleDLQ",
}
# The timers' inputs (template.yaml), and the function each fires; the panel pack's is {}.
TIMERS = {"outbox-sweeper": "OutboxSweeperFunction", "reconcile": "ReconcileFunction"}


class OpsError(Exception):
    """An ops command could not run as asked (no such stack, no such message)."""


class Target(Protocol):
    """A stack to operate: its AWS clients, its resources and a way to run its functions."""

    def client(self, service: str) -> Any: ...

    def resource(self, logical_id: str) -> str: ...

    def parameter(self, name: str) -> str:
        """The value of one of the stack's template parameters ("" when it has none)."""
        ...

    def invoke(self, logical_id: str, event: dict[str, Any]) -> dict[str, Any]: ...

    def function_of(self, arn: str) -> str | None:
        """The logical id of the stack's function with this ARN (None if not one of ours)."""
        ...


def function_name(arn: str) -> str:
    """`arn:aws:lambda:<region>:<account>:function:<name>[:<version or alias>]` -> name."""
    return arn.split(":function:", 1)[-1].split(":", 1)[0]


class DeployedStack:
    """A stack deployed with `sam deploy`, found by name with the admin's credentials."""

    def __init__(self, name: str, session: Any | None = None) -> None:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

        self.session = session or boto3.session.Session()
        try:
            cloudformation = self.session.client("cloudformation")
            paginator = cloudformation.get_paginator("list_stack_resources")
            self.resources = {
                summary["LogicalResourceId"]: summary["PhysicalResourceId"]
                for page in paginator.paginate(StackName=name)
                for summary in page["StackResourceSummaries"]
            }
        except NoRegionError:
            # boto3 reads AWS_DEFAULT_REGION or the profile's region, never AWS_REGION.
            raise OpsError(
                f"cannot read stack {name}: no AWS region: set AWS_DEFAULT_REGION (e.g. "
                "eu-west-2) or a region in your AWS profile"
            ) from None
        except (ClientError, BotoCoreError) as error:
            # No credentials, no network: one line, not a traceback.
            raise OpsError(f"cannot read stack {name}: {error}") from None
        self.name = name
        self._parameters: dict[str, str] | None = None

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def parameter(self, name: str) -> str:
        if self._parameters is None:
            stack = self.client("cloudformation").describe_stacks(StackName=self.name)
            self._parameters = {
                p["ParameterKey"]: p.get("ParameterValue", "")
                for p in stack["Stacks"][0].get("Parameters", [])
            }
        return self._parameters.get(name, "")

    def resource(self, logical_id: str) -> str:
        if logical_id not in self.resources:
            raise OpsError(f"stack {self.name} has no {logical_id}: is it this version?")
        return str(self.resources[logical_id])

    def invoke(self, logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        from botocore.config import Config

        # Wait as long as the longest function may run (the reconciliation: 300 s), and
        # never invoke again on a timeout: the first run may still be working.
        functions = self.session.client(
            "lambda", config=Config(read_timeout=330, retries={"total_max_attempts": 1})
        )
        response = functions.invoke(
            FunctionName=self.resource(logical_id), Payload=json.dumps(event).encode()
        )
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            kind = payload.get("errorType", "error") if isinstance(payload, dict) else "error"
            raise OpsError(f"{logical_id} failed ({kind}): see its log group")
        return payload if isinstance(payload, dict) else {}

    def function_of(self, arn: str) -> str | None:
        name = function_name(arn)
        return next((lid for lid, phys in self.resources.items() if phys == name), None)


class LocalTarget:
    """The embedded stack: its functions run in-process, and what they queue runs to its end
    (the stream, the intake queue) as `process` and `advance` do."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack

    def client(self, service: str) -> Any:
        return self.stack.client(service)

    def resource(self, logical_id: str) -> str:
        # Locally, alarms are named by their logical id.
        return str(self.stack.resources.get(logical_id, logical_id))

    def parameter(self, name: str) -> str:
        return str(self.stack.parameter_values.get(name, ""))

    def invoke(self, logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        from infrastructure.local_stack import HANDLERS

        response: dict[str, Any] = self.stack.invoke(HANDLERS[logical_id], event)
        self.stack.run_pipeline()
        return response

    def function_of(self, arn: str) -> str | None:
        from infrastructure.local_stack import HANDLERS

        name = function_name(arn)
        return next((lid for lid in HANDLERS if self.stack.resources.get(lid) == name), None)

    def run_intake(self) -> None:
        self.stack.run_pipeline()


@dataclass(frozen=True)
class QueueDepth:
    name: str
    visible: int
    in_flight: int


def queue_depths(target: Target) -> list[QueueDepth]:
    sqs = target.client("sqs")
    depths = []
    for name, logical_id in QUEUES.items():
        attributes = sqs.get_queue_attributes(
            QueueUrl=target.resource(logical_id),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depths.append(
            QueueDepth(
                name,
                int(attributes["ApproximateNumberOfMessages"]),
                int(attributes["ApproximateNumberOfMessagesNotVisible"]),
            )
        )
    return depths


def _alarms_in_alarm(target: Target) -> list[str]:
    cloudwatch = target.client("cloudwatch")
    ours = set()
    for logical_id in _alarm_ids(target):
        with_name = target.resource(logical_id)
        ours.add(with_name)
    found = []
    for page in cloudwatch.get_paginator("describe_alarms").paginate(StateValue="ALARM"):
        found += [a["AlarmName"] for a in page["MetricAlarms"] if a["AlarmName"] in ours]
    return sorted(found)


def _alarm_ids(target: Target) -> list[str]:
    from infrastructure.local_stack import load_template

    return [
        logical_id
        for logical_id, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    ]


def status(target: Target, now: datetime | None = None) -> list[str]:
    """What an on-call engineer looks at first, one line each."""
    from shared.adapters.register_table import RegisterTable

    now = now or datetime.now(UTC)
    lines = [
        f"{depth.name}: {depth.visible} waiting, {depth.in_flight} being processed"
        for depth in queue_depths(target)
    ]
    register = RegisterTable(target.client("dynamodb"), target.resource("RegisterTable"))
    oldest = register.oldest_undelivered()
    if oldest is None:
        lines.append("outbox: nothing undelivered")
    else:
        minutes = max(0, int((now - oldest).total_seconds() // 60))
        lines.append(f"outbox: oldest undelivered item queued {minutes} minutes ago")
    checked = target.invoke("ReconcileFunction", {"repair": False})
    lines.append(f"schedules: {checked.get('summary', 'not checked')} (not repaired)")
    alarms = _alarms_in_alarm(target)
    lines.append(f"alarms in ALARM: {', '.join(alarms) if alarms else 'none'}")
    return lines


def redrive_intake(target: Target) -> str:
    """Move the intake DLQ's messages back to the intake queue (each email is decided once:
    one that has its outcome is not decided again)."""
    moved = _move(target, "IntakeDLQ", lambda body: _send(target, "IntakeQueue", body))
    return f"moved {moved} messages from the intake DLQ back to the intake queue"


def redrive_schedule(target: Target) -> str:
    """Run each parked reminder, panel pack, sweep or reconciliation again, synchronously."""
    skipped = 0

    def rerun(body: str) -> None:
        nonlocal skipped
        logical_id, event = scheduled_event(target, body)
        if logical_id is None:
            skipped += 1
            raise OpsError("not a message of this stack")
        target.invoke(logical_id, event)

    done = _move(target, "ScheduleDLQ", rerun)
    kept = f"; {skipped} left in the queue (not this stack's)" if skipped else ""
    return f"ran {done} parked scheduled events again{kept}"


def scheduled_event(target: Target, body: str) -> tuple[str | None, dict[str, Any]]:
    """A schedule DLQ message: Scheduler's (the target's input itself) or Lambda's on-failure
    record (the request payload, and the function that failed)."""
    try:
        message = json.loads(body)
    except json.JSONDecodeError:
        return None, {}
    if not isinstance(message, dict):
        return None, {}
    if "requestContext" in message:
        arn = str(message["requestContext"].get("functionArn", ""))
        payload = message.get("requestPayload")
        return target.function_of(arn), payload if isinstance(payload, dict) else {}
    if "case_id" in message:
        return "ReminderFunction", message
    if "timer" in message:
        return TIMERS.get(str(message["timer"])), message
    return ("DigestFunction", message) if message == {} else (None, {})


def _send(target: Target, logical_id: str, body: str) -> None:
    target.client("sqs").send_message(QueueUrl=target.resource(logical_id), MessageBody=body)


def _move(target: Target, logical_id: str, handle: Callable[[str], None]) -> int:
    """Handle each message once; a message handled is deleted, one that fails stays."""
    sqs = target.client("sqs")
    url = target.resource(logical_id)
    done = 0
    seen: set[str] = set()
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            return done
        for message in fresh:
            seen.add(message["MessageId"])
            try:
                handle(message["Body"])
            except OpsError:
                continue
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            done += 1


def reprocess(target: Target, message_id: str) -> str:
    """Run a stored raw email again when it has no outcome (e.g. after a fix)."""
    from shared.adapters.mail_store import raw_mail_key
    from shared.adapters.register_table import RegisterTable

    if not message_id.replace("-", "").isalnum():
        raise OpsError("a message id is letters, digits and hyphens (the SES message id)")
    register = RegisterTable(target.client("dynamodb"), target.resource("RegisterTable"))
    recorded = register.submission(message_id)
    if recorded is not None:
        return f"{message_id} already has its outcome ({recorded.outcome.value}): nothing to do"
    bucket = target.resource("RawMailBucket")
    s3 = target.client("s3")
    try:
        s3.head_object(Bucket=bucket, Key=raw_mail_key(message_id))
    except s3.exceptions.ClientError:
        raise OpsError(f"no raw email {message_id} in the mail bucket") from None
    notification = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": raw_mail_key(message_id)}},
            }
        ]
    }
    _send(target, "IntakeQueue", json.dumps(notification))
    return f"queued {message_id} for the intake again"


def deliver_outbox(target: Target) -> str:
    answer = target.invoke("OutboxSweeperFunction", {"older_than_minutes": 0})
    return str(answer.get("summary", "the sweeper gave no summary"))


def reconcile_schedules(target: Target) -> str:
    answer = target.invoke("ReconcileFunction", {})
    return str(answer.get("summary", "the reconciliation gave no summary"))


def erase_test_case(target: Target, case_id: str) -> str:
    """Erase one test case as a withdrawal would (tombstone, then its emails, outbox and
    schedule); the sweeper refuses any case whose NHS number is not a test number."""
    if not re.fullmatch(r"DSR-[A-Z0-9]{8}", case_id):
        raise OpsError("a case reference is DSR- and eight letters or digits")
    answer = target.invoke("OutboxSweeperFunction", {"erase_test_case": case_id})
    summary = str(answer.get("summary", "the sweeper gave no summary"))
    if not answer.get("erased"):
        raise OpsError(summary)
    return summary
