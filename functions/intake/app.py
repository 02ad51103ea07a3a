"""IntakeFunction: S3 (raw MIME from SES) -> SQS -> one outcome per email."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters import client
from shared.adapters.identity import KmsIdentityHasher
from shared.adapters.mail_store import RawMailStore
from shared.adapters.register_table import RegisterTable
from shared.events import S3Notification
from shared.intake_service import IntakeService
from shared.settings import Settings

logger = Logger(service="dsr-intake")
metrics = Metrics(namespace="DSRIntake", service="dsr-intake")
processor = BatchProcessor(event_type=EventType.SQS)


@cache
def intake_service() -> IntakeService:
    settings = Settings.from_environment()
    return IntakeService(
        settings,
        RawMailStore(client("s3"), settings.raw_mail_bucket),
        RegisterTable(client("dynamodb"), settings.table_name),
        KmsIdentityHasher(client("kms"), settings.identity_key_id),
    )


def record_handler(record: SQSRecord) -> None:
    for key in S3Notification.model_validate_json(record.body).object_keys():
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
