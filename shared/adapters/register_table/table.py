"""The table itself: its client and name, and the item operations each part of the register
(reads, recording, the outbox, erasure, the indexes) is built on. Keys come from .keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared.adapters.register_table.keys import Key, case_event_key, text


class TableAccess:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name

    def _get(self, key: Key) -> dict[str, Any] | None:
        response = self.dynamodb.get_item(TableName=self.table_name, Key=key, ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return item

    def _query_items(self, pk: str) -> Iterator[dict[str, Any]]:
        paginator = self.dynamodb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": text(pk)},
            ConsistentRead=True,
        ):
            yield from page["Items"]

    def _query_index(
        self, index: str, condition: str, values: dict[str, Any], page_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """The items of one of the sparse indexes (eventually consistent), in its order."""
        paginator = self.dynamodb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            IndexName=index,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            **({"PaginationConfig": {"PageSize": page_size}} if page_size else {}),
        ):
            yield from page["Items"]

    def _query_keys(self, pk: str) -> Iterator[dict[str, Any]]:
        for item in self._query_items(pk):
            yield {"PK": item["PK"], "SK": item["SK"]}

    # ----- the parts of a transaction -----
    def _put(
        self,
        item: dict[str, Any],
        condition: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self.table_name, "Item": item}
        if condition:
            put["ConditionExpression"] = condition
        if values:
            put["ExpressionAttributeValues"] = values
        return {"Put": put}

    def _delete(self, key: Key) -> dict[str, Any]:
        return {"Delete": {"TableName": self.table_name, "Key": key}}

    def _case_event(self, case_id: str, event_id: str, kind: str) -> dict[str, Any]:
        return self._put({**case_event_key(case_id, event_id), "kind": text(kind)})
