"""EffectsFunction: the DynamoDB stream says which outbox items were written; each is
delivered from the register's own copy (shared.effects) - an email sent at most once, a
case's schedule set from the case as it is now, a withdrawn case erased - then deleted.

The stream only wakes this function up: an item it fails to deliver stays in the outbox,
where the OutboxSweeperFunction finds it. (Powertools Idempotency is not used: it would run
a send again once its in-progress record expired; the outbox item's own "sending" mark
never does.)
"""

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
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters import client
from shared.adapters.delivery import effect_delivery
from shared.adapters.register_table import RegisterTable
from shared.adapters.register_table.keys import outbox_id_of
from shared.effects import EffectDelivery
from shared.settings import Settings

logger = Logger(service="dsr-effects")
metrics = Metrics(namespace="DSRIntake", service="dsr-effects")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@cache
def delivery() -> EffectDelivery:
    settings = Settings.from_environment()
    return effect_delivery(settings, RegisterTable(client("dynamodb"), settings.table_name))


def record_handler(record: DynamoDBRecord) -> None:
    outbox_id = outbox_id_of(record.raw_event.get("dynamodb", {}).get("Keys", {}))
    if outbox_id is None:
        return  # not an outbox item (the event filter normally keeps these away)
    done = delivery().deliver(outbox_id)
    logger.info("outbox item", outbox_id=outbox_id, done=done)
    if done.startswith("uncertain:"):
        metrics.add_metric(name="EmailsUncertain", unit=MetricUnit.Count, value=1)


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
