"""A family's self-referral on the embedded stack: the mother fills the referral with no
organisation (she has none), it waits in Triage, a coordinator verifies it and it becomes a
case - not a rejection for a blank "Organisation" (#11, finding 7). Her answers hold the
reference and initials only (a non-secure address)."""

from __future__ import annotations

from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.samples import child, consent_pdf, email, referral_pdf
from shared.adapters.console_register import ConsoleRegisterTable
from shared.case import Actor, CaseStatus, StaffRole
from shared.console.service import ConsoleService
from shared.outcome import Outcome, ReasonCode

COORDINATOR = Actor(sub="fam-coord-sub", email="dsr.coordinator@nhs.net", role=StaffRole.COORDINATOR)
MOTHER = "rowan.family@gmail.com"


def test_a_familys_self_referral_with_no_organisation_is_verified_into_a_case(
    stack: LocalStack, register: ConsoleRegisterTable, console: ConsoleService
) -> None:
    person = child(2161, age=5)  # the sample ages with its seed
    referrer = {
        "referrer_name": "Jo Rowan",
        "referrer_role": "Mother",
        "referrer_organisation": "",
        "referrer_email": MOTHER,
        "parent_carer_phone": "07700 900123",
    }
    before = len(sent_emails())
    message_id = stack.deliver_email(
        email(
            ("referral.pdf", referral_pdf(**person, **referrer)),
            ("consent.pdf", consent_pdf(**person, consenting_person_name="Jo Rowan")),
            sender=MOTHER,
            subject=f"Referral for {person['child_given_name']} {person['child_family_name']}",
        )
    )
    stack.run_pipeline()
    waiting = register.submission(message_id)
    assert waiting is not None and waiting.outcome is Outcome.PENDING
    assert [r.code for r in waiting.reasons] == [ReasonCode.AWAITING_VERIFICATION]

    done = console.verify(COORDINATOR, message_id)
    assert done.outcome == Outcome.ACCEPTED.value, done
    assert done.case_id is not None
    case = register.case(done.case_id)
    assert case is not None and case.status is CaseStatus.ACTIVE
    assert case.referral is not None and case.referral.referrer_organisation == ""
    assert case.referral.referrer_email == MOTHER

    stack.run_pipeline()
    sent = sent_emails()[before:]
    to_mother = [m for m in sent if MOTHER in m.to]
    assert len(to_mother) == 2  # received (the reference), then accepted
    assert done.case_id in to_mother[-1].body
    initials = f"{person['child_given_name'][0]}. {person['child_family_name'][0]}."
    assert initials in to_mother[-1].subject
    # Nothing of the child or the family to a non-secure address: names, date of birth,
    # NHS number (with or without spaces), postcode, phone, nor her subject.
    private = (
        person["child_given_name"], person["child_family_name"], person["child_date_of_birth"],
        person["child_nhs_number"], person["child_nhs_number"].replace(" ", ""), "BR1 3AA",
        "07700 900123", "Jo Rowan",
    )  # fmt: skip
    for message in to_mother:
        for value in private:
            assert value not in message.subject + message.body, value
    # The coordinators (secure) read who referred, without an empty organisation.
    told = [m for m in sent if "dsr.coordinator@nhs.net" in m.to and done.case_id in m.body]
    assert any(f"Referrer: Jo Rowan ({MOTHER})" in m.body for m in told)
