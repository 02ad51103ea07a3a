"""MailEventsFunction: SES reports (configuration set -> SNS) of bounces, complaints and
refusals of our answers; each reaches the coordinators once, through the outbox."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SNSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters import client
from shared.adapters.register_table import RegisterTable
from shared.clock import CLOCK
from shared.errors import AlreadyRecordedError
from shared.mail_events import MailEvent, mail_problem
from shared.settings import Settings

logger = Logger(service="dsr-mail-events")
metrics = Metrics(namespace="DSRIntake", service="dsr-mail-events")


@cache
def _wiring() -> tuple[Settings, RegisterTable]:
    settings = Settings.from_environment()
    return settings, RegisterTable(client("dynamodb"), settings.table_name)


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    settings, register = _wiring()
    reported = 0
    for record in SNSEvent(event).records:
        report = MailEvent.model_validate(json.loads(record.sns.message))
        # The type and SES id only: the report itself names the recipient.
        logger.info("mail event", event_type=report.event_type, ses_id=report.mail.messageId)
        metrics.add_metric(name=f"Mail{report.event_type}", unit=MetricUnit.Count, value=1)
        change = mail_problem(report, settings)
        if change is None:
            continue
        try:
            register.record_change(change, CLOCK.now())
            reported += 1
        except AlreadyRecordedError:
            pass  # SNS delivered the same report again
    return {"reported": reported}
