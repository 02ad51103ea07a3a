"""The DynamoDB adapter against the embedded stack's real table (moto)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from infrastructure.local_stack import LocalStack
from infrastructure.samples import child, consent_pdf, email, referral_pdf
from shared.adapters import client
from shared.adapters.identity import KmsIdentityHasher
from shared.adapters.register_table import RegisterTable
from shared.case import Decision
from shared.errors import AlreadyRecordedError, ConcurrentChangeError
from shared.intake import IntakeContext, IntakeDecider
from shared.mail import parse_mail
from shared.outcome import Outcome
from shared.settings import Settings


@pytest.fixture
def register(stack: LocalStack) -> RegisterTable:
    return RegisterTable(client("dynamodb"), stack.resources["RegisterTable"])


@pytest.fixture
def hasher(stack: LocalStack) -> KmsIdentityHasher:
    return KmsIdentityHasher(client("kms"), stack.resources["IdentityKey"])


def decide(register: RegisterTable, hasher: KmsIdentityHasher, seed: int) -> Decision:
    identity = child(seed)
    raw = email(("r.pdf", referral_pdf(**identity)), ("c.pdf", consent_pdf(**identity)))
    return IntakeDecider(IntakeContext(Settings(), datetime.now(UTC)), register, hasher).decide(
        parse_mail(raw), uuid.uuid4().hex
    )


def test_the_keyed_hash_is_stable_and_hides_the_number(hasher: KmsIdentityHasher) -> None:
    first = hasher.person_key("943 476 5919")
    assert first == hasher.person_key("9434765919")
    assert first != hasher.person_key("9434765927")
    assert "9434765919" not in first and len(first) == 64


def test_a_decision_is_stored_in_one_transaction(
    register: RegisterTable, hasher: KmsIdentityHasher
) -> None:
    decision = decide(register, hasher, seed=101)
    message_id = uuid.uuid4().hex
    submission = register.record(message_id, "<t1@nhs.net>", decision, datetime.now(UTC))
    assert submission.outcome is Outcome.ACCEPTED
    assert register.submission(message_id) == submission
    assert decision.case is not None
    stored = register.case_for_person(decision.case.person_key)
    assert stored is not None and stored.case_id == decision.case_id and stored.version == 1
    assert register.first_submission_with_header("<t1@nhs.net>") == message_id


def test_the_same_message_cannot_be_recorded_twice(
    register: RegisterTable, hasher: KmsIdentityHasher
) -> None:
    decision = decide(register, hasher, seed=102)
    message_id = uuid.uuid4().hex
    register.record(message_id, None, decision, datetime.now(UTC))
    with pytest.raises(AlreadyRecordedError):
        register.record(message_id, None, decision, datetime.now(UTC))


def test_a_second_case_for_the_same_child_is_refused(
    register: RegisterTable, hasher: KmsIdentityHasher
) -> None:
    first = decide(register, hasher, seed=103)
    # Decided before the first is stored, as a concurrent delivery would be.
    second = decide(register, hasher, seed=103)
    register.record(uuid.uuid4().hex, None, first, datetime.now(UTC))
    with pytest.raises(ConcurrentChangeError):
        register.record(uuid.uuid4().hex, None, second, datetime.now(UTC))
    assert len([c for c in register.cases() if c.person_key == first.case.person_key]) == 1  # type: ignore[union-attr]


def test_a_stale_update_is_refused(register: RegisterTable, hasher: KmsIdentityHasher) -> None:
    decision = decide(register, hasher, seed=104)
    register.record(uuid.uuid4().hex, None, decision, datetime.now(UTC))
    assert decision.case is not None
    current = register.case(decision.case.case_id)
    assert current is not None
    newer = current.model_copy(deep=True)
    register.record(
        uuid.uuid4().hex, None, Decision(outcome=Outcome.UPDATED, case=newer), datetime.now(UTC)
    )
    stale = current.model_copy(deep=True)  # still at the version read before the update
    with pytest.raises(ConcurrentChangeError):
        register.record(
            uuid.uuid4().hex, None, Decision(outcome=Outcome.UPDATED, case=stale), datetime.now(UTC)
        )


class _AnswerLostOnce:
    """DynamoDB did the update, its answer was lost, the SDK sent it again (which then fails
    its condition): what botocore's retry does after a dropped connection."""

    def __init__(self, dynamodb: object) -> None:
        self._dynamodb = dynamodb

    def __getattr__(self, name: str) -> object:
        return getattr(self._dynamodb, name)

    def update_item(self, **request: object) -> object:
        self._dynamodb.update_item(**request)  # type: ignore[attr-defined]
        return self._dynamodb.update_item(**request)  # type: ignore[attr-defined]


def test_a_sending_mark_whose_answer_was_lost_is_still_ours(
    stack: LocalStack, register: RegisterTable
) -> None:
    from shared.case import CaseChange, EmailEffect, EmailPurpose

    now = datetime.now(UTC)
    event_id = f"test-{uuid.uuid4().hex}"
    email_effect = EmailEffect(
        purpose=EmailPurpose.REMINDER, to=("dsr.coordinator@nhs.net",), subject="s", body="b"
    )
    register.record_change(CaseChange(event_id=event_id, label="t", effects=[email_effect]), now)
    outbox_id = f"OUTBOX#{event_id}|EFFECT#00"
    lossy = RegisterTable(_AnswerLostOnce(client("dynamodb")), stack.resources["RegisterTable"])
    assert lossy.mark_sending(outbox_id, now), "the retried update found its own mark"
    assert not register.mark_sending(outbox_id, now), "another delivery's mark is not ours"
    entry = register.outbox_entry(outbox_id)
    assert entry is not None and entry.sending_since is not None
    register.release_sending(outbox_id)
    assert register.mark_sending(outbox_id, now), "released: the next attempt may send"


def test_a_childs_holds_are_found_by_their_keyed_hash_and_removed_with_a_withdrawal(
    register: RegisterTable,
) -> None:
    from datetime import date

    from shared.forms.case_forms import CaseIdentity, Withdrawal
    from shared.holds import HeldWithdrawal, hold_reference_for

    person_key = f"pk-{uuid.uuid4().hex}"
    message_id = uuid.uuid4().hex
    held = HeldWithdrawal(
        reference=hold_reference_for(message_id),
        message_id=message_id,
        sender="someone@nhs.net",
        withdrawal=Withdrawal(
            identity=CaseIdentity(
                case_reference=None, nhs_number="9434765919", date_of_birth=date(2012, 1, 2)
            ),
            withdrawn_by_name="A Parent",
            withdrawn_by_relationship="Mother",
            withdrawal_date=date(2026, 11, 1),
        ),
        received_at=datetime.now(UTC),
        person_key=person_key,
    )
    now = datetime.now(UTC)
    register.record(message_id, None, Decision(outcome=Outcome.HELD, hold=held), now)
    assert register.holds_for_person(person_key) == [held]
    assert register.held_withdrawal(held.reference) == held
    confirmed = Decision(
        outcome=Outcome.REJECTED, release_hold=held.reference, purged_holds=[held]
    )
    register.record(uuid.uuid4().hex, None, confirmed, now)
    assert register.holds_for_person(person_key) == []
    assert register.held_withdrawal(held.reference) is None
    with pytest.raises(ConcurrentChangeError):  # released once: a second release fails
        register.record(uuid.uuid4().hex, None, confirmed, now)
