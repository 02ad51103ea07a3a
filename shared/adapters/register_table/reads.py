"""Reading the register: a case, the child's case, an email's outcome, a held withdrawal, the
events of a case, the audit trail, and the Graph route's place in the mailbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.adapters.register_table.keys import (
    MAILBOX_DELTA_KEY,
    audit_partition,
    case_event_id,
    case_events_partition,
    case_key,
    header_key,
    held_reference,
    hold_key,
    person_holds_partition,
    person_lookup_key,
    submission_key,
    text,
)
from shared.adapters.register_table.table import TableAccess
from shared.case import AuditEntry, Case, Submission, email_of
from shared.holds import HeldWithdrawal


def _case_of(item: dict[str, Any]) -> Case:
    case = Case.model_validate_json(item["case"]["S"])
    case.version = int(item["version"]["N"])
    return case


class CaseReads(TableAccess):
    # Reads the intake decision needs (the `Register` protocol of shared.intake).
    def case_for_person(self, person_key: str) -> Case | None:
        person = self._get(person_lookup_key(person_key))
        return self.case(person["case_id"]["S"]) if person else None

    def first_submission_with_header(self, header_message_id: str) -> str | None:
        item = self._get(header_key(header_message_id))
        return item["message_id"]["S"] if item else None

    def case(self, case_id: str) -> Case | None:
        item = self._get(case_key(case_id))
        return _case_of(item) if item is not None else None

    def held_withdrawal(self, reference: str) -> HeldWithdrawal | None:
        item = self._get(hold_key(reference))
        return HeldWithdrawal.model_validate_json(item["hold"]["S"]) if item else None

    def holds_for_person(self, person_key: str) -> list[HeldWithdrawal]:
        found = []
        for link in self._query_keys(person_holds_partition(person_key)):
            held = self.held_withdrawal(held_reference(link))
            if held is not None:
                found.append(held)
        return found

    # The Graph route's place in the shared mailbox's Inbox: MAILBOX#inbox / DELTA holds the
    # delta link (Graph's opaque state token, no personal data). The MailboxFunction's role
    # may touch this one item only (dynamodb:LeadingKeys).
    def mailbox_delta_link(self) -> str | None:
        item = self._get(MAILBOX_DELTA_KEY)
        return item["delta_link"]["S"] if item else None

    def save_mailbox_delta_link(self, delta_link: str) -> None:
        self.dynamodb.put_item(
            TableName=self.table_name,
            Item={**MAILBOX_DELTA_KEY, "delta_link": text(delta_link)},
        )

    def submission(self, message_id: str) -> Submission | None:
        item = self._get(submission_key(message_id))
        return Submission.model_validate_json(item["submission"]["S"]) if item else None

    def audit_entries(self, since: datetime, until: datetime) -> list[AuditEntry]:
        """The audit trail between two moments (inclusive), oldest first."""
        entries = []
        month = datetime(since.year, since.month, 1, tzinfo=since.tzinfo)
        while month <= until:
            paginator = self.dynamodb.get_paginator("query")
            for page in paginator.paginate(
                TableName=self.table_name,
                KeyConditionExpression="PK = :month AND SK BETWEEN :since AND :until",
                ExpressionAttributeValues={
                    ":month": text(audit_partition(month)),
                    ":since": text(since.isoformat()),
                    ":until": text(until.isoformat() + "~"),
                },
            ):
                entries += [_audit_entry(item) for item in page["Items"]]
            month = datetime(
                month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=month.tzinfo
            )
        return entries

    def cases(self) -> list[Case]:
        cases = []
        paginator = self.dynamodb.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self.table_name,
            FilterExpression="SK = :case",
            ExpressionAttributeValues={":case": text("CASE")},
        ):
            cases += [_case_of(item) for item in page["Items"]]
        return sorted(cases, key=lambda case: case.created_at)

    def case_events(self, case_id: str) -> list[str]:
        """Every event (email or change) recorded about the case."""
        return [case_event_id(item) for item in self._query_keys(case_events_partition(case_id))]

    def unrecorded_emails(self, case_id: str) -> list[str]:
        emails = []
        for item in self._query_items(case_events_partition(case_id)):
            if item.get("kind", {}).get("S") != "email":
                continue
            message_id = email_of(case_event_id(item))
            if self._get(submission_key(message_id)) is None:
                emails.append(message_id)
        return list(dict.fromkeys(emails))


def _audit_entry(item: dict[str, Any]) -> AuditEntry:
    at, _, event_id = item["SK"]["S"].partition("#")
    codes = item.get("reason_codes", {}).get("S", "")
    return AuditEntry(
        at=datetime.fromisoformat(at),
        event_id=event_id,
        outcome=item["outcome"]["S"] if "outcome" in item else None,
        label=item["label"]["S"] if "label" in item else None,
        reason_codes=tuple(code for code in codes.split(",") if code),
        case_id=item["case_id"]["S"] if "case_id" in item else None,
        **{
            name: item[name]["S"]
            for name in ("actor_sub", "actor_role", "actor_email")
            if name in item
        },
    )
