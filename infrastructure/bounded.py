"""What the embedded stack keeps, bounded: memory and time per email stay flat however long it runs.

moto is built for tests that last seconds, so it keeps what AWS would trim or expire. Each
bound here names the moto behaviour it bounds and does what AWS itself does (a stream keeps
records for 24 hours, a shard iterator lasts 15 minutes, a lifecycle rule expires objects);
none changes what a handler sees. Everything is reached through moto's backends in-process,
as `local_stack.sent_emails` already does.
"""

from __future__ import annotations

import copy
from collections import deque
from datetime import datetime
from decimal import Decimal
from typing import Any

ACCOUNT = "123456789012"


def moto_backend(service: str, region: str) -> Any:
    """moto's in-process store of `service` in `region` (the one way the local stack reaches
    it)."""
    from moto.backends import get_backend

    backends: Any = get_backend  # typed per service name; the name here is a variable
    return backends(service)[ACCOUNT][region]


# ----- moto's model registry: nothing is kept for moto's own data browser -----
def _made_untracked(cls: type, *_: Any, **__: Any) -> Any:
    return object.__new__(cls)


def stop_tracking_models() -> None:
    """moto's BaseModel.__new__ appends every model object it makes to a list on its class
    (`instances_tracked`, for moto's /moto-api/data.json browser) and never lets go: every
    copy of an item a read makes (a query copies what it returns, a scan the whole table:
    about 3,600 items an email by the 450th), every stream record, shard iterator, message
    and S3 object, for as long as the process runs. AWS keeps nothing of the kind and the
    local stack never opens that browser, so a model object is made as `object.__new__`
    makes it and lives as long as moto holds it; what was tracked already is let go."""
    from moto.core.common_models import BaseModel

    BaseModel.__new__ = _made_untracked  # type: ignore[method-assign]
    models = BaseModel.__subclasses__()
    while models:
        model = models.pop()
        vars(model).get("instances_tracked", []).clear()
        models += model.__subclasses__()


# ----- DynamoDB transactions: back up the items a transaction writes, not whole tables -----
class _CopyKeepingTables:
    """moto.dynamodb.models' `copy`, except that a Table is not deep-copied (see below)."""

    def __init__(self, table_type: type) -> None:
        self.table_type = table_type

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, self.table_type):
            return value
        return copy.deepcopy(value, memo)


