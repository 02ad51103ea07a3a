"""The outbox: each event's effects, queued in the transaction that records the event, and
delivered by the EffectsFunction and the sweeper - marked while being sent, deleted once
sent, replaced by the coordinators' alert when a send's fate is unknown."""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime
from typing import Any

from shared.adapters.register_table.keys import (
    OUTBOX_INDEX,
    OUTBOX_QUEUE,
    moment,
    outbox_id,
    outbox_item_key,
    outbox_key,
    text,
)
from shared.adapters.register_table.table import TableAccess
from shared.case import Effect, EmailEffect
from shared.effects import EFFECT, OutboxEntry


class OutboxTable(TableAccess):
    def _outbox_writes(
        self, event_id: str, effects: list[Effect], case_id: str | None, now: datetime
    ) -> list[dict[str, Any]]:
        return [
            self._put(
                {
                    **outbox_key(event_id, number),
                    "effect": text(effect.model_dump_json()),
                    **({"case_id": text(case_id)} if case_id else {}),
                    "outbox_queue": text(OUTBOX_QUEUE),
                    "outbox_since": text(now.isoformat()),
                },
                "attribute_not_exists(PK)",
            )
            for number, effect in enumerate(effects)
        ]

    def outbox_entry(self, outbox_id: str) -> OutboxEntry | None:
        item = self._get(outbox_item_key(outbox_id))
        if item is None or "effect" not in item:
            return None
        return OutboxEntry(
            outbox_id=outbox_id,
            effect=EFFECT.validate_json(item["effect"]["S"]),
            case_id=item["case_id"]["S"] if "case_id" in item else None,
            queued_at=moment(item.get("outbox_since")),
            sending_since=moment(item.get("sending_since")),
        )

    def mark_sending(self, outbox_id: str, now: datetime) -> bool:
        # A token of this attempt: when the SDK retries an update whose answer was lost, the
        # retry fails its condition, and the token shows the mark is ours after all.
        attempt = uuid.uuid4().hex
        try:
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key=outbox_item_key(outbox_id),
                UpdateExpression="SET sending_since = :now, sending_attempt = :attempt",
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(sending_since)",
                ExpressionAttributeValues={
                    ":now": text(now.isoformat()),
                    ":attempt": text(attempt),
                },
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            item = self._get(outbox_item_key(outbox_id))
            return item is not None and item.get("sending_attempt", {}).get("S") == attempt
        return True

    def release_sending(self, outbox_id: str) -> None:
        with contextlib.suppress(self.dynamodb.exceptions.ConditionalCheckFailedException):
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key=outbox_item_key(outbox_id),
                UpdateExpression="REMOVE sending_since, sending_attempt",
                ConditionExpression="attribute_exists(PK)",
            )

    def delete_outbox_item(self, outbox_id: str) -> None:
        """A delivered effect's stored copy (its email may hold personal data) is not kept."""
        self.dynamodb.delete_item(TableName=self.table_name, Key=outbox_item_key(outbox_id))

    def replace_with_alert(
        self, entry: OutboxEntry, alerts: list[EmailEffect], now: datetime
    ) -> bool:
        """The item left "sending" goes; the coordinators' alerts take its place, once."""
        event_id = f"{entry.event_id}~alert{entry.outbox_id.partition('|')[2]}"
        writes: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self.table_name,
                    "Key": outbox_item_key(entry.outbox_id),
                    "ConditionExpression": "attribute_exists(sending_since)",
                }
            },
            *self._outbox_writes(event_id, list(alerts), entry.case_id, now),
        ]
        if entry.case_id:
            # Listed with the case, so an erasure removes an alert not yet sent.
            writes.append(self._case_event(entry.case_id, event_id, "alert"))
        try:
            self.dynamodb.transact_write_items(TransactItems=writes)
        except self.dynamodb.exceptions.TransactionCanceledException:
            return False
        return True

    def undelivered_outbox(self, queued_before: datetime) -> list[str]:
        """Outbox items queued before this moment and still undelivered, oldest first."""
        items = self._query_index(
            OUTBOX_INDEX,
            "outbox_queue = :queue AND outbox_since < :before",
            {":queue": text(OUTBOX_QUEUE), ":before": text(queued_before.isoformat())},
        )
        return [outbox_id(item) for item in items]

    def oldest_undelivered(self) -> datetime | None:
        response = self.dynamodb.query(
            TableName=self.table_name,
            IndexName=OUTBOX_INDEX,
            KeyConditionExpression="outbox_queue = :queue",
            ExpressionAttributeValues={":queue": text(OUTBOX_QUEUE)},
            Limit=1,
        )
        items = response.get("Items", [])
        return moment(items[0].get("outbox_since")) if items else None
