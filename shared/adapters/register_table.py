"""The register's DynamoDB table: the one place that knows its keys.

| item       | PK                      | SK                 |
| ---------- | ----------------------- | ------------------ |
| case       | CASE#<case id>          | CASE               |
| person     | PERSON#<keyed hash>     | PERSON             |
| submission | SUBMISSION#<SES msg id> | SUBMISSION         |
| header     | HEADER#<sha256>         | HEADER             |
| audit      | AUDIT#<yyyy-mm>         | <time>#<SES msg id>|
| outbox     | OUTBOX#<SES msg id>#<n> | OUTBOX             |

Every state change for one email is ONE transaction with conditions, so a redelivered or
stale message can neither create a second case nor overwrite a newer state.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from shared.case import Case, Decision, EffectSummary, Submission
from shared.errors import AlreadyRecordedError, ConcurrentChangeError
from shared.outcome import Outcome

OUTBOX_PREFIX = "OUTBOX#"
IDEMPOTENCY_PK = "IDEMPOTENCY#effects"
TTL_ATTRIBUTE = "expires_at"
OUTBOX_RETENTION = timedelta(days=30)


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    return {"PK": _s(pk), "SK": _s(sk)}


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def header_key(header_message_id: str) -> str:
    return "HEADER#" + hashlib.sha256(header_message_id.strip().encode("utf-8")).hexdigest()


class RegisterTable:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self.dynamodb.get_item(
            TableName=self.table_name, Key=_key(pk, sk), ConsistentRead=True
        )
        item: dict[str, Any] | None = response.get("Item")
        return item

    # Reads the intake decision needs (the `Register` protocol of shared.intake).
    def case_for_person(self, person_key: str) -> Case | None:
        person = self._get(f"PERSON#{person_key}", "PERSON")
        return self.case(person["case_id"]["S"]) if person else None

    def first_submission_with_header(self, header_message_id: str) -> str | None:
        item = self._get(header_key(header_message_id), "HEADER")
        return item["message_id"]["S"] if item else None

    def case(self, case_id: str) -> Case | None:
        item = self._get(f"CASE#{case_id}", "CASE")
        if item is None:
            return None
        case = Case.model_validate_json(item["case"]["S"])
        case.version = int(item["version"]["N"])
        return case

    def submission(self, message_id: str) -> Submission | None:
        item = self._get(f"SUBMISSION#{message_id}", "SUBMISSION")
        return Submission.model_validate_json(item["submission"]["S"]) if item else None

    def cases(self) -> list[Case]:
        cases = []
        paginator = self.dynamodb.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self.table_name,
            FilterExpression="SK = :case",
            ExpressionAttributeValues={":case": _s("CASE")},
        ):
            for item in page["Items"]:
                case = Case.model_validate_json(item["case"]["S"])
                case.version = int(item["version"]["N"])
                cases.append(case)
        return sorted(cases, key=lambda case: case.created_at)

    def record(
        self, message_id: str, header_message_id: str | None, decision: Decision, now: datetime
    ) -> Submission:
        """Store the outcome, the case, an audit event and the outbox, all or nothing."""
        submission = Submission(
            message_id=message_id,
            outcome=decision.outcome,
            case_id=decision.case_id,
            reasons=decision.reasons,
            effects=[EffectSummary.of(effect) for effect in decision.effects],
            received_at=now,
        )
        writes: list[dict[str, Any]] = [
            self._put(
                {
                    **_key(f"SUBMISSION#{message_id}", "SUBMISSION"),
                    "outcome": _s(decision.outcome.value),
                    "submission": _s(submission.model_dump_json()),
                },
                "attribute_not_exists(PK)",
            ),
            self._put(
                {
                    **_key(f"AUDIT#{now:%Y-%m}", f"{now.isoformat()}#{message_id}"),
                    "outcome": _s(decision.outcome.value),
                    "reason_codes": _s(",".join(reason.code.value for reason in decision.reasons)),
                    **({"case_id": _s(decision.case_id)} if decision.case_id else {}),
                }
            ),
        ]
        if header_message_id and decision.outcome is not Outcome.DUPLICATE:
            writes.append(
                self._put(
                    {**_key(header_key(header_message_id), "HEADER"), "message_id": _s(message_id)},
                    "attribute_not_exists(PK)",
                )
            )
        if decision.case is not None:
            writes += self._case_writes(decision.case, now)
        for number, effect in enumerate(decision.effects):
            writes.append(
                self._put(
                    {
                        **_key(f"{OUTBOX_PREFIX}{message_id}#{number:02d}", "OUTBOX"),
                        "effect": _s(effect.model_dump_json()),
                        "message_id": _s(message_id),
                        **({"case_id": _s(decision.case_id)} if decision.case_id else {}),
                        TTL_ATTRIBUTE: _n(_epoch(now + OUTBOX_RETENTION)),
                    },
                    "attribute_not_exists(PK)",
                )
            )
        try:
            self.dynamodb.transact_write_items(TransactItems=writes)
        except self.dynamodb.exceptions.TransactionCanceledException as error:
            codes = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if codes and codes[0] == "ConditionalCheckFailed":
                raise AlreadyRecordedError(message_id) from None
            raise ConcurrentChangeError(
                f"register changed while recording {message_id}: {codes}"
            ) from None
        return submission

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

    def _case_writes(self, case: Case, now: datetime) -> list[dict[str, Any]]:
        expected = case.version
        expiry = (
            {TTL_ATTRIBUTE: _n(_epoch(case.pending_expires_at))} if case.pending_expires_at else {}
        )
        case_item = {
            **_key(f"CASE#{case.case_id}", "CASE"),
            "status": _s(case.status.value),
            "version": _n(expected + 1),
            "case": _s(case.model_dump_json(exclude={"version"})),
            **expiry,
        }
        person_item = {
            **_key(f"PERSON#{case.person_key}", "PERSON"),
            "case_id": _s(case.case_id),
            **expiry,
        }
        if expected == 0:
            return [
                self._put(case_item, "attribute_not_exists(PK)"),
                # A lapsed pending case (expired, not yet removed by TTL) may be replaced.
                self._put(
                    person_item,
                    f"attribute_not_exists(PK) OR {TTL_ATTRIBUTE} < :now",
                    {":now": _n(_epoch(now))},
                ),
            ]
        return [
            self._put(case_item, "version = :expected", {":expected": _n(expected)}),
            self._put(person_item, "case_id = :case_id", {":case_id": _s(case.case_id)}),
        ]


def outbox_effect_json(new_image: dict[str, Any]) -> str | None:
    """The effect an outbox item carries, from a stream record's new image (None if not outbox)."""
    pk = new_image.get("PK", {}).get("S", "")
    if not pk.startswith(OUTBOX_PREFIX):
        return None
    effect: str = new_image["effect"]["S"]
    return effect
