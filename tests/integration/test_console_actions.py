"""The console's actions on the embedded stack: each recorded in one transaction with its
outbox and an audit line naming who did it, once however often the form is sent, and the
effects delivered as an email's are (answers, schedules, erasure)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.sample_documents import scanned_pdf
from infrastructure.samples import (
    child,
    consent_fields,
    consent_pdf,
    email,
    referral_fields,
    referral_pdf,
    uk,
    years_ago,
)
from shared.adapters.console_register import ConsoleRegisterTable
from shared.case import Actor, AuditEntry, CaseStatus, StaffRole, Submission
from shared.console.manual_entry import EnteredForm
from shared.console.service import ConsoleService
from shared.errors import ActionRefusedError, RawMailMissingError
from shared.forms.fields import FormKind
from shared.outcome import Outcome
from tests.integration.test_case_lifecycle import everything_stored, found

COORDINATOR = Actor(sub="c0ffee-sub", email="dsr.coordinator@nhs.net", role=StaffRole.COORDINATOR)
PANEL = Actor(sub="pane1-sub", email="panel.member@nhs.net", role=StaffRole.PANEL)


def send(stack: LocalStack, register: ConsoleRegisterTable, raw: bytes) -> Submission:
    message_id = stack.deliver_email(raw)
    stack.run_pipeline()
    submission = register.submission(message_id)
    assert submission is not None
    return submission


def on_register(stack: LocalStack, register: ConsoleRegisterTable, person: dict[str, str]) -> str:
    accepted = send(stack, register, email(("r.pdf", referral_pdf(**person)),
                                           ("c.pdf", consent_pdf(**person))))  # fmt: skip
    assert accepted.outcome is Outcome.ACCEPTED and accepted.case_id
    return accepted.case_id


def audit_of(stack: LocalStack, register: ConsoleRegisterTable, event_id: str) -> AuditEntry:
    case_lines = register.audit_entries(stack.now().replace(day=1, hour=0), stack.now())
    [line] = [entry for entry in case_lines if entry.event_id == event_id]
    return line


def raw_items(stack: LocalStack, pk: str) -> list[dict[str, Any]]:
    response = stack.client("dynamodb").query(
        TableName=stack.resources["RegisterTable"],
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
    )
    items: list[dict[str, Any]] = response["Items"]
    return items


def test_a_correction_is_recorded_once_audited_by_whom_and_without_values(
    stack: LocalStack, register: ConsoleRegisterTable, console: ConsoleService
) -> None:
    case_id = on_register(stack, register, child(1201))
    version = register.case(case_id).version  # type: ignore[union-attr]
    token = "tok-correct-1201-abcdef"
    done = console.correct(COORDINATOR, token, case_id, "postcode", "br6 0aa", "Typo")
    again = console.correct(COORDINATOR, token, case_id, "postcode", "br6 0aa", "Typo")
    assert again.already and again.event_id == done.event_id
    case = register.case(case_id)
    assert case is not None and case.version == version + 1 and case.referral is not None
    assert case.referral.postcode == "BR6 0AA"
    assert [(c.old, c.new, c.by.sub) for c in case.corrections] == [("BR1 3AA", "BR6 0AA", COORDINATOR.sub)]
    line = audit_of(stack, register, done.event_id)
    assert line.label == "console:correct:postcode" and line.case_id == case_id
    assert (line.actor_sub, line.actor_role, line.actor_email) == (
        COORDINATOR.sub, "coordinator", COORDINATOR.email)  # fmt: skip
    [item] = [i for i in raw_items(stack, f"AUDIT#{stack.now():%Y-%m}")
              if i["SK"]["S"].endswith(done.event_id)]  # fmt: skip
    assert "BR6" not in str(item) and "BR1" not in str(item)
    assert done.event_id in register.case_events(case_id)
    with pytest.raises(ActionRefusedError, match="role:panel"):
        console.correct(PANEL, "tok-correct-1201-panel0", case_id, "postcode", "BR5 1AA", "x")
    assert register.case(case_id).version == version + 1  # type: ignore[union-attr]


def test_a_date_of_birth_correction_queues_the_schedule_it_moves(
    stack: LocalStack, register: ConsoleRegisterTable, console: ConsoleService
) -> None:
    case_id = on_register(stack, register, child(1202))
    done = console.correct(COORDINATOR, "tok-correct-1202-abcdef", case_id, "date_of_birth",
                           uk(years_ago(16, days=10)), "Birth certificate seen")  # fmt: skip
    [outbox] = raw_items(stack, f"OUTBOX#{done.event_id}")
    assert json.loads(outbox["effect"]["S"]) == {
        "kind": "schedule", "case_id": case_id, "at": json.loads(outbox["effect"]["S"])["at"]}  # fmt: skip
    stack.run_pipeline()
    assert raw_items(stack, f"OUTBOX#{done.event_id}") == []  # delivered


def test_a_panel_review_and_a_view_are_audited_with_the_actor(
    stack: LocalStack, register: ConsoleRegisterTable, console: ConsoleService
) -> None:
    case_id = on_register(stack, register, child(1203))
    assert console.view_case(PANEL, case_id) is not None
    [view] = [e for e in register.case_audit(register.case(case_id), stack.now())  # type: ignore[arg-type]
              if e.label == "console:view:case"]  # fmt: skip
    assert view.actor_sub == PANEL.sub and view.actor_role == "panel"
    typed = {"review_date": uk(stack.now().date()), "rag_rating": "Green",
             "outcome_summary": "Stable at home; plan working."}  # fmt: skip
    done = console.review(PANEL, "tok-review-1203-abcdef", case_id, typed)
    assert done.outcome == "updated" and done.case_id == case_id
    case = register.case(case_id)
    assert case is not None and case.rating is not None and case.rating.value == "Green"
    assert case.reviews[-1].reviewer_name == PANEL.email
    line = audit_of(stack, register, done.event_id)
    assert (line.outcome, line.label, line.actor_role) == ("updated", "console:review", "panel")
    before = len(sent_emails())
    stack.run_pipeline()
    told = [m for m in sent_emails()[before:] if case_id in m.subject + m.body]
    assert told and all(PANEL.email not in m.to for m in told)  # coordinators, not the actor


def test_a_withdrawal_from_the_console_erases_the_person_everywhere(
    stack: LocalStack, register: ConsoleRegisterTable, console: ConsoleService
) -> None:
    person = {**child(1204), "child_given_name": "Marisol", "child_family_name": "Featherstonehaugh"}
    case_id = on_register(stack, register, person)
    typed = {"child_nhs_number": person["child_nhs_number"],
             "child_date_of_birth": person["child_date_of_birth"],
             "withdrawn_by_name": "Parent", "withdrawn_by_relationship": "Mother",
             "withdrawal_date": uk(stack.now().date())}  # fmt: skip
    with pytest.raises(ActionRefusedError, match="role:panel"):
        console.withdraw(PANEL, "tok-withdraw-1204-panel", case_id, typed)
    done = console.withdraw(COORDINATOR, "tok-withdraw-1204-abcde", case_id, typed)
    assert done.outcome == "withdrawn"
    stack.run_pipeline()
    case = register.case(case_id)
    assert case is not None and case.status is CaseStatus.WITHDRAWN and case.child is None
    assert found(person, everything_stored(stack)) == set()
    assert audit_of(stack, register, done.event_id).actor_sub == COORDINATOR.sub


def test_a_released_email_is_decided_as_from_its_sender_once(
    stack: LocalStack, register: ConsoleRegisterTable, console: ConsoleService
) -> None:
    person = child(1205)
    # DMARC failed, so quarantined (a proved family's email waits as a self-referral).
    raw = email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person)),
                sender="a.family@example.com",
                auth="spf=pass; dkim=pass; dmarc=fail header.from=example.com")  # fmt: skip
    quarantined = send(stack, register, raw)
    assert quarantined.outcome is Outcome.QUARANTINED
    done = console.release(COORDINATOR, quarantined.message_id)
    assert done.outcome == "accepted" and done.case_id
    assert done.event_id == f"{quarantined.message_id}.triage"
    with pytest.raises(ActionRefusedError, match="triaged"):
        console.release(COORDINATOR, quarantined.message_id)
    with pytest.raises(ActionRefusedError, match="triaged"):
        console.dismiss(COORDINATOR, quarantined.message_id)
    line = audit_of(stack, register, done.event_id)
    assert (line.label, line.actor_sub, line.outcome) == ("console:release", COORDINATOR.sub, "accepted")
    before = len(sent_emails())
    stack.run_pipeline()
    [answer] = [m for m in sent_emails()[before:] if m.to == ("a.family@example.com",)]
    assert done.case_id in answer.body
    assert person["child_family_name"] not in answer.body + answer.subject
    # The same email sent again is judged untrusted again, and released it is a copy of one
    # already decided: no second case, nobody answered twice.
    resent = send(stack, register, raw)
    assert resent.outcome is Outcome.QUARANTINED
    copy = console.release(COORDINATOR, resent.message_id)
    assert copy.outcome == "duplicate" and copy.case_id is None


def test_a_virus_is_dismissed_and_erased_never_released(
    stack: LocalStack, register: ConsoleRegisterTable, console: ConsoleService
) -> None:
    quarantined = send(stack, register, email(("r.pdf", referral_pdf(**child(1206))),
                                              virus="FAIL"))  # fmt: skip
    with pytest.raises(ActionRefusedError, match="spam-or-virus"):
        console.release(COORDINATOR, quarantined.message_id)
    before = len(sent_emails())
    done = console.dismiss(COORDINATOR, quarantined.message_id)
    assert done.outcome == "quarantined"
    assert audit_of(stack, register, done.event_id).label == "console:dismiss"
    with pytest.raises(RawMailMissingError):
        console.mail.raw_email(quarantined.message_id)
    stack.run_pipeline()
    assert sent_emails()[before:] == []  # nobody answered
    assert console.dismiss(COORDINATOR, quarantined.message_id).already


def test_a_scan_entered_by_hand_makes_the_case_once_and_is_erased_with_it(
    stack: LocalStack, register: ConsoleRegisterTable, console: ConsoleService
) -> None:
    person = child(1207)
    rejected = send(stack, register, email(("scan.pdf", scanned_pdf())))
    assert rejected.outcome is Outcome.REJECTED
    entered = [EnteredForm(1, FormKind.REFERRAL, referral_fields(**person)),
               EnteredForm(1, FormKind.CONSENT, consent_fields(**person))]  # fmt: skip
    done = console.enter_by_hand(COORDINATOR, rejected.message_id, entered)
    assert done.outcome == "accepted" and done.case_id
    assert console.enter_by_hand(COORDINATOR, rejected.message_id, entered).already
    case = register.case(done.case_id)
    assert case is not None and case.submissions == [f"{rejected.message_id}.entry"]
    assert audit_of(stack, register, done.event_id).label == "console:enter"
    stack.run_pipeline()
    # The subject access export holds the scan as it came, and its own audit line.
    archive = zipfile.ZipFile(io.BytesIO(console.export_subject_access(COORDINATOR, done.case_id)))
    assert archive.read("files/email-1/attachment-1.pdf") == scanned_pdf()
    audit = json.loads(archive.read("audit.json"))
    assert {"console:enter", "console:export:sar"} <= {line["label"] for line in audit}
    with pytest.raises(ActionRefusedError, match="role:panel"):
        console.export_subject_access(PANEL, done.case_id)
    # Withdrawn: the scan (the email the entry was made from) is erased with the case.
    typed = {"child_nhs_number": person["child_nhs_number"],
             "child_date_of_birth": person["child_date_of_birth"], "withdrawn_by_name": "Self",
             "withdrawn_by_relationship": "self", "withdrawal_date": uk(stack.now().date())}  # fmt: skip
    console.withdraw(COORDINATOR, "tok-withdraw-1207-abcde", done.case_id, typed)
    stack.run_pipeline()
    with pytest.raises(RawMailMissingError):
        console.mail.raw_email(rejected.message_id)
