"""The triage queue on the embedded stack (template.yaml in moto's CloudFormation): what waits
is marked in the sparse TriageQueue index in the transaction that records it and unmarked in
the one that resolves it; self-referrals end to end - arrive, wait in Triage, verified into
a case or declined, and leave the queue."""

from __future__ import annotations

from typing import Any

import pytest

from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.samples import child, consent_pdf, email, referral_pdf
from shared.adapters.console_register import ConsoleRegisterTable
from shared.adapters.register_table.keys import TRIAGE_INDEX
from shared.case import Actor, CaseStatus, StaffRole
from shared.console.roles import ConsoleAction
from shared.console.service import ConsoleService
from shared.console.waiting import Waiting
from shared.errors import ActionRefusedError, RawMailMissingError
from shared.outcome import Outcome, ReasonCode

COORDINATOR = Actor(sub="tri-coord-sub", email="dsr.coordinator@nhs.net", role=StaffRole.COORDINATOR)
PANEL = Actor(sub="tri-panel-sub", email="panel.member@nhs.net", role=StaffRole.PANEL)
FAMILY = "mum.of.three@gmail.com"


def indexed(stack: LocalStack) -> dict[str, str]:
    """The WAITING queue as the index holds it: PK -> why."""
    response = stack.client("dynamodb").query(
        TableName=stack.resources["RegisterTable"],
        IndexName=TRIAGE_INDEX,
        KeyConditionExpression="triage_queue = :queue",
        ExpressionAttributeValues={":queue": {"S": "WAITING"}},
    )
    items: list[dict[str, Any]] = response["Items"]
    return {item["PK"]["S"]: item["triage_kind"]["S"] for item in items}


def family_email(person: dict[str, str]) -> bytes:
    return email(("referral.pdf", referral_pdf(**person)), ("consent.pdf", consent_pdf(**person)),
                 sender=FAMILY)  # fmt: skip


def arrive(stack: LocalStack, raw: bytes) -> str:
    message_id = stack.deliver_email(raw)
    stack.run_pipeline()
    return message_id


def test_a_self_referral_waits_in_triage_is_verified_into_a_case_and_leaves(
    stack: LocalStack, register: ConsoleRegisterTable, console: ConsoleService
) -> None:
    person = child(1321)
    before = len(sent_emails())
    message_id = arrive(stack, family_email(person))
    recorded = register.submission(message_id)
    assert recorded is not None and recorded.outcome is Outcome.PENDING
    assert [r.code for r in recorded.reasons] == [ReasonCode.AWAITING_VERIFICATION]
    assert recorded.case_id is None
    assert indexed(stack)[f"SUBMISSION#{message_id}"] == Waiting.SELF_REFERRAL.value
    told = [m for m in sent_emails()[before:] if FAMILY in m.to]
    assert len(told) == 1
    for value in (person["child_given_name"], person["child_family_name"],
                  person["child_nhs_number"], person["child_date_of_birth"]):  # fmt: skip
        assert value not in told[0].subject + told[0].body

    [item] = [i for i in console.triage(COORDINATOR) if i.message_id == message_id]
    assert item.why is Waiting.SELF_REFERRAL and item.sender == FAMILY
    assert [f.filename for f in item.files] == ["referral.pdf", "consent.pdf"]
    assert item.actions == (ConsoleAction.VERIFY, ConsoleAction.DECLINE)
    assert item.reference is not None and item.reference in told[0].body
    # The panel sees cases waiting, never the emails.
    assert all(i.message_id != message_id for i in console.triage(PANEL))
    with pytest.raises(ActionRefusedError, match="role:panel"):
        console.verify(PANEL, message_id)

    done = console.verify(COORDINATOR, message_id)
    assert done.outcome == Outcome.ACCEPTED.value and done.case_id == item.reference
    case = register.case(done.case_id)
    assert case is not None and case.status is CaseStatus.ACTIVE
    assert f"SUBMISSION#{message_id}" not in indexed(stack)
    assert all(i.message_id != message_id for i in console.triage(COORDINATOR))
    # Once: again, it is found done; declining it now is refused.
    assert console.verify(COORDINATOR, message_id).already
    with pytest.raises(ActionRefusedError, match="triaged") as refused:
        console.decline(COORDINATOR, message_id)
    assert "verified already" in refused.value.reasons[0].message
    stack.run_pipeline()
    accepted = [m for m in sent_emails()[before:] if FAMILY in m.to and done.case_id in m.body]
    assert len(accepted) == 2  # the reference at first, then the case accepted
    assert person["child_family_name"] not in accepted[-1].body


