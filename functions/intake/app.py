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


def record_handler(record: SQSRecord) -> None:
    for key in object_keys(record.body):
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
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
