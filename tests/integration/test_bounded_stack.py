"""What the embedded stack keeps is bounded (infrastructure.bounded): each bound on its own,
against the session's stack, and the pipeline unchanged by it."""

from __future__ import annotations

import gc
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from moto.backends import get_backend

from infrastructure import bounded
from infrastructure.bounded import expire_raw_mail
from infrastructure.local_mailbox import LocalMailbox
from infrastructure.local_stack import REGION, LocalStack
from infrastructure.samples import child, consent_pdf, email, referral_pdf

ACCOUNT = "123456789012"


def _shard(stack: LocalStack):  # type: ignore[no-untyped-def]
    backend = get_backend("dynamodb")[ACCOUNT][REGION]
    return backend.tables[stack.resources["RegisterTable"]].stream_shard


def test_the_stream_is_trimmed_once_the_effects_have_read_it(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bounded, "STREAM_RECORDS_KEPT", 0)  # at once, not after 1,000
    person = child(88101)
    stack.deliver_email(email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person))))
    shard = _shard(stack)
    stack.run_intake()
    waiting = len(shard.items)
    assert waiting > 0  # the outcome, the case and its outbox were written
    first = shard.starting_sequence_number
    stack.run_effects()
    # Everything read is gone, and numbering goes on from where it was (no record reused).
    assert shard.items == []
    assert shard.starting_sequence_number >= first + waiting
    assert get_backend("dynamodbstreams")[ACCOUNT][REGION].shard_iterators == {}
    # The effects ran: the referrer was answered, and the stream reads on afterwards.
    sent = get_backend("ses")[ACCOUNT][REGION].sent_messages
    assert sent
    person = child(88102)
    stack.deliver_email(email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person))))
    before = len(sent)
    stack.run_pipeline()
    assert len(sent) > before and shard.items == []


def _transact(stack: LocalStack, items: list[dict[str, object]]) -> None:
    stack.client("dynamodb").transact_write_items(TransactItems=items)


