"""IntakeFunction: S3 (raw MIME from SES) -> SQS -> one outcome per email.

The module loads only what every invocation needs. The intake itself (pydantic models, the
form readers, pypdf) loads on the first email, and a reader only when an email has its kind
of file, so a cold start costs little more than the runtime's own boto3.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

if TYPE_CHECKING:
    from shared.intake_service import IntakeService

logger = Logger(service="dsr-intake")
metrics = Metrics(namespace="DSRIntake", service="dsr-intake")
processor = BatchProcessor(event_type=EventType.SQS)

# The object SES writes into the receipt rule's S3 prefix when the rule is created: a notice
# to us, not an email anyone sent.
SES_SETUP_NOTIFICATION = "AMAZON_SES_SETUP_NOTIFICATION"

# The share of an invocation's time one email may need. bench/bench_hostile.py holds every
# shape (the 40 MB email SES accepts at most, the hostile documents) under half the
# function's Timeout at the CPU its MemorySize buys, so an email begun with half the
# invocation's time left ends in time. With less left, a record is not begun: it goes back to
# the queue (a batch item failure) and comes again soon, rather than the whole batch timing
# out and every email in it coming back, the finished ones too.
ONE_EMAIL_SHARE = 0.5
_margin_ms = 0  # set at the start of each invocation


class TooLittleTimeError(Exception):
    """Too little of the invocation is left to begin this record: SQS delivers it again."""


@cache
def intake_service() -> IntakeService:
    from shared.adapters import client
    from shared.adapters.identity import KmsIdentityHasher
    from shared.adapters.mail_store import RawMailStore
    from shared.adapters.register_table import RegisterTable
    from shared.intake_service import IntakeService
    from shared.settings import Settings

    settings = Settings.from_environment()
    return IntakeService(
        settings,
        RawMailStore(client("s3"), settings.raw_mail_bucket),
        RegisterTable(client("dynamodb"), settings.table_name),
        KmsIdentityHasher(client("kms"), settings.identity_key_id),
    )


def object_keys(body: str) -> list[str]:
    """The mail bucket keys in an S3 event notification as SQS carries it; none in the
    `s3:TestEvent` S3 sends on set-up. Keys arrive URL-encoded, with `+` for a space."""
    notification = S3Event(json.loads(body))
    if notification.get("Event") == "s3:TestEvent":
        return []
    return [unquote_plus(record.s3.get_object.key) for record in notification.records]


def record_handler(record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
    if lambda_context is not None and lambda_context.get_remaining_time_in_millis() < _margin_ms:
        logger.info("record left for the queue: too little time", sqs_message_id=record.message_id)
        raise TooLittleTimeError("too little time left in this invocation to begin the record")
    for key in object_keys(record.body):
        if key.rsplit("/", 1)[-1] == SES_SETUP_NOTIFICATION:
            logger.info("object ignored: SES's setup notification", key=key)
            continue
        result = intake_service().process(key)
        submission = result.submission
        # Ids and codes only: never names, dates of birth or NHS numbers.
        logger.info(
            "email processed",
            message_id=submission.message_id,
            outcome=submission.outcome.value,
            case_id=submission.case_id,
            reason_codes=[reason.code.value for reason in submission.reasons],
            redelivered=result.redelivered,
        )
        if not result.redelivered:
            metrics.add_metric(
                name=f"Outcome{submission.outcome.value.capitalize()}",
                unit=MetricUnit.Count,
                value=1,
            )


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    global _margin_ms
    # Lambda starts each invocation with its whole Timeout left.
    _margin_ms = int(context.get_remaining_time_in_millis() * ONE_EMAIL_SHARE)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
