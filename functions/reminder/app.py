"""ReminderFunction: fired by a case's EventBridge schedule. Acts on what has fallen due -
review due, overdue (to the DSR lead), no first review, 18th birthday coming or reached,
consent to reconfirm, a pending case lapsed - and always leaves the case's schedule at its
next checkpoint (shared.reminders, shared.schedules).

Emails go through the outbox like every other effect; a failure raises, so Lambda retries
the asynchronous invocation and finally sends it to its on-failure destination, the
schedule DLQ (alarmed; `dsr-intake ops redrive schedule`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters import client
from shared.adapters.delivery import schedule_sync
from shared.adapters.register_table import RegisterTable
from shared.clock import CLOCK
from shared.events import ReminderEvent
from shared.reminders import ReminderService
from shared.settings import Settings

logger = Logger(service="dsr-reminder")
metrics = Metrics(namespace="DSRIntake", service="dsr-reminder")


@cache
def reminder_service() -> ReminderService:
    settings = Settings.from_environment()
    register = RegisterTable(client("dynamodb"), settings.table_name)
    return ReminderService(settings, register, CLOCK.now, schedule_sync(settings, register))


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    reminder = ReminderEvent.model_validate(event)
    done = reminder_service().run(reminder.case_id)
    logger.info("reminder checked", case_id=reminder.case_id, done=done)
    if done.startswith("reminder:"):
        metrics.add_metric(name="RemindersActedOn", unit=MetricUnit.Count, value=1)
    return {"case_id": reminder.case_id, "done": done}
