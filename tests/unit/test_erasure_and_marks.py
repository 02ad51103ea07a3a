"""Two ways an outbox item could be lost or wrongly reported: a failed read after the
"sending" mark, and a partial erasure reported as done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber

from shared.adapters.mail_store import RawMailStore
from shared.case import EmailEffect, EmailPurpose, OriginalFiles
from shared.effects import EffectDelivery
from shared.errors import ErasureIncompleteError
from shared.mail import Attachment
from shared.notices import Notices
from shared.schedules import ScheduleSync
from shared.settings import Settings
from tests.outbox_fakes import FakeMailer, FakeMailEraser, MemoryOutbox, MemoryScheduler

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class FlakyOriginals(FakeMailEraser):
    """S3 fails the first read of the raw email."""

    failures: int = 1

    def original_files(self, message_id: str, positions: tuple[int, ...]) -> list[Attachment]:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("S3 unavailable")
        return super().original_files(message_id, positions)


def test_a_failed_read_of_the_originals_leaves_the_email_free_to_be_sent() -> None:
    outbox, mailer = MemoryOutbox(), FakeMailer()
    effect = EmailEffect(
        purpose=EmailPurpose.MANUAL_ENTRY,
        to=("dsr.coordinator@nhs.net",),
        subject="s",
        body="b\n",
        originals=OriginalFiles(message_id="m", positions=(1,)),
    )
    [outbox_id] = outbox.add("m", [effect], None, NOW)
    originals = FlakyOriginals([Attachment(position=1, content_type="image/jpeg", content=b"j")])
    clock = [NOW]
    delivery = EffectDelivery(
        outbox,
        mailer,
        ScheduleSync(outbox, MemoryScheduler(), Settings(), lambda: clock[0]),
        originals,
        Notices(Settings()),
        lambda: clock[0],
    )
    with pytest.raises(ConnectionError):
        delivery.deliver(outbox_id)
    entry = outbox.outbox_entry(outbox_id)
    assert entry is not None and entry.sending_since is None, "not marked: nothing was sent"
    clock[0] = NOW + timedelta(minutes=20)  # the sweeper's turn
    assert delivery.deliver(outbox_id).startswith("email:manual_entry")
    assert len(mailer.sent) == 1 and outbox.items == {}


def test_an_erasure_s3_did_not_finish_is_not_reported_done() -> None:
    s3 = boto3.client("s3", region_name="eu-west-2")
    with Stubber(s3) as stub:
        stub.add_response("list_objects_v2", {"KeyCount": 0, "IsTruncated": False})
        stub.add_response(
            "delete_objects",
            {"Errors": [{"Key": "inbound/m1", "Code": "AccessDenied", "Message": "no"}]},
        )
        with pytest.raises(ErasureIncompleteError, match="AccessDenied") as raised:
            RawMailStore(s3, "bucket").erase("DSR-AB23CD45", ["m1"])
        assert "inbound/m1" not in str(raised.value), "keys are ids, but the message needs none"
