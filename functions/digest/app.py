"""DigestFunction: on its monthly schedule, the panel pack for the multi-agency DSR meeting
(shared.panel_pack), emailed through the outbox once per day however often it fires."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters import client
from shared.adapters.register_table import RegisterTable
from shared.clock import CLOCK
from shared.errors import AlreadyRecordedError
from shared.panel_pack import PanelPackService
from shared.settings import Settings

logger = Logger(service="dsr-digest")


@cache
def _wiring() -> tuple[PanelPackService, RegisterTable]:
    settings = Settings.from_environment()
    register = RegisterTable(client("dynamodb"), settings.table_name)
    return PanelPackService(settings, register), register


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    service, register = _wiring()
    now = CLOCK.now()
    change = service.change(now)
    try:
        register.record_change(change, now)
    except AlreadyRecordedError:
        logger.info("panel pack already sent today", event_id=change.event_id)
        return {"event_id": change.event_id, "sent": False}
    logger.info("panel pack recorded", event_id=change.event_id, emails=len(change.effects))
    return {"event_id": change.event_id, "sent": True}
