"""A family's own withdrawal of consent (#11, walkthrough 2 finding 1): an email from outside
the allowed domains that passes exactly the self-referral test - SPF, DKIM and DMARC for the
From domain, spam and virus PASS, not forwarded, not automatic, `SelfReferrals` `verify` - and
holds a withdrawal form alone is held at once (`WITHDRAWAL_HELD`), as from any sender outside
the team: nothing looked up or erased, the sender told it was received with the hold
reference only, the coordinators alerted; one confirmation erases the case. Anything else
from outside the allowed domains stays quarantined. Real MIME, real PDFs, the real intake
service over an in-memory register (tests.hostile.desk, which also checks that no personal
data reaches a non-secure address or the logs)."""

from __future__ import annotations

import copy
import re

import pytest

from infrastructure.samples import withdrawal_pdf
from shared.case import Case, CaseStatus, EmailEffect
from shared.holds import hold_reference_for
from shared.outcome import Outcome
from tests.hostile.builders import (
    COORDINATOR,
    COUNCIL_COORDINATOR,
    FORWARDER,
    IDENTITY,
    PDF,
    PERSON,
    SETTINGS_WITH_COUNCIL,
    consent_form,
    from_line,
    genuine_pair,
    message,
    raw_email,
    referral_form,
    review_form,
    rfc822_forward,
    ses_results,
    withdrawal_form,
)
from tests.hostile.desk import Desk, Processed

FAMILY = "grace.okafor@gmail.com"
SUBJECT = f"Please take {PERSON['child_given_name']} off the register"
PERSONAL = [*PERSON.values(), PERSON["child_nhs_number"].replace(" ", ""), "Grace Okafor"]


class Register:
    """A register holding the sample child's case, accepted from a genuine referral."""

    def __init__(self, desk: Desk) -> None:
        accepted = desk.receive(genuine_pair())
        assert accepted.outcome is Outcome.ACCEPTED and accepted.submission.case_id
        self.desk = desk
        self.case_id = accepted.submission.case_id

    def case(self) -> Case:
        case = self.desk.register.case(self.case_id)
        assert case is not None
        return case


@pytest.fixture(scope="module")
def _seeded() -> Register:
    return Register(Desk(SETTINGS_WITH_COUNCIL))


@pytest.fixture
def seeded(_seeded: Register) -> Register:
    return copy.deepcopy(_seeded)


def family_email(
    *files: tuple[bytes, str],
    sender: str = FAMILY,
    auth: str | None = None,
    headers: tuple[str, ...] = (),
    **verdicts: str,
) -> bytes:
    domain = sender.rsplit("@", 1)[1]
    return raw_email(
        (*headers, from_line(sender, "Grace Okafor")),
        auth=(auth or ses_results(domain),),
        body=message(subject=SUBJECT, attachments=files or [(withdrawal_form(), PDF)]),
        **verdicts,
    )


def to(processed: Processed, address: str) -> list[EmailEffect]:
    return [email for email in processed.emails if address in email.to]


