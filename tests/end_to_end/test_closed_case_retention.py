"""A closed case on the embedded stack: kept for ClosedCaseRetentionYears after it closed,
not a day less, then erased by the daily reconciliation to its tombstone, as a withdrawal
erases - nothing of the child left in the table or the bucket, nobody emailed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest

from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.samples import child, consent_pdf, email, referral_pdf, review_pdf, uk
from shared.adapters import client
from shared.adapters.mail_store import raw_mail_key
from shared.adapters.register_table import RegisterTable
from shared.case import CaseStatus, Closure, ClosureReason
from shared.outcome import Outcome
from shared.retention import RETENTION_LABEL, erasable_from
from shared.settings import Settings
from tests.integration.test_case_lifecycle import everything_stored, found, send

COORDINATOR = "dsr.coordinator@nhs.net"
PERSON = {**child(2461, age=9), "child_given_name": "Wilhelmina", "child_family_name": "Oakenshott"}


@pytest.fixture
def register(stack: LocalStack) -> Iterator[RegisterTable]:
    yield RegisterTable(client("dynamodb"), stack.resources["RegisterTable"])
    # The reconciliation ran years ahead: set every open case's schedule back to today's.
    stack.invoke("reconcile", {}, at=stack.now())


def reconcile_at(stack: LocalStack, moment: datetime) -> dict[str, object]:
    answer = stack.invoke("reconcile", {}, at=moment)
    stack.run_pipeline()  # the erase effects, from the stream
    return answer


def test_a_closed_case_is_erased_after_its_retention_and_not_a_day_before(
    stack: LocalStack, register: RegisterTable
) -> None:
    accepted = send(
        stack, register, email(("r.pdf", referral_pdf(**PERSON)), ("c.pdf", consent_pdf(**PERSON)))
    )
    assert accepted.outcome is Outcome.ACCEPTED and accepted.case_id
    case_id = accepted.case_id
    today = stack.now().date()
    removed = send(
        stack,
        register,
        email(
            ("review.pdf", review_pdf(PERSON, case_id, review_date=uk(today), rag_rating="",
                                      remove_from_register="/Yes",
                                      removal_reason="Risks now managed by the community team.")),
            sender=COORDINATOR,
        ),
    )  # fmt: skip
    assert removed.outcome is Outcome.UPDATED, removed.reasons
    case = register.case(case_id)
    assert case is not None and case.status is CaseStatus.CLOSED and case.closure is not None
    emails_of_case = [accepted.message_id, removed.message_id]
    bucket = stack.resources["RawMailBucket"]
    s3 = stack.client("s3")
    assert all(s3.list_objects_v2(Bucket=bucket, Prefix=raw_mail_key(m))["KeyCount"] == 1
               for m in emails_of_case)  # fmt: skip

    years = Settings.from_environment().closed_case_retention_years
    assert years == 6  # the template's default reached the function
    day = erasable_from(case.closure.on, years)
    sent_before = len(sent_emails())

    # The evening before: kept, with everything it holds.
    reconcile_at(stack, datetime.combine(day - timedelta(days=1), time(23, 59, 59), UTC))
    kept = register.case(case_id)
    assert kept is not None and kept.status is CaseStatus.CLOSED and kept.version == case.version
    assert found(PERSON, everything_stored(stack))

    # The day it runs out: erased to its tombstone, its emails and its lookup gone.
    lines_before = len(stack.log_lines)
    answer = reconcile_at(stack, datetime.combine(day, time(6, 0), UTC))
    assert "past their retention erased" in str(answer["summary"])
    tombstone = register.case(case_id)
    assert tombstone is not None and tombstone.status is CaseStatus.WITHDRAWN
    # Why and when it closed, and when that was recorded (years ago: no new panel pack leaver).
    assert case.closure.recorded_at is not None
    assert tombstone.closure == Closure(
        reason=ClosureReason.REMOVED_BY_PANEL, on=today, recorded_at=case.closure.recorded_at
    )
    assert tombstone.referral is None and tombstone.person_key == ""
    assert all(s3.list_objects_v2(Bucket=bucket, Prefix=raw_mail_key(m))["KeyCount"] == 0
               for m in emails_of_case)  # fmt: skip
    assert register.case_events(case_id) == []
    assert found(PERSON, everything_stored(stack)) == set()
    # Audited by case reference and label; counted in the metric; nobody emailed.
    moment = datetime.combine(day, time(6, 0), UTC)
    audited = [e for e in register.audit_entries(moment, moment) if e.case_id == case_id]
    assert [entry.label for entry in audited] == [RETENTION_LABEL]
    assert len(sent_emails()) == sent_before
    logged = stack.log_lines[lines_before:]
    metrics = [json.loads(line) for line in logged if '"ClosedCasesErased"' in line]
    counted = metrics[0]["ClosedCasesErased"] if metrics else 0
    assert (sum(counted) if isinstance(counted, list) else counted) >= 1  # EMF may list values
    assert not found(PERSON, "\n".join(logged))

    # The next day's run leaves the tombstone as it is.
    reconcile_at(stack, datetime.combine(day + timedelta(days=1), time(6, 0), UTC))
    assert register.case(case_id) == tombstone
