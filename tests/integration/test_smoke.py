"""`dsr-intake ops smoke` on the embedded stack: a synthetic referral through the inbox, its
answer, its schedule, its erasure; and the smoke fails clearly when the answer never comes or
when something of the case is left. Also `ops erase-test-case`, which refuses real cases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infrastructure import ops
from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.samples import child, consent_pdf, email, referral_pdf
from infrastructure.smoke import SmokeFailedError, SmokeTest
from infrastructure.smoke_routes import SMOKE_PREFIX, LocalRoute
from shared.adapters import client
from shared.adapters.mail_store import DERIVED_PREFIX
from shared.adapters.register_table import RegisterTable
from shared.adapters.review_schedule import schedule_name
from shared.case import CaseStatus
from shared.outcome import Outcome
from shared.panel_pack import PanelPackService
from shared.settings import Settings


@pytest.fixture
def target(stack: LocalStack) -> ops.LocalTarget:
    return ops.LocalTarget(stack)


@pytest.fixture
def register(stack: LocalStack) -> RegisterTable:
    return RegisterTable(client("dynamodb"), stack.resources["RegisterTable"])


def smoke(target: ops.LocalTarget, stack: LocalStack, said: list[str]) -> SmokeTest:
    return SmokeTest(
        target, LocalRoute(target, stack), said.append, wait_seconds=1, poll_seconds=0.2
    )


def smoke_answers(stack: LocalStack) -> list[str]:
    listed = stack.client("s3").list_objects_v2(
        Bucket=stack.resources["RawMailBucket"], Prefix=SMOKE_PREFIX
    )
    return [entry["Key"] for entry in listed.get("Contents", [])]


def test_the_smoke_passes_on_the_embedded_stack_and_leaves_nothing(
    stack: LocalStack, target: ops.LocalTarget, register: RegisterTable
) -> None:
    said: list[str] = []
    before = len(sent_emails())
    run = smoke(target, stack, said)
    lines = run.run()
    case_id = run.case_id
    assert case_id is not None and run.ses_message_id is not None
    assert lines == [
        f"smoke test passed: case {case_id} accepted, acknowledged and scheduled, then erased; "
        "nothing of it is left"
    ]
    assert f"{case_id} erased (test data): its tombstone is kept; smoke messages deleted: 1" in said
    # The acknowledgement went to the smoke address, threaded to the synthetic referral.
    answers = [e for e in sent_emails()[before:] if e.to == (stack.parameters["SmokeTestAddress"],)]
    assert [a.headers.get("In-Reply-To") for a in answers] == [run.referral.message_id]
    # The case is a tombstone; its email's outcome stays, without the child's details.
    tombstone = register.case(case_id)
    assert tombstone is not None and tombstone.status is CaseStatus.WITHDRAWN
    assert tombstone.child is None
    kept = register.submission(run.ses_message_id)
    assert kept is not None and kept.outcome is Outcome.ACCEPTED
    assert smoke_answers(stack) == []
    assert run._left_over() is None
    # What it printed names the case and message ids, never the synthetic child.
    printed = "\n".join(said + lines)
    assert case_id in printed
    for detail in run.referral.details():
        assert detail not in printed
    # A test case, even erased, is never in the panel pack (built as its delivery builds it:
    # the pack of today may have been sent already).
    pack = PanelPackService(Settings.from_environment(), register).emails(stack.now())
    assert pack and all(case_id not in e.body + str(e.attachments) for e in pack)


@pytest.fixture
def smoke_rule_gone(stack: LocalStack) -> Iterator[None]:
    """The fault: the smoke address's receipt rule is disabled, so its answer never lands."""
    ses = stack.client("ses")
    rule_set = stack.resources["ReceiptRuleSet"]
    rule = ses.describe_receipt_rule(RuleSetName=rule_set, RuleName="dsr-smoke-local")["Rule"]
    ses.update_receipt_rule(RuleSetName=rule_set, Rule={**rule, "Enabled": False})
    try:
        yield
    finally:
        ses.update_receipt_rule(RuleSetName=rule_set, Rule=rule)


def test_the_smoke_fails_clearly_when_the_answer_never_comes_and_still_erases(
    stack: LocalStack, target: ops.LocalTarget, smoke_rule_gone: None
) -> None:
    said: list[str] = []
    run = smoke(target, stack, said)
    with pytest.raises(SmokeFailedError) as failed:
        run.run()
    message = str(failed.value)
    assert "no acknowledgement threaded to it yet after 1 seconds" in message
    assert f"{run.case_id} erased (test data)" in message
    assert any(line.startswith("   waiting for the acknowledgement") for line in said)
    assert run._left_over() is None  # the failed run still erased its case


@pytest.mark.parametrize("fault", ["derived object", "schedule"])
def test_the_smoke_fails_when_something_of_the_case_is_left(
    stack: LocalStack, target: ops.LocalTarget, fault: str
) -> None:
    run = smoke(target, stack, [])
    run.send()
    run.await_outcome()
    run.await_answer_and_schedule()
    run.erase_and_clean_up()
    case_id = run.case_id
    assert case_id is not None
    bucket, group = stack.resources["RawMailBucket"], stack.resources["ReviewScheduleGroup"]
    scheduler, s3 = stack.client("scheduler"), stack.client("s3")
    # The fault: the erasure missed something of the case.
    if fault == "derived object":
        s3.put_object(Bucket=bucket, Key=f"{DERIVED_PREFIX}{case_id}/page-1.png", Body=b"x")
        expected = "its stored email"
    else:
        scheduler.create_schedule(
            Name=schedule_name(case_id),
            GroupName=group,
            ScheduleExpression="at(2030-01-01T09:00:00)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": "arn:aws:lambda:eu-west-2:123456789012:function:x",
                "RoleArn": "arn:aws:iam::123456789012:role/x",
            },
        )
        expected = "its review schedule"
    try:
        with pytest.raises(SmokeFailedError, match=f"{expected} after 1 seconds"):
            run.check_nothing_left()
    finally:
        s3.delete_object(Bucket=bucket, Key=f"{DERIVED_PREFIX}{case_id}/page-1.png")
        if fault == "schedule":
            scheduler.delete_schedule(Name=schedule_name(case_id), GroupName=group)
    assert run._left_over() is None


def test_erase_test_case_refuses_a_real_childs_case(
    stack: LocalStack, target: ops.LocalTarget, register: RegisterTable
) -> None:
    person = child(941)
    message_id = stack.deliver_email(
        email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person)))
    )
    stack.run_pipeline()
    submission = register.submission(message_id)
    assert submission is not None and submission.case_id
    with pytest.raises(ops.OpsError, match=r"refused: .* is not test data"):
        ops.erase_test_case(target, submission.case_id)
    case = register.case(submission.case_id)
    assert case is not None and case.status is CaseStatus.ACTIVE and case.child is not None
    with pytest.raises(ops.OpsError, match="there is no case"):
        ops.erase_test_case(target, "DSR-AAAAAAAA")
    with pytest.raises(ops.OpsError, match="eight letters or digits"):
        ops.erase_test_case(target, "DSR-../x")
