"""ReminderFunction: fired by a case's EventBridge schedule, tells the coordinators a review
is due. (The full review cycle - overdue escalation, rescheduling - is issue #3.)"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters import client
from shared.adapters.mailer import SesMailer
from shared.adapters.register_table import RegisterTable
from shared.events import ReminderEvent
from shared.notices import Notices
from shared.settings import Settings

logger = Logger(service="dsr-reminder")


@cache
def _wiring() -> tuple[Settings, RegisterTable, SesMailer]:
    settings = Settings.from_environment()
    return (
        settings,
        RegisterTable(client("dynamodb"), settings.table_name),
        SesMailer(client("sesv2"), settings.inbox_address),
    )


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    reminder = ReminderEvent.model_validate(event)
    settings, register, mailer = _wiring()
    case = register.case(reminder.case_id)
    if case is None:
        logger.warning("review reminder for a case no longer held", case_id=reminder.case_id)
        return {"case_id": reminder.case_id, "sent": 0}
    emails = Notices(settings).review_due(case)
    for email in emails:
        mailer.send(email)
    logger.info("review reminder sent", case_id=case.case_id, emails=len(emails))
    return {"case_id": case.case_id, "sent": len(emails)}
