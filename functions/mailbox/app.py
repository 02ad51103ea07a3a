"""MailboxFunction (the Microsoft 365 / NHSmail route in): on a schedule, stores each new
email of the shared mailbox's Inbox in the mail bucket as SES would, then moves it to
"Processed". From the bucket on, the same pipeline as SES's mail. An email Graph will not
let it read is set aside in "Needs attention" (the coordinators told) and counted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters.graph_mailbox import mailbox_intake
from shared.clock import CLOCK
from shared.settings import Settings

logger = Logger(service="dsr-mailbox")
metrics = Metrics(namespace="DSRIntake", service="dsr-mailbox")


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = Settings.from_environment()
    run = mailbox_intake(settings, lambda: context.get_remaining_time_in_millis() / 1000).run(
        CLOCK.now()
    )
    # Counts and Graph's ids only: never a subject or an address.
    for set_aside in run.set_aside:
        logger.warning("email set aside", **asdict(set_aside))
    logger.info("mailbox read", **run.summary())
    metrics.add_metric(name="MailboxEmailsStored", unit=MetricUnit.Count, value=run.stored)
    metrics.add_metric(
        name="MailboxMessagesSetAside", unit=MetricUnit.Count, value=len(run.set_aside)
    )
    return run.summary()