def test_a_familys_authenticated_withdrawal_is_held_at_once(
    seeded: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = seeded.case()

    def never(*args: object) -> None:
        raise AssertionError("a held withdrawal reads nothing of the register")

    # Nothing is looked up: whether the child is on the register stays unknown to the sender.
    monkeypatch.setattr(seeded.desk.register, "case_for_person", never)
    held = seeded.desk.receive(family_email())
    monkeypatch.undo()

    assert held.outcome is Outcome.HELD and held.codes == {"WITHDRAWAL_HELD"}
    assert not held.erases and held.submission.case_id is None
    assert seeded.case().model_dump() == before.model_dump()  # nothing erased or changed
    reference = hold_reference_for(held.message_id)
    assert seeded.desk.register.holds[reference].sender == FAMILY
    [reason] = held.submission.reasons
    assert f"a family's own address outside the allowed domains (SPF, DKIM and DMARC " \
           f"passed), held as {reference}" in reason.message  # fmt: skip

    # The family: received, the hold reference, nothing of the child (not a secure address).
    [receipt] = to(held, FAMILY)
    assert receipt.subject == f"DSR withdrawal received - {reference}"
    assert reference in receipt.body and "confirms it before" in receipt.body
    assert seeded.case_id not in receipt.body + receipt.subject
    for value in [*PERSONAL, "O. L.", "A. O.", SUBJECT]:
        assert value not in receipt.body + receipt.subject, value

    # The coordinators, as for any held withdrawal: the form's details at secure addresses
    # only, where it came from, and what to do - Triage first, the emailed command still.
    [secure] = to(held, COORDINATOR)
    [council] = to(held, COUNCIL_COORDINATOR)
    for alert in (secure, council):
        assert alert.subject == f"DSR withdrawal to confirm - {reference}"
        assert "outside the domains the DSR takes referrals from" in alert.body
        assert "console's Triage page" in alert.body and '"Confirm withdrawal"' in alert.body
        assert f"\nCONFIRM WITHDRAWAL {reference}\n" in alert.body
    digits = IDENTITY["child_nhs_number"].replace(" ", "")
    assert FAMILY in secure.body and f"NHS number: {digits}" in secure.body
    for value in [*PERSONAL, FAMILY]:
        assert value not in council.body + council.subject, value


def test_one_confirmation_erases_the_case_and_tells_the_family(seeded: Register) -> None:
    reference = hold_reference_for(seeded.desk.receive(family_email()).message_id)
    confirmed = seeded.desk.receive(
        raw_email(
            (from_line(COORDINATOR),),
            body=message(subject="Re: DSR withdrawal", body=f"CONFIRM WITHDRAWAL {reference}\n"),
        )
    )
    assert confirmed.outcome is Outcome.WITHDRAWN and confirmed.erases
    assert seeded.case().status is CaseStatus.WITHDRAWN
    [told] = to(confirmed, FAMILY)
    assert seeded.case_id in told.subject
    for value in PERSONAL:
        assert value not in told.body + told.subject, value


def test_the_same_family_email_again_is_a_duplicate(seeded: Register) -> None:
    raw = family_email()
    assert seeded.desk.receive(raw).outcome is Outcome.HELD
    again = seeded.desk.receive(raw)
    assert again.outcome is Outcome.DUPLICATE and again.emails == []
    assert len(seeded.desk.register.holds) == 1


def test_a_familys_withdrawal_form_with_a_mistake_is_answered_plainly(seeded: Register) -> None:
    wrong = seeded.desk.receive(family_email((withdrawal_form_without_date(), PDF)))
    assert wrong.outcome is Outcome.REJECTED and not wrong.erases
    [answer] = to(wrong, FAMILY)
    assert "The withdrawal form has no 'Date of withdrawal' (section 2)" in answer.body
    assert answer.blank_forms == ("dsr-withdrawal-form.pdf",)  # to fill in again
    assert seeded.desk.register.holds == {}
    assert seeded.case().status is CaseStatus.ACTIVE


def withdrawal_form_without_date() -> bytes:
    return withdrawal_pdf(IDENTITY, "", withdrawal_date="")


NOT_A_FAMILYS: dict[str, bytes] = {
    "DMARC failed": family_email(auth=ses_results("gmail.com", dmarc="fail")),
    "DMARC for another domain": family_email(
        auth=ses_results("gmail.com", header_from="other.example")
    ),
    "no DMARC verdict": family_email(auth=ses_results("gmail.com", dmarc=None)),
    "SPF failed": family_email(auth=ses_results("gmail.com", spf="fail")),
    "SPF soft fail": family_email(auth=ses_results("gmail.com", spf="softfail")),
    "no DKIM pass": family_email(auth=ses_results("gmail.com", dkim="none")),
    "another server's verdicts": family_email(
        auth=ses_results("gmail.com", authserv_id="mx.other.example")
    ),
    "spam": family_email(spam="FAIL"),
    "spam gray": family_email(spam="GRAY"),
    "virus": family_email(virus="FAIL"),
    "an automatic reply": family_email(headers=("Auto-Submitted: auto-replied",)),
    "forwarded by the DSR mailbox": rfc822_forward(family_email(), by=FORWARDER),
    "a review outcome form": family_email((review_form(), PDF)),
    "a withdrawal with a referral": family_email(
        (withdrawal_form(), PDF), (referral_form(), PDF), (consent_form(), PDF)
    ),
    "two withdrawals": family_email((withdrawal_form(), PDF), (withdrawal_form(), PDF)),
    "no form at all": family_email((b"just a note", "text/plain")),
}


@pytest.mark.parametrize("raw", NOT_A_FAMILYS.values(), ids=NOT_A_FAMILYS.keys())
def test_anything_else_from_outside_the_allowed_domains_stays_quarantined(
    seeded: Register, raw: bytes
) -> None:
    before = seeded.case()
    processed = seeded.desk.receive(raw)
    assert processed.outcome is Outcome.QUARANTINED, processed.submission.reasons
    assert to(processed, FAMILY) == [] and not processed.erases
    assert seeded.desk.register.holds == {}
    assert seeded.case().model_dump() == before.model_dump()


def test_with_self_referrals_quarantined_a_familys_withdrawal_is_too() -> None:
    settings = SETTINGS_WITH_COUNCIL.model_copy(update={"self_referrals": "quarantine"})
    seeded = Register(Desk(settings))
    processed = seeded.desk.receive(family_email())
    assert processed.outcome is Outcome.QUARANTINED
    assert processed.codes == {"SENDER_NOT_ALLOWED"} and to(processed, FAMILY) == []
    # The alert is the quarantine's, to release or dismiss in Triage (as before #11's fix).
    assert all(re.search(r"release it there", e.body) for e in processed.emails)
