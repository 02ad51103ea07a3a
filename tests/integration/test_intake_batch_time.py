"""The IntakeFunction's batch of up to ten emails against its own time: a record is begun only
while an email's share of the invocation is left; the rest go back to SQS as batch item
failures (exactly those, never one already recorded). And SES's setup notification object is
no email. Each handler is called as Lambda would, with a fake context whose clock is
scripted: no sleeps."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest

from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.samples import child, email, referral_pdf
from shared.adapters import client
from shared.adapters.register_table import RegisterTable
from shared.clock import CLOCK
from tests.integration.test_handlers import sqs_record

TIMEOUT_MS = 60_000


@dataclass
class DwindlingContext:
    """A Lambda context whose remaining time is read from a script, one value a call (the
    last one repeats): the handler's own look at the start, then one per record."""

    remaining_ms: list[int]
    function_name: str = "intake"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    calls: int = 0

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-west-2:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        value = self.remaining_ms[min(self.calls, len(self.remaining_ms) - 1)]
        self.calls += 1
        return value


@pytest.fixture
def register(stack: LocalStack) -> RegisterTable:
    return RegisterTable(client("dynamodb"), stack.resources["RegisterTable"])


def _invoke(stack: LocalStack, event: dict[str, object], context: DwindlingContext) -> object:
    CLOCK.pin(stack.now())
    try:
        return stack.handler("intake").lambda_handler(event, context)
    finally:
        CLOCK.pin(None)


def _stored_emails(stack: LocalStack, count: int) -> list[str]:
    bucket = stack.resources["RawMailBucket"]
    keys = []
    for number in range(count):
        key = "inbound/" + uuid.uuid4().hex
        identity = child(260 + number)
        client("s3").put_object(
            Bucket=bucket, Key=key, Body=email(("r.pdf", referral_pdf(**identity)))
        )
        keys.append(key)
    return keys


def test_records_not_begun_in_time_go_back_to_the_queue(
    stack: LocalStack, register: RegisterTable
) -> None:
    bucket = stack.resources["RawMailBucket"]
    keys = _stored_emails(stack, 5)
    records = [sqs_record(bucket, key, f"sqs-{n}") for n, key in enumerate(keys)]
    # At the start the whole minute; the first two records begin with more than half left,
    # the third finds 29 s (an email may need half the invocation's 60 s), the rest less.
    context = DwindlingContext([TIMEOUT_MS, 59_000, 31_000, 29_000, 20_000, 10_000])
    response = _invoke(stack, {"Records": records}, context)
    assert response == {"batchItemFailures": [{"itemIdentifier": f"sqs-{n}"} for n in (2, 3, 4)]}
    assert context.calls == 1 + len(records)
    message_ids = [key.rsplit("/", 1)[1] for key in keys]
    assert [register.submission(m) is not None for m in message_ids] == [
        True, True, False, False, False,
    ]  # fmt: skip

    # SQS delivers the three again, to an invocation with its whole time: all are decided.
    again = [record for record in records if record["messageId"] in {"sqs-2", "sqs-3", "sqs-4"}]
    response = _invoke(stack, {"Records": again}, DwindlingContext([TIMEOUT_MS]))
    assert response == {"batchItemFailures": []}
    assert all(register.submission(m) is not None for m in message_ids)


def test_a_batch_with_time_to_spare_is_taken_whole(stack: LocalStack) -> None:
    bucket = stack.resources["RawMailBucket"]
    records = [sqs_record(bucket, key) for key in _stored_emails(stack, 3)]
    context = DwindlingContext([TIMEOUT_MS, 55_000, 50_000, 45_000])
    assert _invoke(stack, {"Records": records}, context) == {"batchItemFailures": []}


def test_the_ses_setup_notification_is_ignored(stack: LocalStack, register: RegisterTable) -> None:
    """SES writes this object into the rule's prefix when the receipt rule is created."""
    bucket = stack.resources["RawMailBucket"]
    key = "inbound/AMAZON_SES_SETUP_NOTIFICATION"
    client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=b"Amazon SES has successfully set up this S3 bucket as a target for email.\n",
    )
    stack.run_effects()  # what earlier tests left in the outbox goes first
    sent_before = len(sent_emails())
    lines_before = len(stack.log_lines)
    response = stack.invoke("intake", {"Records": [sqs_record(bucket, key)]})
    assert response == {"batchItemFailures": []}
    assert register.submission("AMAZON_SES_SETUP_NOTIFICATION") is None
    stack.run_effects()
    assert len(sent_emails()) == sent_before  # no outcome, so no alert
    logged = "\n".join(stack.log_lines[lines_before:])
    assert "setup notification" in logged and key in logged
