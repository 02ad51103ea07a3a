"""OutboxSweeperFunction: every few minutes, delivers what the stream left in the outbox
(retries exhausted, an outage longer than the stream keeps records) and reports the age of
the oldest undelivered item, which is alarmed.

It also erases a test case when an admin asks (`dsr-intake ops erase-test-case`, the smoke
test): its role already holds everything that takes (read the case, the transaction's puts
and the person lookup's delete, then the erasure's deliveries), so no function gains a
privilege for it."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters import client
from shared.adapters.delivery import effect_delivery
from shared.adapters.register_table import RegisterTable
from shared.clock import CLOCK
from shared.effects import EffectDelivery, sweep_outbox
from shared.events import EraseTestCaseRequest, SweepRequest
from shared.settings import Settings
from shared.synthetic import erase_test_case

logger = Logger(service="dsr-sweeper")
metrics = Metrics(namespace="DSRIntake", service="dsr-sweeper")


@cache
def _wiring() -> tuple[Settings, RegisterTable, EffectDelivery]:
    settings = Settings.from_environment()
    register = RegisterTable(client("dynamodb"), settings.table_name)
    return settings, register, effect_delivery(settings, register)


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings, register, delivery = _wiring()
    erased = None
    if "erase_test_case" in event:
        case_id = EraseTestCaseRequest.model_validate(event).erase_test_case
        erased, done = erase_test_case(register, case_id, CLOCK.now)
        logger.info("test case erasure", case_id=case_id, erased=erased, done=done)
        if not erased:
            return {"erased": False, "summary": done}
        # Then everything undelivered at once, the erasure with it (as `ops deliver-outbox`).
        event = {"older_than_minutes": 0}
    # `dsr-intake ops deliver-outbox` asks for everything undelivered, however recent.
    minutes = SweepRequest.model_validate(event).older_than_minutes
    sweep = sweep_outbox(
        register,
        delivery,
        CLOCK.now(),
        timedelta(
            minutes=settings.outbox_sweep_after_minutes if minutes is None else minutes
        ),
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
        on_failure=lambda outbox_id, error: logger.error(
            "outbox item failed", outbox_id=outbox_id, error=type(error).__name__
        ),
    )
    logger.info("outbox swept", summary=sweep.summary())
    metrics.add_metric(
        name="OldestUndeliveredOutboxSeconds",
        unit=MetricUnit.Seconds,
        value=sweep.oldest_age_seconds,
    )
    if sweep.uncertain:
        metrics.add_metric(name="EmailsUncertain", unit=MetricUnit.Count, value=sweep.uncertain)
    answer: dict[str, Any] = {
        "summary": sweep.summary(),
        "oldest_age_seconds": sweep.oldest_age_seconds,
    }
    if erased is not None:
        answer["erased"] = erased
        answer["summary"] = f"{done}; {sweep.summary()}"
    return answer
