"""EffectsFunction: outbox items from the DynamoDB stream -> emails, reminder schedules and
the erasure of withdrawn cases.

The stream delivers each outbox item at least once; Powertools Idempotency (records kept
in the register table) makes sure each is acted on once. A delivered item is then deleted:
its email may hold personal data, and the stream no longer needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters import client
from shared.adapters.mail_store import RawMailStore
from shared.adapters.mailer import SesMailer
from shared.adapters.register_table import (
    IDEMPOTENCY_PK,
    TTL_ATTRIBUTE,
    RegisterTable,
    outbox_item,
)
from shared.adapters.review_schedule import ReviewScheduler
from shared.effects import EFFECT, EffectDelivery
from shared.settings import Settings

logger = Logger(service="dsr-effects")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
settings = Settings.from_environment()
idempotency = IdempotencyConfig(event_key_jmespath="outbox_id", expires_after_seconds=7 * 24 * 3600)
persistence = DynamoDBPersistenceLayer(
    table_name=settings.table_name,
    key_attr="PK",
    sort_key_attr="SK",
    static_pk_value=IDEMPOTENCY_PK,
    expiry_attr=TTL_ATTRIBUTE,
    boto3_client=client("dynamodb"),
)


@cache
def register() -> RegisterTable:
    return RegisterTable(client("dynamodb"), settings.table_name)


@cache
def effect_delivery() -> EffectDelivery:
    return EffectDelivery(
        SesMailer(client("sesv2"), settings.inbox_address),
        ReviewScheduler(
            client("scheduler"),
            settings.schedule_group,
            settings.reminder_function_arn,
            settings.scheduler_role_arn,
            settings.reminder_dlq_arn,
        ),
        RawMailStore(client("s3"), settings.raw_mail_bucket),
        register(),
    )


def _deliver(outbox_item: dict[str, str]) -> str:
    return effect_delivery().deliver(EFFECT.validate_json(outbox_item["effect"]))


# Acted on once per outbox id, however often the stream delivers the item.
deliver = cast(
    "Callable[..., str]",
    idempotent_function(
        _deliver,
        data_keyword_argument="outbox_item",
        config=idempotency,
        persistence_store=persistence,
    ),
)


def record_handler(record: DynamoDBRecord) -> None:
    image = record.raw_event.get("dynamodb", {}).get("NewImage", {})
    item = outbox_item(image)
    if item is None:
        return  # not an outbox item (the event filter normally keeps these away)
    outbox_id, effect = item
    done = deliver(outbox_item={"outbox_id": outbox_id, "effect": effect})
    register().delete_outbox_item(outbox_id)
    logger.info("effect delivered", outbox_id=outbox_id, effect=done)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
