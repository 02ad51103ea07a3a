"""A family's own withdrawal on the embedded stack (#11, walkthrough 2 finding 1): the
mother emails DSR-WITHDRAWAL-1 from her own gmail address (SPF, DKIM and DMARC pass, clean
verdicts). It is held at once - not quarantined - the case untouched; she is told it was
received with the hold reference only; the coordinators' alert sends them to Triage; one
"Confirm withdrawal" there erases the case and tells her. The same email through a relay
that breaks DMARC stays quarantined and unanswered."""

from __future__ import annotations

import re

from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.samples import child, consent_pdf, email, referral_pdf, withdrawal_pdf
from shared.adapters.console_register import ConsoleRegisterTable
from shared.case import Actor, CaseStatus, StaffRole
from shared.console.service import ConsoleService
from shared.holds import hold_reference_for
from shared.outcome import Outcome, ReasonCode

COORDINATOR = Actor(sub="famw-coord-sub", email="dsr.coordinator@nhs.net", role=StaffRole.COORDINATOR)
MOTHER = "lucy.quinn@gmail.com"
RELAYED = ("spf=pass smtp.mailfrom=gmail.com; dkim=fail header.i=@gmail.com; "
           "dmarc=fail header.from=gmail.com")  # fmt: skip


def on_the_register(stack: LocalStack, register: ConsoleRegisterTable, seed: int) -> tuple[
    dict[str, str], str
]:  # fmt: skip
    person = child(seed, age=9)
    message_id = stack.deliver_email(
        email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person)))
    )
    stack.run_pipeline()
    accepted = register.submission(message_id)
    assert accepted is not None and accepted.outcome is Outcome.ACCEPTED and accepted.case_id
    return person, accepted.case_id


def test_a_familys_emailed_withdrawal_is_held_then_confirmed_once_in_triage(
    stack: LocalStack, register: ConsoleRegisterTable, console: ConsoleService
) -> None:
    person, case_id = on_the_register(stack, register, 2231)
    before = len(sent_emails())
    subject = f"Withdraw {person['child_given_name']} {person['child_family_name']}"
    form = withdrawal_pdf(person, case_id, withdrawn_by_name="Lucy Quinn")
    message_id = stack.deliver_email(email(("w.pdf", form), sender=MOTHER, subject=subject))
    stack.run_pipeline()
    held = register.submission(message_id)
    assert held is not None and held.outcome is Outcome.HELD
    assert [r.code for r in held.reasons] == [ReasonCode.WITHDRAWAL_HELD]
    reference = hold_reference_for(message_id)
    assert register.held_withdrawal(reference) is not None
    case = register.case(case_id)
    assert case is not None and case.status is CaseStatus.ACTIVE  # nothing erased yet

    sent = sent_emails()[before:]
    [receipt] = [m for m in sent if MOTHER in m.to]
    assert receipt.subject == f"DSR withdrawal received - {reference}"
    private = (person["child_given_name"], person["child_family_name"], person["child_nhs_number"],
               person["child_nhs_number"].replace(" ", ""), person["child_date_of_birth"],
               "Lucy Quinn", case_id, subject)  # fmt: skip
    for value in private:
        assert value not in receipt.subject + receipt.body, value
    alerts = [m for m in sent if "dsr.coordinator@nhs.net" in m.to]
    assert any(
        "outside the domains the DSR takes referrals from" in m.body
        and "console's Triage page" in m.body
        and f"CONFIRM WITHDRAWAL {reference}" in m.body
        for m in alerts
    )
    # Every email to an address outside the secure domains: nothing of the child or mother.
    for message in sent:
        if not all(address.endswith("@nhs.net") for address in message.to):
            for value in private[:-2]:
                assert value not in message.subject + message.body, value

    # Triage lists it; one Confirm withdrawal there erases the case and tells the mother.
    assert reference in {item.reference for item in console.triage(COORDINATOR)}
    before = len(sent_emails())
    done = console.confirm_withdrawal(COORDINATOR, "tok-family-withdrawal-2231", reference)
    assert done.outcome == Outcome.WITHDRAWN.value, done
    again = console.confirm_withdrawal(COORDINATOR, "tok-family-withdrawal-2231", reference)
    assert again.already
    stack.run_pipeline()
    erased = register.case(case_id)
    assert erased is not None and erased.status is CaseStatus.WITHDRAWN
    assert erased.closure is not None and erased.closure.recorded_at is not None
    told = [m for m in sent_emails()[before:] if MOTHER in m.to]
    assert len(told) == 1 and case_id in told[0].subject
    for value in private[:-2]:
        assert value not in told[0].subject + told[0].body, value


def test_a_familys_withdrawal_that_fails_dmarc_stays_quarantined_and_unanswered(
    stack: LocalStack, register: ConsoleRegisterTable
) -> None:
    person, case_id = on_the_register(stack, register, 2233)
    before = len(sent_emails())
    message_id = stack.deliver_email(
        email(("withdrawal.pdf", withdrawal_pdf(person, case_id)), sender=MOTHER, auth=RELAYED)
    )
    stack.run_pipeline()
    quarantined = register.submission(message_id)
    assert quarantined is not None and quarantined.outcome is Outcome.QUARANTINED
    assert ReasonCode.MAIL_AUTH_FAILED in {r.code for r in quarantined.reasons}
    assert not [m for m in sent_emails()[before:] if MOTHER in m.to]
    case = register.case(case_id)
    assert case is not None and case.status is CaseStatus.ACTIVE
    assert not re.search(r"HOLD-", " ".join(r.message for r in quarantined.reasons))
