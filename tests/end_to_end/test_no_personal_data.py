"""Run the sample flows and look for the children's personal data everywhere it must not be:
log lines, metrics, S3 keys, schedule names, and emails to non-secure addresses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.samples import case_form_samples, demo_emails
from shared.blank_forms import BLANK_FORMS
from shared.settings import Settings, domain_matches
from tests.end_to_end.personal_data import leaks


@pytest.fixture(scope="module")
def flowed(stack: LocalStack) -> Iterator[LocalStack]:
    """The demo's emails, the coordinators' review and withdrawal forms, then 40 days of
    reminders, escalations, a transition at 18 and a panel pack."""
    start, offset = len(stack.log_lines), stack.clock_offset
    for sample in [*demo_emails(), *case_form_samples()]:
        stack.deliver_email(sample.raw)
        stack.run_pipeline()
    firings = stack.advance(40)
    assert {firing.handler for firing in firings} == {"reminder", "digest"}
    stack.flow_log_lines = stack.log_lines[start:]  # type: ignore[attr-defined]
    yield stack
    stack.clock_offset = offset


def test_the_leak_check_can_find_a_leak() -> None:
    assert leaks("case for Amira Okafor-Lewis, NHS 943 476 5919") >= {
        "Okafor-Lewis",
        "943 476 5919",
    }
    assert leaks("NHS 9434765919") >= {"9434765919"}


def test_no_log_line_or_metric_carries_personal_data(flowed: LocalStack) -> None:
    lines = flowed.flow_log_lines  # type: ignore[attr-defined]
    assert any('"outcome":"accepted"' in line for line in lines)
    assert any("OutcomeRejected" in line for line in lines)  # metrics are in the captured lines too
    assert any('"done":"reminder:' in line for line in lines)
    assert any("panel pack recorded" in line for line in lines)
    for line in lines:
        assert leaks(line) == set(), line


def test_no_key_or_schedule_name_carries_personal_data(flowed: LocalStack) -> None:
    s3 = flowed.client("s3")
    keys = [
        obj["Key"]
        for obj in s3.list_objects_v2(Bucket=flowed.resources["RawMailBucket"]).get("Contents", [])
    ]
    assert keys and leaks(" ".join(keys)) == set()
    names = [
        s["Name"]
        for s in flowed.client("scheduler").list_schedules(
            GroupName=flowed.resources["ReviewScheduleGroup"]
        )["Schedules"]
    ]
    assert names and leaks(" ".join(names)) == set()
    table = flowed.client("dynamodb")
    items = table.scan(TableName=flowed.resources["RegisterTable"], ProjectionExpression="PK, SK")[
        "Items"
    ]
    assert leaks(" ".join(f"{i['PK']['S']} {i['SK']['S']}" for i in items)) == set()


def test_emails_outside_the_secure_domains_carry_no_personal_data(flowed: LocalStack) -> None:
    secure = Settings(secure_domains=("nhs.net",)).secure_domains
    outside = [
        email for email in sent_emails() if not all(domain_matches(a, secure) for a in email.to)
    ]
    assert outside, "the samples include answers to non-secure senders"
    for email in outside:
        assert leaks(email.subject + "\n" + email.body) == set(), email.to
        # Only our own blank forms, never a file that came in or anything made from one.
        assert set(email.attachments) <= set(BLANK_FORMS), email.to
    inside = [email for email in sent_emails() if all(domain_matches(a, secure) for a in email.to)]
    assert any(leaks(email.body) for email in inside), (
        "coordinators at secure addresses do get the details"
    )