def test_a_declined_self_referral_is_answered_plainly_erased_and_leaves(
    stack: LocalStack, register: ConsoleRegisterTable, console: ConsoleService
) -> None:
    person = child(1322)
    message_id = arrive(stack, family_email(person))
    assert f"SUBMISSION#{message_id}" in indexed(stack)
    before = len(sent_emails())
    done = console.decline(COORDINATOR, message_id)
    assert done.outcome == Outcome.REJECTED.value and done.case_id is None
    assert f"SUBMISSION#{message_id}" not in indexed(stack)
    with pytest.raises(RawMailMissingError):
        console.mail.raw_email(message_id)
    assert console.decline(COORDINATOR, message_id).already
    stack.run_pipeline()
    [answer] = [m for m in sent_emails()[before:] if FAMILY in m.to]
    assert "not been taken forward" in answer.body
    assert person["child_family_name"] not in answer.body + answer.subject
    assert register.case_for_person(console.hasher.person_key(person["child_nhs_number"])) is None


def test_a_quarantined_email_is_marked_with_its_outcome_and_unmarked_by_its_dismissal(
    stack: LocalStack, register: ConsoleRegisterTable, console: ConsoleService
) -> None:
    auth = "spf=pass smtp.mailfrom=gmail.com; dkim=pass; dmarc=fail header.from=gmail.com"
    raw = email(("referral.pdf", referral_pdf(**child(1323))), sender=FAMILY, auth=auth)
    message_id = arrive(stack, raw)
    assert indexed(stack)[f"SUBMISSION#{message_id}"] == Waiting.QUARANTINED.value
    [item] = [i for i in console.triage(COORDINATOR) if i.message_id == message_id]
    assert ReasonCode.MAIL_AUTH_FAILED in {r.code for r in item.reasons}
    assert item.actions == (ConsoleAction.RELEASE, ConsoleAction.DISMISS)
    # A transaction that fails (its outcome recorded already) leaves the mark as it was.
    from shared.case import Decision

    with pytest.raises(Exception):  # noqa: B017 - AlreadyRecordedError, by its own condition
        register.record(message_id, None, Decision(outcome=Outcome.QUARANTINED), stack.now(),
                        resolves=f"email:{message_id}")  # fmt: skip
    assert f"SUBMISSION#{message_id}" in indexed(stack)
    console.dismiss(COORDINATOR, message_id)
    assert f"SUBMISSION#{message_id}" not in indexed(stack)
    # The dismissal retried (a form sent twice, a lost answer): still out, recorded once.
    assert console.dismiss(COORDINATOR, message_id).already
    assert f"SUBMISSION#{message_id}" not in indexed(stack)
    assert f"SUBMISSION#{message_id}.triage" not in indexed(stack)


def test_a_case_on_the_register_is_in_triage_only_once_its_review_is_overdue(
    stack: LocalStack, register: ConsoleRegisterTable, console: ConsoleService
) -> None:
    raw = email(("r.pdf", referral_pdf(**child(1324), suggested_rag="Red")),
                ("c.pdf", consent_pdf(**child(1324))))  # fmt: skip
    message_id = arrive(stack, raw)
    recorded = register.submission(message_id)
    assert recorded is not None and recorded.case_id is not None
    case_id = recorded.case_id
    assert all(i.case_id != case_id for i in console.triage(PANEL))
    case = register.case(case_id)
    assert case is not None and case.next_review_on is not None
    later = stack.now().replace(
        year=case.next_review_on.year, month=case.next_review_on.month,
        day=case.next_review_on.day,
    )  # fmt: skip
    console.clock = lambda: later + __import__("datetime").timedelta(days=2)
    [item] = [i for i in console.triage(PANEL) if i.case_id == case_id]
    assert item.why is Waiting.REVIEW_OVERDUE and item.actions == (
        ConsoleAction.VIEW_CASE, ConsoleAction.REVIEW)  # fmt: skip
