"""A withdrawal of consent is about the child: it applies to the child's current case (the one
their person lookup names), even when the form gives the reference of an earlier, closed case
of theirs. Before, the decision withdrew the closed case and asked to delete the person lookup
of the newer one: the register's condition failed on every delivery, a message no redrive
could clear."""

from __future__ import annotations

from shared.case import CaseStatus
from shared.outcome import Outcome
from tests.conftest import PlainHasher
from tests.hostile.builders import (
    COORDINATOR,
    IDENTITY,
    PDF,
    REFERRER,
    consent_form,
    from_line,
    genuine_pair,
    message,
    raw_email,
    referral_form,
    review_form,
    ses_results,
    typed_withdrawal,
)
from tests.hostile.conftest import Seeded
from tests.hostile.desk import Processed

PERSON_KEY = PlainHasher().person_key(IDENTITY["child_nhs_number"])


def _close(seeded: Seeded) -> None:
    """The panel removes the child's case from the register."""
    form = review_form(
        remove_from_register="/Yes", removal_reason="Support in place.", rag_rating=""
    )
    raw = raw_email(
        (from_line(COORDINATOR),),
        body=message(subject="DSR review outcome", attachments=[(form, PDF)]),
    )
    processed = seeded.desk.receive(raw)
    assert processed.outcome is Outcome.UPDATED, processed.submission.reasons
    assert seeded.case().status is CaseStatus.CLOSED


def _withdraw(seeded: Seeded, case_reference: str) -> Processed:
    raw = raw_email(
        (from_line(COORDINATOR),),
        body=message(body=typed_withdrawal(case_reference=case_reference)),
    )
    return seeded.desk.receive(raw)


def test_a_withdrawal_naming_a_closed_case_withdraws_the_childs_current_one(
    seeded: Seeded,
) -> None:
    closed = seeded.case_id
    _close(seeded)
    again = seeded.desk.receive(genuine_pair())
    assert again.outcome is Outcome.ACCEPTED, again.submission.reasons
    current = again.submission.case_id
    assert current is not None and current != closed
    assert seeded.person_case_id() == current

    processed = _withdraw(seeded, closed)
    assert processed.outcome is Outcome.WITHDRAWN, processed.submission.reasons
    assert processed.submission.case_id == current
    assert processed.decision is not None
    assert processed.decision.forget_person_key == PERSON_KEY
    register = seeded.desk.register
    withdrawn = register.case(current)
    assert withdrawn is not None and withdrawn.status is CaseStatus.WITHDRAWN
    assert withdrawn.child is None
    assert seeded.person_case_id() is None
    # The earlier closed case keeps its record (erasing every case of a child is not built).
    earlier = register.case(closed)
    assert earlier is not None and earlier.status is CaseStatus.CLOSED
    # Everyone is told which case was withdrawn, and which the form named.
    texts = [email.subject + email.body for email in processed.emails]
    assert texts and all(current in text and closed in text for text in texts), texts


def test_a_withdrawal_naming_the_childs_only_case_when_closed_forgets_the_person(
    seeded: Seeded,
) -> None:
    _close(seeded)
    processed = _withdraw(seeded, seeded.case_id)
    assert processed.outcome is Outcome.WITHDRAWN
    assert processed.decision is not None
    assert processed.decision.forget_person_key == PERSON_KEY
    assert seeded.person_case_id() is None


def test_a_closed_case_whose_person_lookup_is_gone_is_still_withdrawn(seeded: Seeded) -> None:
    """No lookup names the case: nothing to delete, so no condition to fail for ever."""
    _close(seeded)
    del seeded.desk.register.people[PERSON_KEY]
    processed = _withdraw(seeded, seeded.case_id)
    assert processed.outcome is Outcome.WITHDRAWN
    assert processed.decision is not None
    assert processed.decision.forget_person_key is None
    assert seeded.case().status is CaseStatus.WITHDRAWN


def test_a_second_withdrawal_naming_the_earlier_case_withdraws_it_too(seeded: Seeded) -> None:
    closed = seeded.case_id
    _close(seeded)
    current = seeded.desk.receive(genuine_pair()).submission.case_id
    assert _withdraw(seeded, closed).outcome is Outcome.WITHDRAWN
    # The lookup is gone with the current case: the form now finds the closed case alone,
    # withdrawn as the child's only case left.
    processed = _withdraw(seeded, closed)
    assert processed.outcome is Outcome.WITHDRAWN
    assert processed.submission.case_id == closed
    assert processed.decision is not None
    assert processed.decision.forget_person_key is None
    assert current is not None
    withdrawn = seeded.desk.register.case(current)
    assert withdrawn is not None and withdrawn.status is CaseStatus.WITHDRAWN


def test_a_current_case_with_other_details_is_left_for_a_coordinator(seeded: Seeded) -> None:
    """The same NHS number, another date of birth on the newer case: rejected, nothing erased."""
    closed = seeded.case_id
    _close(seeded)
    other = {"child_date_of_birth": "01/02/2013"}
    pair = message(
        subject="DSR referral",
        attachments=[(referral_form(**other), PDF), (consent_form(**other), PDF)],
    )
    newer = seeded.desk.receive(raw_email((from_line(REFERRER),), auth=(ses_results(),), body=pair))
    assert newer.outcome is Outcome.ACCEPTED, newer.submission.reasons
    processed = _withdraw(seeded, closed)
    assert processed.outcome is Outcome.REJECTED
    assert processed.codes == {"IDENTITY_MISMATCH"}
    assert not processed.erases
    assert seeded.person_case_id() == newer.submission.case_id