def test_a_failed_transaction_leaves_items_and_stream_as_they_were(stack: LocalStack) -> None:
    table = stack.resources["RegisterTable"]
    dynamodb = stack.client("dynamodb")
    key = {"PK": {"S": f"H7TEST#{uuid.uuid4().hex}"}, "SK": {"S": "A"}}
    dynamodb.put_item(TableName=table, Item={**key, "value": {"S": "before"}})
    new = {"PK": key["PK"], "SK": {"S": "B"}}
    shard = _shard(stack)
    length = len(shard.items)
    with pytest.raises(ClientError, match="TransactionCanceled"):
        _transact(
            stack,
            [
                {"Put": {"TableName": table, "Item": {**new, "value": {"S": "new"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": key,
                        "UpdateExpression": "SET #v = :v",
                        "ExpressionAttributeNames": {"#v": "value"},
                        "ExpressionAttributeValues": {":v": {"S": "changed"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"PK": key["PK"], "SK": {"S": "C"}},
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ],
        )
    assert dynamodb.get_item(TableName=table, Key=key)["Item"]["value"] == {"S": "before"}
    assert "Item" not in dynamodb.get_item(TableName=table, Key=new)
    assert len(shard.items) == length
    # And one that succeeds writes as before.
    _transact(stack, [{"Put": {"TableName": table, "Item": {**new, "value": {"S": "new"}}}}])
    assert dynamodb.get_item(TableName=table, Key=new)["Item"]["value"] == {"S": "new"}
    dynamodb.delete_item(TableName=table, Key=key)
    dynamodb.delete_item(TableName=table, Key=new)


def test_the_log_lines_kept_are_bounded_when_asked(stack: LocalStack) -> None:
    limit, stack.log_limit = stack.log_limit, 3
    try:
        for _ in range(3):
            stack.invoke("sweeper", {})
        assert 0 < len(stack.log_lines) <= 3
    finally:
        stack.log_limit = limit


def test_moments_already_past_are_forgotten_by_the_next_advance(stack: LocalStack) -> None:
    offset = stack.clock_offset
    stack._fired.add(("h7-long-ago", datetime(2020, 1, 1, tzinfo=UTC)))
    start = stack.now()
    try:
        stack.advance(0.0001)
        assert all(moment > start for _, moment in stack._fired)
    finally:
        stack.clock_offset = offset  # other tests keep today's clock


def test_clients_are_made_once_per_service(stack: LocalStack) -> None:
    assert stack.client("s3") is stack.client("s3")


def test_sent_mail_leaves_moto_for_the_maildir(stack: LocalStack, tmp_path: Path) -> None:
    backend = get_backend("ses")[ACCOUNT][REGION]
    kept, backend.sent_messages[:] = list(backend.sent_messages), []
    try:
        stack.client("sesv2").send_email(
            FromEmailAddress=stack.parameters["InboxAddress"],
            Destination={"ToAddresses": ["sam.patel@nhs.net"]},
            Content={"Simple": {"Subject": {"Data": "h7 one"}, "Body": {"Text": {"Data": "x"}}}},
        )
        stack.client("sesv2").send_email(
            FromEmailAddress=stack.parameters["InboxAddress"],
            Destination={"ToAddresses": ["sam.patel@nhs.net"]},
            Content={"Raw": {"Data": b"Subject: h7 two\r\nTo: sam.patel@nhs.net\r\n\r\nbody\r\n"}},
        )
        mailbox = LocalMailbox(tmp_path / "maildir", keep=1)
        delivered = mailbox.collect()
        assert [d.subject for d in delivered] == ["h7 one", "h7 two"]
        assert backend.sent_messages == []  # moto keeps nothing
        assert len(list((tmp_path / "maildir" / "new").iterdir())) == 2
        assert mailbox.message(delivered[0].key)["Subject"] == "h7 one"
        assert [d.subject for d in mailbox.recent] == ["h7 two"]  # the bounded list
        assert mailbox.count == 2
    finally:
        backend.sent_messages[:0] = kept


def test_raw_mail_expires_as_the_lifecycle_would(stack: LocalStack) -> None:
    s3 = stack.client("s3")
    bucket = f"h7-lifecycle-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    now = datetime(2026, 11, 23, tzinfo=UTC)
    arrivals = deque((now - timedelta(days=days), f"m{days}") for days in (10, 8, 1))
    for _, message_id in arrivals:
        s3.put_object(Bucket=bucket, Key=f"inbound/{message_id}", Body=b"x")
    assert expire_raw_mail(s3, bucket, arrivals, now - timedelta(days=7)) == 2
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert left == ["inbound/m1"] and list(arrivals) == [(now - timedelta(days=1), "m1")]


def _items_outside_every_table() -> int:
    """moto Items alive that no table holds: copies a read or a write made and nobody let go."""
    from moto.dynamodb.models.dynamo_type import Item

    held: set[int] = set()
    for regions in get_backend("dynamodb").values():
        for backend in regions.values():
            for table in backend.tables.values():
                held.update(id(item) for item in table.all_items())
    gc.collect()
    return sum(1 for thing in gc.get_objects() if type(thing) is Item and id(thing) not in held)


def test_moto_keeps_nothing_it_made_once_it_lets_go(stack: LocalStack) -> None:
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import StreamRecord
    from moto.dynamodbstreams.models import ShardIterator
    from moto.s3.models import FakeKey
    from moto.sqs.models import Message

    person = child(88103)
    stack.deliver_email(email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person))))
    stack.run_pipeline()
    table = stack.resources["RegisterTable"]
    # A scan copies every item of the table it reads (moto's Table.scan): each copy must go
    # with the response, not stay on a list of moto's for ever.
    before = _items_outside_every_table()
    scanned = sum(
        len(page["Items"])
        for _ in range(3)
        for page in stack.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    )
    assert scanned >= 3
    assert _items_outside_every_table() - before < scanned / 3
    for model in (Item, StreamRecord, ShardIterator, FakeKey, Message):
        assert vars(model)["instances_tracked"] == [], model.__name__


def test_ttl_finds_what_expired_without_a_scan(stack: LocalStack) -> None:
    table = stack.resources["RegisterTable"]
    dynamodb = stack.client("dynamodb")
    partition = f"H19TEST#{uuid.uuid4().hex}"
    expires = {"past": {"N": "1000"}, "now": {"N": "2000"}, "later": {"N": "3000"}}
    kept = {"none": {}, "text": {"expires_at": {"S": "1000"}}}
    for name, value in expires.items():
        dynamodb.put_item(
            TableName=table, Item={"PK": {"S": partition}, "SK": {"S": name}, "expires_at": value}
        )
    for name, attributes in kept.items():
        dynamodb.put_item(
            TableName=table, Item={"PK": {"S": partition}, "SK": {"S": name}, **attributes}
        )
    found = bounded.expired_keys(REGION, table, "expires_at", 2000)
    # Before `now` only (DynamoDB's `expires_at < :now`); a text value is not a TTL.
    assert [key for key in found if key["PK"]["S"] == partition] == [
        {"PK": {"S": partition}, "SK": {"S": "past"}}
    ]
    for name in [*expires, *kept]:
        dynamodb.delete_item(TableName=table, Key={"PK": {"S": partition}, "SK": {"S": name}})


def test_a_schedule_is_looked_for_as_scheduler_holds_it(stack: LocalStack) -> None:
    scheduler = stack.client("scheduler")
    name = f"h19-{uuid.uuid4().hex[:12]}"
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{stack.resources['DigestFunction']}"
    request = {
        "Name": name,
        "ScheduleExpression": "at(2031-02-03T04:05:06)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": arn, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/h19", "Input": "{}"},
    }
    scheduler.create_schedule(**request, State="DISABLED")
    try:
        window = (datetime(2031, 2, 3, tzinfo=UTC), datetime(2031, 2, 4, tzinfo=UTC))
        assert name not in [due[1] for due in stack._due_schedules(*window)]  # disabled
        # Moved, State left out: as in AWS it is enabled again, and due at its new time.
        scheduler.update_schedule(**{**request, "ScheduleExpression": "at(2031-02-03T07:00:00)"})
        due = [entry for entry in stack._due_schedules(*window) if entry[1] == name]
        assert [(moment, target["Arn"], target["Input"]) for moment, _, target in due] == [
            (datetime(2031, 2, 3, 7, tzinfo=UTC), arn, "{}")
        ]
    finally:
        scheduler.delete_schedule(Name=name)
