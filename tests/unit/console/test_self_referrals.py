"""Self-referrals (#11 part 4) through the real decider: real MIME with real PDFs from a
family's own address. Authenticated and clean with forms: pending, AWAITING_VERIFICATION,
no case, the sender told the reference only; anything less: quarantined as before. Then a
coordinator verifies (decided as from the sender) or declines (the sender told plainly)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from infrastructure.samples import child, consent_pdf, email, referral_pdf
from shared.case import Actor, CaseStatus, EmailEffect, EmailPurpose, StaffRole, Submission
from shared.console.roles import ALLOWED, ConsoleAction
from shared.console.self_referrals import decline, self_referral_reference, verify
from shared.console.waiting import Waiting, awaits_verification, decision_waits
from shared.errors import ActionRefusedError
from shared.mail import parse_mail
from shared.outcome import Outcome, ReasonCode
from shared.settings import Settings
from tests.conftest import NOW
from tests.unit.console.test_actions import act
from tests.unit.test_decisions import Desk

COORDINATOR = Actor(sub="sub-coord-9", email="dsr.coordinator@nhs.net", role=StaffRole.COORDINATOR)
PANEL = Actor(sub="sub-panel-9", email="panel.gp@nhs.net", role=StaffRole.PANEL)
FAMILY = "a.parent@gmail.com"


@pytest.fixture
def desk(settings: Settings) -> Desk:
    return Desk(settings)


def family_email(person: dict[str, str], *, consent: bool = True, **verdicts: str) -> bytes:
    files = [("referral.pdf", referral_pdf(**person))]
    if consent:
        files.append(("consent.pdf", consent_pdf(**person)))
    return email(*files, sender=FAMILY, subject=f"Referral for {person['child_given_name']}",
                 **verdicts)  # fmt: skip


def to(decision_effects: Sequence[object], address: str) -> list[EmailEffect]:
    return [e for e in decision_effects if isinstance(e, EmailEffect) and address in e.to]


def personal(person: dict[str, str]) -> list[str]:
    return [person["child_given_name"], person["child_family_name"], person["child_nhs_number"],
            person["child_date_of_birth"]]  # fmt: skip


def recorded(message_id: str, decision) -> Submission:  # type: ignore[no-untyped-def]
    return Submission(message_id=message_id, outcome=decision.outcome,
                      reasons=decision.reasons, received_at=NOW)  # fmt: skip


def test_a_familys_authenticated_clean_email_with_forms_awaits_verification(
    desk: Desk, settings: Settings
) -> None:
    person = child(1301)
    decision = desk.receive(family_email(person))
    assert decision.outcome is Outcome.PENDING and decision.case is None
    assert [r.code for r in decision.reasons] == [ReasonCode.AWAITING_VERIFICATION]
    assert decision_waits(decision) is Waiting.SELF_REFERRAL and awaits_verification(decision)
    assert desk.register.cases_by_id == {}  # no case made yet
    reference = self_referral_reference("msg-1")
    [answer] = to(decision.effects, FAMILY)
    assert answer.purpose is EmailPurpose.ACKNOWLEDGEMENT and reference in answer.body
    # Outside the secure domains: no personal data at all, not even the initials or subject.
    for value in [*personal(person), "Referral for"]:
        assert value not in answer.body and value not in answer.subject
    initials = f"{person['child_given_name'][0]}. {person['child_family_name'][0]}."
    assert initials not in answer.body + answer.subject
    # The coordinators: the sender and subject only at secure addresses.
    secure = to(decision.effects, "dsr.coordinator@nhs.net")
    other = to(decision.effects, "dsr.admin@bromley.gov.uk")
    assert FAMILY in secure[0].body and reference in secure[0].body
    assert FAMILY not in other[0].body and "Referral for" not in other[0].body
    assert reference in other[0].body


@pytest.mark.parametrize(
    ("verdicts", "code"),
    [
        ({"auth": "spf=pass smtp.mailfrom=gmail.com; dkim=pass header.i=@gmail.com; "
                  "dmarc=fail header.from=gmail.com"}, ReasonCode.MAIL_AUTH_FAILED),
        ({"auth": "spf=pass smtp.mailfrom=gmail.com; dkim=pass header.i=@gmail.com; "
                  "dmarc=pass header.from=elsewhere.com"}, ReasonCode.MAIL_AUTH_FAILED),
        ({"auth": "spf=fail smtp.mailfrom=gmail.com; dkim=pass header.i=@gmail.com; "
                  "dmarc=pass header.from=gmail.com"}, ReasonCode.MAIL_AUTH_FAILED),
        ({"spam": "FAIL"}, ReasonCode.SPAM),
        ({"spam": "GRAY"}, ReasonCode.SENDER_NOT_ALLOWED),  # not clean: a person decides
        ({"virus": "FAIL"}, ReasonCode.VIRUS),
    ],
)  # fmt: skip
def test_failed_authentication_spam_or_virus_stays_quarantined(
    desk: Desk, verdicts: dict[str, str], code: ReasonCode
) -> None:
    decision = desk.receive(family_email(child(1302), **verdicts))  # type: ignore[arg-type]
    assert decision.outcome is Outcome.QUARANTINED
    assert code in {r.code for r in decision.reasons}
    assert to(decision.effects, FAMILY) == []
    assert decision_waits(decision) is Waiting.QUARANTINED


def test_a_family_email_without_forms_stays_quarantined(desk: Desk) -> None:
    decision = desk.receive(email(sender=FAMILY))
    assert decision.outcome is Outcome.QUARANTINED
    assert to(decision.effects, FAMILY) == []


def test_the_quarantine_setting_quarantines_self_referrals(settings: Settings) -> None:
    desk = Desk(settings.model_copy(update={"self_referrals": "quarantine"}))
    decision = desk.receive(family_email(child(1303)))
    assert decision.outcome is Outcome.QUARANTINED
    assert {r.code for r in decision.reasons} == {ReasonCode.SENDER_NOT_ALLOWED}
    assert Settings.from_environment({"DSR_SELF_REFERRALS": "quarantine"}).self_referrals == (
        "quarantine"
    )
    assert Settings().self_referrals == "verify"


def test_the_same_self_referral_again_is_a_duplicate(desk: Desk) -> None:
    raw = family_email(child(1304))
    assert desk.receive(raw).outcome is Outcome.PENDING
    assert desk.receive(raw).outcome is Outcome.DUPLICATE


def test_a_verified_self_referral_becomes_a_case_with_the_reference_given(
    desk: Desk, settings: Settings
) -> None:
    person = child(1305)
    raw = family_email(person)
    awaiting = desk.receive(raw)
    made = verify(act(COORDINATOR, settings, desk.register), parse_mail(raw), "msg-1",
                  recorded("msg-1", awaiting), None)  # fmt: skip
    assert made.event_id == "msg-1.triage" and made.label == "console:verify"
    assert made.resolves == "email:msg-1" and made.header_message_id is None
    decision = made.decision
    assert decision.outcome is Outcome.ACCEPTED and decision.case is not None
    assert decision.case.case_id == self_referral_reference("msg-1")
    [answer] = to(decision.effects, FAMILY)
    for value in personal(person):
        assert value not in answer.body
    assert decision.case.case_id in answer.body
    # Once: verified already, it is neither verified nor declined again.
    done = Submission(message_id="msg-1.triage", outcome=Outcome.ACCEPTED, received_at=NOW)
    with pytest.raises(ActionRefusedError, match="triaged"):
        verify(act(COORDINATOR, settings, desk.register), parse_mail(raw), "msg-1",
               recorded("msg-1", awaiting), done)  # fmt: skip
    with pytest.raises(ActionRefusedError, match="triaged"):
        decline(act(COORDINATOR, settings, desk.register), parse_mail(raw), "msg-1",
                recorded("msg-1", awaiting), done)  # fmt: skip


def test_a_declined_self_referral_tells_the_sender_plainly_and_makes_nothing(
    desk: Desk, settings: Settings
) -> None:
    person = child(1306)
    raw = family_email(person)
    awaiting = desk.receive(raw)
    made = decline(act(COORDINATOR, settings, desk.register), parse_mail(raw), "msg-1",
                   recorded("msg-1", awaiting), None)  # fmt: skip
    assert made.event_id == "msg-1.triage" and made.label == "console:decline"
    assert made.decision.outcome is Outcome.REJECTED and made.decision.case is None
    [answer] = to(made.decision.effects, FAMILY)
    assert "not been taken forward" in answer.body
    assert self_referral_reference("msg-1") in answer.body
    for value in personal(person):
        assert value not in answer.body + answer.subject
    assert decision_waits(made.decision) is None


def test_only_a_coordinator_verifies_or_declines_and_only_a_self_referral(
    desk: Desk, settings: Settings
) -> None:
    assert ALLOWED[ConsoleAction.VERIFY] == ALLOWED[ConsoleAction.DECLINE] == {
        StaffRole.COORDINATOR
    }
    raw = family_email(child(1307))
    awaiting = recorded("msg-1", desk.receive(raw))
    with pytest.raises(ActionRefusedError, match="role:panel"):
        verify(act(PANEL, settings, desk.register), parse_mail(raw), "msg-1", awaiting,
               None)  # fmt: skip
    with pytest.raises(ActionRefusedError, match="role:panel"):
        decline(act(PANEL, settings, desk.register), parse_mail(raw), "msg-1", awaiting,
                None)  # fmt: skip
    quarantined = awaiting.model_copy(update={"outcome": Outcome.QUARANTINED, "reasons": []})
    with pytest.raises(ActionRefusedError, match="not-self-referral"):
        verify(act(COORDINATOR, settings, desk.register), parse_mail(raw), "msg-1",
               quarantined, None)  # fmt: skip


def test_the_professionals_referral_wins_and_the_familys_consent_completes_it(
    desk: Desk, settings: Settings
) -> None:
    """The same child: the family's self-referral waits; meanwhile a professional's referral
    (no consent yet) opens a pending case. Verified, the family's email keeps the
    professional's referral and its consent completes the case."""
    person = child(1308)
    raw = family_email(person)
    awaiting = desk.receive(raw)  # msg-1
    professional = desk.receive(
        email(("r.pdf", referral_pdf(**{**person, "referrer_name": "Dr Professional"})))
    )  # msg-2
    assert professional.outcome is Outcome.PENDING and professional.case is not None
    made = verify(act(COORDINATOR, settings, desk.register), parse_mail(raw), "msg-1",
                  recorded("msg-1", awaiting), None)  # fmt: skip
    decision = made.decision
    assert decision.outcome is Outcome.UPDATED and decision.case is not None
    assert decision.case.case_id == professional.case.case_id
    assert decision.case.status is CaseStatus.ACTIVE
    assert decision.case.referral == professional.case.referral  # the professional's kept


def test_a_child_already_on_the_register_is_answered_with_the_reference_only(
    desk: Desk, settings: Settings
) -> None:
    person = child(1309)
    raw = family_email(person)
    awaiting = desk.receive(raw)
    on_register = desk.receive(
        email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person)))
    )
    assert on_register.case is not None
    made = verify(act(COORDINATOR, settings, desk.register), parse_mail(raw), "msg-1",
                  recorded("msg-1", awaiting), None)  # fmt: skip
    assert made.decision.outcome is Outcome.DUPLICATE
    assert made.decision.case_id == on_register.case.case_id
    [answer] = to(made.decision.effects, FAMILY)
    assert on_register.case.case_id in answer.body
    for value in personal(person):
        assert value not in answer.body
