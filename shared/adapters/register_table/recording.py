"""Recording an event: an email's decision (`record`) or a change not caused by an email
(`record_change`) - its outcome, the case, the audit line, held withdrawals, the outbox and
the triage marks - as ONE transaction with conditions, all or nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.adapters.register_table.case_items import CaseItems
from shared.adapters.register_table.keys import (
    EVENT_GUARD_RETENTION,
    OUTCOME_GUARD_RETENTION,
    TRIAGE_ATTRIBUTES,
    TRIAGE_WAITING,
    TTL_ATTRIBUTE,
    actor_attributes,
    audit_key,
    epoch,
    event_key,
    header_key,
    hold_key,
    number,
    person_hold_key,
    submission_key,
    text,
    triage_key,
    triage_mark,
)
from shared.adapters.register_table.outbox import OutboxTable
from shared.case import (
    Actor,
    CaseChange,
    Decision,
    EffectSummary,
    RegisterReads,
    Submission,
    part_submission_id,
)
from shared.console.waiting import change_waits, decision_waits
from shared.errors import AlreadyRecordedError, ConcurrentChangeError
from shared.outcome import Outcome


class Recording(CaseItems, OutboxTable):
    def record(
        self,
        message_id: str,
        header_message_id: str | None,
        decision: Decision,
        now: datetime,
        reads: RegisterReads | None = None,
        *,
        actor: Actor | None = None,
        label: str | None = None,
        resolves: str | None = None,
    ) -> Submission:
        """Store the outcome, the case, an audit event and the outbox, all or nothing - and
        only while what the decision read (`reads`) is still so. A console action's decision
        (shared.console) is audited with its `label` and `actor`, and takes the triage item
        it `resolves` out of the queue."""
        submission = Submission(
            message_id=message_id,
            outcome=decision.outcome,
            case_id=decision.case_id,
            reasons=decision.reasons,
            effects=[EffectSummary.of(effect) for effect in decision.effects],
            received_at=now,
            parts=[part_submission_id(message_id, n) for n in range(1, len(decision.parts) + 1)],
        )
        guard_expiry = {TTL_ATTRIBUTE: number(epoch(now + OUTCOME_GUARD_RETENTION))}
        # An email about no case expires; a case's (and a summary of parts) is kept with it.
        outcome_expiry = guard_expiry if decision.case_id is None and not decision.parts else {}
        waits = decision_waits(decision)
        writes: list[dict[str, Any]] = [
            self._put(
                {
                    **submission_key(message_id),
                    "outcome": text(decision.outcome.value),
                    "submission": text(submission.model_dump_json()),
                    **outcome_expiry,
                    **(triage_mark(TRIAGE_WAITING, now.isoformat(), waits) if waits else {}),
                },
                "attribute_not_exists(PK)",
            ),
            self._put(
                {
                    **audit_key(now, message_id),
                    "outcome": text(decision.outcome.value),
                    "reason_codes": text(
                        ",".join(reason.code.value for reason in decision.reasons)
                    ),
                    **({"case_id": text(decision.case_id)} if decision.case_id else {}),
                    **({"label": text(label)} if label else {}),
                    **actor_attributes(actor),
                }
            ),
        ]
        # Only trusted mail reserves its sender and Message-ID: a quarantined forgery must not
        # make the genuine email, sent later, a silent duplicate. A copy of an email already
        # recorded (a DUPLICATE about no case) finds it reserved already.
        reserves = decision.outcome is not Outcome.QUARANTINED and (
            decision.outcome is not Outcome.DUPLICATE or decision.related_case_id is not None
        )
        if header_message_id and reserves:
            writes.append(
                self._put(
                    {
                        **header_key(header_message_id),
                        "message_id": text(message_id),
                        **guard_expiry,
                    },
                    "attribute_not_exists(PK)",
                )
            )
        if decision.case is not None:
            writes += self._case_writes(decision.case, now)
        if decision.forget_person_key:
            writes.append(self._forget_person(decision.forget_person_key, decision.case_id))
        if decision.answered_once:
            # Read as a header key by the decision; a race for it is decided again.
            writes.append(
                self._put(
                    {
                        **header_key(decision.answered_once),
                        "message_id": text(message_id),
                        TTL_ATTRIBUTE: number(epoch(now + EVENT_GUARD_RETENTION)),
                    },
                    "attribute_not_exists(PK)",
                )
            )
        if decision.hold is not None:
            writes += self._hold(decision.hold, now)
        for held in decision.purged_holds:
            if held.reference != decision.release_hold:  # that one is deleted just below
                writes.append(self._delete(hold_key(held.reference)))
            if held.person_key:
                writes.append(self._delete(person_hold_key(held.person_key, held.reference)))
            if decision.case_id:
                # Listed with the case: the held email is erased with it.
                writes.append(self._case_event(decision.case_id, held.message_id, "email"))
        if decision.release_hold:
            # Once: a second confirmation of the same hold is decided again and finds it gone.
            writes.append(
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": hold_key(decision.release_hold),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                }
            )
        if decision.case_id:
            writes.append(self._case_event(decision.case_id, message_id, "email"))
        writes += self._outbox_writes(message_id, decision.effects, decision.case_id, now)
        if resolves:
            writes.append(self._resolve(resolves))
        if reads is not None:
            writes += self._read_checks(reads.excluding(decision))
        self._transact(writes, message_id)
        return submission

    def record_change(
        self,
        change: CaseChange,
        now: datetime,
        forget_person_key: str | None = None,
        *,
        resolves: str | None = None,
    ) -> None:
        """Store a change not caused by an email (reminder, panel pack, a retention erasure
        with `forget_person_key`, its person lookup) with its effects, once; a console
        change takes the triage item it `resolves` out of the queue."""
        case_id = change.case.case_id if change.case else None
        waits = change_waits(change)
        writes: list[dict[str, Any]] = [
            self._put(
                {
                    **event_key(change.event_id),
                    TTL_ATTRIBUTE: number(epoch(now + EVENT_GUARD_RETENTION)),
                    # A report waiting in Triage keeps what it was (no personal data).
                    **(triage_mark(TRIAGE_WAITING, now.isoformat(), waits) if waits else {}),
                    **({"label": text(change.label)} if waits else {}),
                },
                "attribute_not_exists(PK)",
            ),
            self._put(
                {
                    **audit_key(now, change.event_id),
                    "label": text(change.label),
                    **({"case_id": text(case_id)} if case_id else {}),
                    **actor_attributes(change.actor),
                }
            ),
        ]
        if change.case is not None:
            writes += self._case_writes(change.case, now)
            writes.append(self._case_event(change.case.case_id, change.event_id, "change"))
        if forget_person_key:
            writes.append(self._forget_person(forget_person_key, case_id))
        writes += self._outbox_writes(change.event_id, change.effects, case_id, now)
        if resolves:
            writes.append(self._resolve(resolves))
        self._transact(writes, change.event_id)

    def _resolve(self, item_id: str) -> dict[str, Any]:
        """Out of the triage queue (the item itself stays: an email's outcome, a report)."""
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": triage_key(item_id),
                "UpdateExpression": "REMOVE " + ", ".join(TRIAGE_ATTRIBUTES),
                "ConditionExpression": "attribute_exists(PK)",
            }
        }

    def _transact(self, writes: list[dict[str, Any]], event_id: str) -> None:
        try:
            self.dynamodb.transact_write_items(TransactItems=writes)
        except self.dynamodb.exceptions.TransactionCanceledException as error:
            codes = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if codes and codes[0] == "ConditionalCheckFailed":
                raise AlreadyRecordedError(event_id) from None
            raise ConcurrentChangeError(
                f"register changed while recording {event_id}: {codes}"
            ) from None
