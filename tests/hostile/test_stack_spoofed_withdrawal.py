"""The most important attack through the real stack: the SES bucket, the intake queue, the
IntakeFunction handler, the DynamoDB register (its conditions and header reservations), the
EffectsFunction and SES. A spoofed withdrawal must leave the case, its person lookup and its
stored emails where they were, and answer nobody outside the team; the genuine one erases."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from email.message import EmailMessage

import pytest

from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.samples import (
    child,
    consent_pdf,
    referral_pdf,
    valid_nhs_number,
    withdrawal_pdf,
)
from shared.adapters import client
from shared.adapters.register_table import RegisterTable
from shared.case import CaseStatus, Submission
from shared.outcome import TRUST_REASONS, Outcome
from tests.end_to_end.personal_data import forms_of
from tests.hostile.builders import (
    ATTACKER,
    COORDINATOR,
    PDF,
    REFERRER,
    from_line,
    message,
    raw_email,
    rfc822_forward,
    ses_results,
)

_seeds = itertools.count(9101)
_used: set[str] = set()


def _new_child() -> dict[str, str]:
    """A child no other test of the shared stack uses (an NHS number of its own)."""
    number = valid_nhs_number(next(_seeds))
    while number in _used:  # a seed with no check digit gives the next seed's number
        number = valid_nhs_number(next(_seeds))
    _used.add(number)
    return {**child(2), "child_nhs_number": number}


@pytest.fixture
def register(stack: LocalStack) -> RegisterTable:
    return RegisterTable(client("dynamodb"), stack.resources["RegisterTable"])


class Child:
    """A child with an active case on the stack's register."""

    def __init__(self, stack: LocalStack, register: RegisterTable) -> None:
        self.stack, self.register = stack, register
        self.identity = _new_child()
        self.genuine_id = self.send(
            raw_email(
                (from_line(REFERRER),),
                body=message(
                    subject="DSR referral",
                    attachments=[
                        (referral_pdf(**self.identity), PDF),
                        (consent_pdf(**self.identity), PDF),
                    ],
                ),
            )
        )
        genuine = register.submission(self.genuine_id)
        assert genuine is not None and genuine.outcome is Outcome.ACCEPTED, genuine
        assert genuine.case_id is not None
        self.case_id = genuine.case_id

    def send(self, raw: bytes) -> str:
        message_id = self.stack.deliver_email(raw)
        self.stack.run_pipeline()  # raises if the intake or an effect failed
        return message_id

    def withdrawal(self) -> EmailMessage:
        person = {
            "child_nhs_number": self.identity["child_nhs_number"],
            "child_date_of_birth": self.identity["child_date_of_birth"],
        }
        return message(attachments=[(withdrawal_pdf(person, ""), PDF)])

    def personal_data(self) -> set[str]:
        values: set[str] = set()
        for field in ("child_given_name", "child_family_name", "child_date_of_birth",
                      "child_nhs_number"):  # fmt: skip
            values |= forms_of(self.identity[field])
        return {value for value in values if len(value) >= 4} | {"BR1 3AA"}

    def raw_email_held(self) -> bool:
        listed = client("s3").list_objects_v2(
            Bucket=self.stack.resources["RawMailBucket"], Prefix=f"inbound/{self.genuine_id}"
        )
        return bool(listed.get("Contents"))

    def assert_untouched(self) -> None:
        case = self.register.case(self.case_id)
        assert case is not None and case.status is CaseStatus.ACTIVE
        assert case.child is not None
        assert case.child.nhs_number == self.identity["child_nhs_number"].replace(" ", "")
        assert self.raw_email_held()