class _UndoLog:
    """The items a transaction may change as they were before it, and each stream's length."""

    def __init__(self, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        self.before: list[tuple[Any, Any, Any, Any]] = []  # table, hash, range, item or None
        self.stream_lengths: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            try:
                _, operation = next(iter(entry.items()))
                table = backend.tables[operation["TableName"]]
                key = operation["Item"] if "Item" in operation else operation["Key"]
                hash_value = DynamoType(key[table.hash_key_attr])
                range_value = (
                    DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
                )
            except (KeyError, TypeError, AttributeError, StopIteration):
                continue  # moto refuses this operation itself, before changing anything
            item = table.get_item(hash_value, range_value)
            self.before.append((table, hash_value, range_value, copy.deepcopy(item)))
            if table.stream_shard is not None:
                self.stream_lengths[id(table)] = (table, len(table.stream_shard.items))

    def roll_back(self) -> None:
        for table, hash_value, range_value, item in reversed(self.before):
            if item is None:
                table.delete_item(hash_value, range_value)
            elif range_value is not None:
                table.items[hash_value][range_value] = item
            else:
                table.items[hash_value] = item
        for table, length in self.stream_lengths.values():
            del table.stream_shard.items[length:]


def back_up_transactions_by_item() -> None:
    """moto's TransactWriteItems deep-copies every table it touches, whole (every item and
    every stream record), before each transaction, to roll back on failure: the cost of every
    write grows with the register (the issue's "14 MB and 10 ms per email"). Instead keep the
    items the transaction names as they were, and put them back on the same failures."""
    import moto.dynamodb.models as models
    from moto.dynamodb.exceptions import (
        MockValidationException,
        MultipleTransactionsException,
        TransactionCanceledException,
    )
    from moto.dynamodb.models.table import Table

    backend_type = models.DynamoDBBackend
    if getattr(backend_type.transact_write_items, "backs_up_by_item", False):
        return
    copies_tables = backend_type.transact_write_items
    vars(models)["copy"] = _CopyKeepingTables(Table)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        undo = _UndoLog(self, transact_items)
        try:
            copies_tables(self, transact_items)
        except (
            TransactionCanceledException,
            MultipleTransactionsException,
            MockValidationException,
        ):
            undo.roll_back()  # moto's own roll-back put back the same (live) tables
            raise

    transact_write_items.backs_up_by_item = True  # type: ignore[attr-defined]
    backend_type.transact_write_items = transact_write_items  # type: ignore[method-assign]


# ----- DynamoDB stream: records read are trimmed, iterators expire -----
# The records kept after they were read (AWS keeps 24 hours' worth): a batch handed over
# again, as Lambda retries it, is still there to read.
STREAM_RECORDS_KEPT = 1000


def trim_stream(region: str, table_name: str, read_up_to: str | None) -> int:
    """Drop the stream records read (up to `read_up_to`, the last sequence number handed to
    the EffectsFunction) but the last STREAM_RECORDS_KEPT, and moto's stored shard
    iterators. moto keeps every record of a shard (a deep copy of the item per write) and
    every iterator it ever gave, for ever; AWS trims records after 24 hours and expires an
    iterator after 15 minutes. The local stack reads each time with a fresh iterator after
    its last position. Returns how many records were dropped."""
    table = moto_backend("dynamodb", region).tables[table_name]
    shard: Any = table.stream_shard
    moto_backend("dynamodbstreams", region).shard_iterators.clear()
    if shard is None or read_up_to is None:
        return 0
    read = min(int(read_up_to) - shard.starting_sequence_number + 1, len(shard.items))
    dropped: int = read - STREAM_RECORDS_KEPT
    if dropped <= 0:
        return 0
    # Sequence numbers go on from where they were: moto numbers a record by its index.
    del shard.items[:dropped]
    shard.starting_sequence_number += dropped
    return dropped


# ----- DynamoDB TTL: the expired items found without copying the table -----
def expired_keys(region: str, table_name: str, attribute: str, now: int) -> list[dict[str, Any]]:
    """The keys of the items whose TTL `attribute` (a number, epoch seconds) is before `now`,
    read in-process. moto runs no TTL, so `advance` removes them at every moment it stops
    at; a Scan to find them made moto copy every item of the table first (it filters the
    copies), a cost per firing that grew with the register."""
    table = moto_backend("dynamodb", region).tables[table_name]
    keys = []
    for stored in list(table.items.values()):
        for item in list(stored.values()) if table.range_key_attr else [stored]:
            expires = item.attrs.get(attribute)
            if expires is None or expires.type != "N" or not Decimal(expires.value) < now:
                continue
            key = {table.hash_key_attr: item.hash_key.to_json()}
            if table.range_key_attr:
                key[table.range_key_attr] = item.range_key.to_json()
            keys.append(key)
    return keys


# ----- EventBridge Scheduler: schedules read where moto keeps them -----
def schedules(region: str) -> list[Any]:
    """Every schedule of every group as moto holds it (name, schedule_expression,
    schedule_expression_timezone, state, target), read in-process. `advance` looks for what
    fell due again after every firing; over the API each look was two requests a schedule
    (a list, then a get for its expression), and there is a schedule per case, so each
    look, and each firing in it, cost more as the register grew."""
    groups = list(moto_backend("scheduler", region).schedule_groups.values())
    return [schedule for group in groups for schedule in list(group.schedules.values())]


# ----- SQS: receipt handles of deleted messages -----
def forget_deleted_receipts(region: str, queue_name: str) -> None:
    """moto's SQS remembers the receipt handle of every message ever deleted (so deleting
    twice succeeds) for ever; a receipt handle is useless once its message is gone and its
    visibility timeout over, which the local stack's pipeline never reaches back past."""
    moto_backend("sqs", region).queues[queue_name].deleted_messages.clear()


# ----- S3: what the mail bucket's lifecycle would expire -----
def expire_raw_mail(
    s3: Any, bucket: str, arrivals: deque[tuple[datetime, str]], before: datetime
) -> int:
    """Delete each raw email (`inbound/<id>`) that arrived before `before`, oldest first,
    as the bucket's ExpireRawMail rule would: moto stores lifecycle rules but never runs
    them. `arrivals` holds (when, id) in arrival order, on the stack's clock; what expires
    leaves it. Returns how many went."""
    expired = []
    while arrivals and arrivals[0][0] < before:
        expired.append(f"inbound/{arrivals.popleft()[1]}")
    for start in range(0, len(expired), 1000):
        s3.delete_objects(
            Bucket=bucket,
            Delete={"Objects": [{"Key": key} for key in expired[start : start + 1000]]},
        )
    return len(expired)
