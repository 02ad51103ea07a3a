"""Erasing a case's events (consent withdrawn, a case past its retention): their outbox
items and the list of them go, and their emails' outcomes forget who was answered."""

from __future__ import annotations

import contextlib

from shared.adapters.register_table.keys import (
    case_events_partition,
    outbox_partition,
    submission_key,
    text,
)
from shared.adapters.register_table.reads import CaseReads
from shared.case import email_of


class CaseErasure(CaseReads):
    def erase_case_events(self, case_id: str, keep_event: str | None = None) -> int:
        """Delete the outbox items of the case's events (but `keep_event`'s: the erasing
        withdrawal's own answers), then the list of events itself. The outcomes recorded for
        its emails stay for the audit trail, without who was answered or the subjects."""
        deleted = 0
        for event_id in self.case_events(case_id):
            self._forget_recipients(event_id)
            if event_id != email_of(event_id):  # one child's part: the whole email's too
                self._forget_recipients(email_of(event_id))
            if event_id == keep_event:
                continue
            for item in self._query_keys(outbox_partition(event_id)):
                self.dynamodb.delete_item(TableName=self.table_name, Key=item)
                deleted += 1
        for item in self._query_keys(case_events_partition(case_id)):
            self.dynamodb.delete_item(TableName=self.table_name, Key=item)
        return deleted

    def _forget_recipients(self, message_id: str) -> None:
        """An erased case's email outcome keeps its outcome, reasons and kinds of effect, but
        not the addresses or subjects: at a secure address a subject is `Re: <theirs>`, which
        may name the child. Idempotent, so an erasure done again does it again harmlessly."""
        submission = self.submission(message_id)
        if submission is None or not any(e.to or e.subject for e in submission.effects):
            return
        effects = [e.model_copy(update={"to": None, "subject": None}) for e in submission.effects]
        forgotten = submission.model_copy(update={"effects": effects})
        # Gone meanwhile (an outcome about no case expires): nothing left to forget.
        with contextlib.suppress(self.dynamodb.exceptions.ConditionalCheckFailedException):
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key=submission_key(message_id),
                UpdateExpression="SET submission = :submission",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":submission": text(forgotten.model_dump_json())},
            )