def _attack(
    stack: LocalStack, register: RegisterTable, raw_for: Callable[[Child], bytes]
) -> tuple[Child, Submission]:
    target = Child(stack, register)
    log_start, sent_start = len(stack.log_lines), len(sent_emails())
    raw = raw_for(target)
    message_id = target.send(raw)
    submission = register.submission(message_id)
    assert submission is not None
    # Nothing of the child in the logs, nor in any email outside the secure domains.
    for line in stack.log_lines[log_start:]:
        assert not any(value.lower() in line.lower() for value in target.personal_data()), line
    for sent in sent_emails()[sent_start:]:
        assert ATTACKER not in sent.to
        if not all(address.endswith("@nhs.net") for address in sent.to):
            text = (sent.subject + sent.body).lower()
            assert not any(value.lower() in text for value in target.personal_data())
    return target, submission


SPOOFS: dict[str, Callable[[Child], bytes]] = {
    "unquoted address as display name": lambda t: raw_email(
        (f"From: {COORDINATOR} <{ATTACKER}>",), body=t.withdrawal()
    ),
    "two From headers": lambda t: raw_email(
        (from_line(COORDINATOR), f"From: <{ATTACKER}>"), body=t.withdrawal()
    ),
    "MAIL FROM quoting dmarc=pass, real verdict fail": lambda t: raw_email(
        (from_line(COORDINATOR),),
        auth=(
            'Authentication-Results: amazonses.com; spf=pass smtp.mailfrom="dmarc=pass"@evil.example; '
            "dkim=none; dmarc=fail header.from=nhs.net",
        ),
        body=t.withdrawal(),
    ),
    "DMARC passing for the attacker's domain": lambda t: raw_email(
        (from_line(COORDINATOR),),
        auth=(ses_results("evil.example", header_from="evil.example"),),
        body=t.withdrawal(),
    ),
    "forwarded by the trusted mailbox": lambda t: rfc822_forward(
        raw_email((from_line(COORDINATOR),), body=t.withdrawal())
    ),
}


@pytest.mark.parametrize("spoof", SPOOFS.values(), ids=SPOOFS.keys())
def test_a_spoofed_withdrawal_erases_nothing(
    stack: LocalStack, register: RegisterTable, spoof: Callable[[Child], bytes]
) -> None:
    target, submission = _attack(stack, register, spoof)
    assert submission.outcome is Outcome.QUARANTINED, submission.reasons
    assert {reason.code for reason in submission.reasons} <= TRUST_REASONS
    assert not any(effect.kind == "erase" for effect in submission.effects)
    target.assert_untouched()


def test_control_the_coordinators_withdrawal_erases_the_case(
    stack: LocalStack, register: RegisterTable
) -> None:
    target, submission = _attack(
        stack, register, lambda t: raw_email((from_line(COORDINATOR),), body=t.withdrawal())
    )
    assert submission.outcome is Outcome.WITHDRAWN, submission.reasons
    case = register.case(target.case_id)
    assert case is not None and case.status is CaseStatus.WITHDRAWN and case.child is None
    assert not target.raw_email_held()


def test_a_quarantined_forgery_does_not_make_the_genuine_email_a_duplicate(
    stack: LocalStack, register: RegisterTable
) -> None:
    identity = _new_child()
    shared_id = f"<hostile-{identity['child_nhs_number'].replace(' ', '')}@nhs.net>"
    forms = [(referral_pdf(**identity), PDF), (consent_pdf(**identity), PDF)]
    forged = raw_email(
        (from_line(REFERRER),),
        auth=(ses_results(dmarc="fail", spf="fail", dkim="fail"),),
        body=message(subject="DSR referral", message_id=shared_id, attachments=forms),
    )
    genuine = raw_email(
        (from_line(REFERRER),),
        body=message(subject="DSR referral", message_id=shared_id, attachments=forms),
    )
    first = stack.deliver_email(forged)
    stack.run_pipeline()
    second = stack.deliver_email(genuine)
    stack.run_pipeline()
    third = stack.deliver_email(genuine)  # the genuine one again: now a duplicate
    stack.run_pipeline()
    outcomes = [register.submission(message_id) for message_id in (first, second, third)]
    assert [s.outcome if s else None for s in outcomes] == [
        Outcome.QUARANTINED,
        Outcome.ACCEPTED,
        Outcome.DUPLICATE,
    ]
