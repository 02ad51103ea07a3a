"""ReconcileFunction: once a day, checks that every open case has exactly one schedule, at
its next checkpoint, and repairs any that is missing, stale or left over (shared.schedules);
then erases the cases closed longer than their retention (shared.retention)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters import client
from shared.adapters.delivery import review_scheduler
from shared.adapters.register_table import RegisterTable
from shared.clock import CLOCK
from shared.events import ReconcileRequest
from shared.retention import erase_expired_cases
from shared.schedules import reconcile
from shared.settings import Settings

logger = Logger(service="dsr-reconcile")
metrics = Metrics(namespace="DSRIntake", service="dsr-reconcile")


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = Settings.from_environment()
    register = RegisterTable(client("dynamodb"), settings.table_name)
    # `dsr-intake ops status` asks without repairing.
    repair = ReconcileRequest.model_validate(event).repair
    found = reconcile(
        register.cases,  # read after the schedules are listed
        review_scheduler(settings),
        settings,
        CLOCK.now(),
        repair=repair,
        reader=register,
    )
    logger.info("schedules reconciled", summary=found.summary())
    answer: dict[str, Any] = {
        "summary": found.summary(),
        "wrong": found.repaired,
        "repaired": repair,
    }
    if repair:
        metrics.add_metric(name="SchedulesRepaired", unit=MetricUnit.Count, value=found.repaired)
        # Only a repairing run erases; nobody is emailed (see shared.retention).
        erased = erase_expired_cases(register, settings.closed_case_retention_years, CLOCK.now)
        logger.info("retention applied", summary=erased.summary())
        metrics.add_metric(name="ClosedCasesErased", unit=MetricUnit.Count, value=erased.erased)
        answer["summary"] += f"; {erased.summary()}"  # what `ops reconcile` prints
        answer["erased"] = erased.erased
    return answer
