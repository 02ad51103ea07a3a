"""The intake decision over an in-memory register: every outcome and its effects."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infrastructure.samples import TICK, child, consent_pdf, email, referral_pdf
from shared.case import CaseStatus, Decision, EmailEffect, EmailPurpose, ScheduleEffect
from shared.intake import IntakeContext, IntakeDecider
from shared.mail import parse_mail
from shared.outcome import Outcome
from shared.settings import Settings
from tests.conftest import NOW, InMemoryRegister, PlainHasher


class Desk:
    """A decider with its register: what the IntakeService does, without AWS."""

    def __init__(self, settings: Settings) -> None:
        self.register = InMemoryRegister()
        self.settings = settings
        self.count = 0

    def receive(self, raw: bytes, *, now=NOW) -> Decision:  # type: ignore[no-untyped-def]
        self.count += 1
        decider = IntakeDecider(
            IntakeContext(self.settings, now),
            self.register,
            PlainHasher(),
        )
        mail = parse_mail(raw, self.settings.trusted_forwarders)
        decision = decider.decide(mail, f"msg-{self.count}")
        for part in [decision, *decision.parts]:
            if part.case is not None:
                self.register.store(part.case)
        if decision.forget_person_key:
            self.register.forget(decision.forget_person_key)
        if decision.outcome not in (Outcome.DUPLICATE, Outcome.QUARANTINED):
            self.register.headers[mail.duplicate_key] = f"msg-{self.count}"
        return decision


@pytest.fixture
def desk(settings: Settings) -> Desk:
    return Desk(settings)


def emails(decision: Decision) -> list[EmailEffect]:
    return [effect for effect in decision.effects if isinstance(effect, EmailEffect)]


def schedules(decision: Decision) -> list[ScheduleEffect]:
    return [effect for effect in decision.effects if isinstance(effect, ScheduleEffect)]


def test_a_valid_pair_is_accepted_with_every_effect(desk: Desk, settings: Settings) -> None:
    decision = desk.receive(email(("r.pdf", referral_pdf()), ("c.pdf", consent_pdf())))
    assert decision.outcome is Outcome.ACCEPTED
    assert decision.reasons == []
    assert decision.case is not None and decision.case.status is CaseStatus.ACTIVE
    assert decision.case.rating is not None and decision.case.rating.value == "Amber"
    purposes = [effect.purpose for effect in emails(decision)]
    assert (
        purposes.count(EmailPurpose.COORDINATOR_NOTIFICATION) == 2
    )  # secure and non-secure groups
    assert EmailPurpose.ACKNOWLEDGEMENT in purposes
    [schedule] = schedules(decision)
    assert schedule.at.date() == NOW.date() + timedelta(days=settings.review_interval_days_amber)


@pytest.mark.parametrize(
    ("rating", "days"), [("Red", 14), ("Amber", 28), ("Green", 91), ("Blue", 42)]
)
def test_first_review_follows_the_rating(
    desk: Desk, settings: Settings, rating: str, days: int
) -> None:
    decision = desk.receive(
        email(("r.pdf", referral_pdf(suggested_rag=rating)), ("c.pdf", consent_pdf()))
    )
    assert decision.case is not None
    assert decision.case.next_review_on == NOW.date() + timedelta(days=days)
    # The schedule wakes for the review, or sooner for the 28-day first-review check.
    first_check = min(days, settings.first_review_days)
    assert schedules(decision)[0].at.date() == NOW.date() + timedelta(days=first_check)


def test_non_secure_recipients_see_the_reference_only(desk: Desk) -> None:
    decision = desk.receive(
        email(("r.pdf", referral_pdf()), ("c.pdf", consent_pdf()), sender="senco@school.sch.uk")
    )
    outside = [
        effect for effect in emails(decision) if not all(a.endswith("@nhs.net") for a in effect.to)
    ]
    assert {address for effect in outside for address in effect.to} == {
        "senco@school.sch.uk",
        "dsr.admin@bromley.gov.uk",
    }
    for effect in outside:
        for detail in ("Amira", "Okafor", "9434765919", "943 476 5919", "BR1"):
            assert detail not in effect.body and detail not in effect.subject
    inside = [effect for effect in emails(decision) if effect.to == ("dsr.coordinator@nhs.net",)]
    assert "Amira Okafor-Lewis" in inside[0].body and "9434765919" in inside[0].body


def test_referral_then_consent_completes_the_case(desk: Desk) -> None:
    first = desk.receive(email(("r.pdf", referral_pdf())))
    assert first.outcome is Outcome.PENDING and first.case is not None
    assert first.case.status is CaseStatus.AWAITING_CONSENT
    # A waiting case is woken only to say it lapsed, if its consent never comes.
    assert [effect.at for effect in schedules(first)] == [first.case.pending_expires_at]
    second = desk.receive(email(("c.pdf", consent_pdf()), sender="social.worker@bromley.gov.uk"))
    assert second.outcome is Outcome.UPDATED
    assert second.case_id == first.case_id
    assert second.case is not None and second.case.status is CaseStatus.ACTIVE
    assert len(schedules(second)) == 1


def test_consent_then_referral_completes_the_case(desk: Desk) -> None:
    first = desk.receive(email(("c.pdf", consent_pdf())))
    assert first.outcome is Outcome.PENDING
    assert first.case is not None and first.case.status is CaseStatus.AWAITING_REFERRAL
    second = desk.receive(email(("r.pdf", referral_pdf())))
    assert second.outcome is Outcome.UPDATED and second.case_id == first.case_id


def test_a_later_consent_about_someone_else_is_a_mismatch(desk: Desk) -> None:
    desk.receive(email(("r.pdf", referral_pdf())))
    decision = desk.receive(email(("c.pdf", consent_pdf(child_family_name="Smith"))))
    assert decision.outcome is Outcome.REJECTED
    assert [(r.code.value, r.field) for r in decision.reasons] == [
        ("IDENTITY_MISMATCH", "child_family_name")
    ]


def test_a_lapsed_pending_referral_starts_afresh(desk: Desk, settings: Settings) -> None:
    first = desk.receive(email(("r.pdf", referral_pdf())))
    later = NOW + timedelta(days=settings.pending_expiry_days + 1)
    second = desk.receive(email(("c.pdf", consent_pdf())), now=later)
    assert second.outcome is Outcome.PENDING
    assert second.case_id != first.case_id


def test_a_child_already_on_the_register_is_a_duplicate(desk: Desk) -> None:
    first = desk.receive(email(("r.pdf", referral_pdf()), ("c.pdf", consent_pdf())))
    again = desk.receive(email(("r.pdf", referral_pdf()), ("c.pdf", consent_pdf())))
    assert again.outcome is Outcome.DUPLICATE
    assert again.case is None and again.case_id == first.case_id
    assert [r.code.value for r in again.reasons] == ["ALREADY_ON_REGISTER"]


def test_a_second_referral_while_one_waits_is_a_duplicate(desk: Desk) -> None:
    desk.receive(email(("r.pdf", referral_pdf())))
    again = desk.receive(email(("r.pdf", referral_pdf())))
    assert again.outcome is Outcome.DUPLICATE and again.case is None


def test_the_same_email_again_is_a_silent_duplicate(desk: Desk) -> None:
    raw = email(("r.pdf", referral_pdf()), ("c.pdf", consent_pdf()), message_id="<same@nhs.net>")
    assert desk.receive(raw).outcome is Outcome.ACCEPTED
    again = desk.receive(raw)
    assert again.outcome is Outcome.DUPLICATE and again.effects == [] and again.reasons == []


def test_new_consent_for_a_registered_child_is_recorded(desk: Desk) -> None:
    desk.receive(email(("r.pdf", referral_pdf()), ("c.pdf", consent_pdf())))
    renewed = desk.receive(
        email(
            (
                "c.pdf",
                consent_pdf(
                    consent_basis="best_interest",
                    fact_sheet_given="/Off",
                    best_interest_decision_maker="Dr Jones",
                    best_interest_decision_role="Consultant",
                    best_interest_reason="Significant concern",
                ),
            )
        )
    )
    assert renewed.outcome is Outcome.UPDATED
    assert renewed.case is not None and len(renewed.case.consent_history) == 2


def test_rejections_list_every_reason_and_echo_nothing(desk: Desk) -> None:
    decision = desk.receive(
        email(
            ("r.pdf", referral_pdf(child_nhs_number="123 456 7890", diagnosis_autism="/Off")),
            (
                "c.pdf",
                consent_pdf(
                    child_nhs_number="123 456 7890", consent_basis="self", capacity_confirmed=TICK
                ),
            ),
        )
    )
    assert decision.outcome is Outcome.REJECTED
    found = {(r.code.value, r.field) for r in decision.reasons}
    assert ("NHS_NUMBER_INVALID", "child_nhs_number") in found
    assert ("NOT_ELIGIBLE_DIAGNOSIS", "diagnosis_learning_disability") in found
    assert ("CONSENT_INVALID", "consent_basis") in found
    [rejection] = emails(decision)
    assert rejection.to == ("sam.patel@nhs.net",) and rejection.purpose is EmailPurpose.REJECTION
    for reason in decision.reasons:
        # In plain words: every reason, never its code or field name (#13 part 2).
        assert reason.message in rejection.body
        assert reason.code.value not in rejection.body
        assert f"field: {reason.field}" not in rejection.body
    for value in ("123 456 7890", "1234567890", "Amira", "Okafor"):
        assert value not in rejection.body


@pytest.mark.parametrize(
    ("kwargs", "codes"),
    [
        ({"sender": "someone@gmail.com"}, {"SENDER_NOT_ALLOWED"}),
        ({"virus": "FAIL"}, {"VIRUS"}),
        ({"spam": "FAIL"}, {"SPAM"}),
        ({"auth": "spf=pass; dkim=pass; dmarc=fail header.from=nhs.net"}, {"MAIL_AUTH_FAILED"}),
        (
            {"auth": "spf=fail; dkim=fail; dmarc=fail", "sender": "x@example.com", "virus": "FAIL"},
            {"MAIL_AUTH_FAILED", "SENDER_NOT_ALLOWED", "VIRUS"},
        ),
    ],
)
def test_untrusted_mail_is_quarantined_and_not_answered(
    settings: Settings, kwargs: dict[str, str], codes: set[str]
) -> None:
    # SelfReferrals quarantine: a family's proved email is quarantined like any other.
    desk = Desk(settings.model_copy(update={"self_referrals": "quarantine"}))
    decision = desk.receive(email(("r.pdf", referral_pdf()), ("c.pdf", consent_pdf()), **kwargs))
    assert decision.outcome is Outcome.QUARANTINED
    assert {r.code.value for r in decision.reasons} == codes
    assert {e.purpose for e in emails(decision)} == {EmailPurpose.QUARANTINE_ALERT}
    recipients = {a for e in emails(decision) for a in e.to}
    assert recipients == set(desk.settings.coordinator_addresses)
    assert decision.case is None


def test_quarantine_alerts_withhold_the_sender_from_non_secure_coordinators(
    settings: Settings,
) -> None:
    desk = Desk(settings.model_copy(update={"self_referrals": "quarantine"}))
    decision = desk.receive(email(("r.pdf", referral_pdf()), sender="parent@gmail.com"))
    assert decision.outcome is Outcome.QUARANTINED
    by_recipient = {e.to: e.body for e in emails(decision)}
    assert "parent@gmail.com" in by_recipient[("dsr.coordinator@nhs.net",)]
    assert "parent@gmail.com" not in by_recipient[("dsr.admin@bromley.gov.uk",)]


@pytest.mark.parametrize(
    ("attachments", "code"),
    [
        ((), "NO_FORM_FOUND"),
        ((("letter.txt", b"hello", "text/plain"),), "NO_FORM_FOUND"),
        ((("r.pdf", b"%PDF-1.4 not really"),), "FORM_UNREADABLE"),
    ],
)
def test_emails_without_a_readable_form_are_rejected(
    desk: Desk, attachments: tuple[tuple[str, bytes, str] | tuple[str, bytes], ...], code: str
) -> None:
    decision = desk.receive(email(*attachments))
    assert decision.outcome is Outcome.REJECTED
    assert [r.code.value for r in decision.reasons] == [code]


def test_attachment_limits(settings: Settings) -> None:
    small = Desk(settings.model_copy(update={"max_attachment_bytes": 2048, "max_attachments": 2}))
    too_big = small.receive(email(("r.pdf", referral_pdf())))
    assert [r.code.value for r in too_big.reasons] == ["ATTACHMENT_TOO_LARGE"]
    too_many = small.receive(email(("a.pdf", b"%PDF"), ("b.pdf", b"%PDF"), ("c.pdf", b"%PDF")))
    assert [r.code.value for r in too_many.reasons] == ["ATTACHMENT_TOO_LARGE"]


def test_a_readable_pair_beside_a_damaged_pdf_is_still_read(desk: Desk) -> None:
    decision = desk.receive(
        email(("r.pdf", referral_pdf()), ("c.pdf", consent_pdf()), ("x.pdf", b"%PDF-1.4 junk"))
    )
    assert decision.outcome is Outcome.ACCEPTED


def test_each_childs_forms_in_one_email_are_handled_on_their_own(desk: Desk) -> None:
    first, second = child(7), child(8)
    decision = desk.receive(
        email(
            ("r1.pdf", referral_pdf(**first)),
            ("r2.pdf", referral_pdf(**second)),
            ("c2.pdf", consent_pdf(**second)),
            ("c1.pdf", consent_pdf(**first)),
        )
    )
    assert [part.outcome for part in decision.parts] == [Outcome.ACCEPTED, Outcome.ACCEPTED]
    assert decision.outcome is Outcome.ACCEPTED and decision.case is None
    cases = [part.case for part in decision.parts if part.case is not None]
    assert len({case.case_id for case in cases}) == 2
    assert [c.referral.child.nhs_number for c in cases if c.referral] == [
        first["child_nhs_number"],
        second["child_nhs_number"],
    ]


def test_one_childs_bad_forms_do_not_block_anothers(desk: Desk) -> None:
    good, bad = child(9), child(10)
    decision = desk.receive(
        email(
            ("r1.pdf", referral_pdf(**good)),
            ("c1.pdf", consent_pdf(**good)),
            ("r2.pdf", referral_pdf(**bad, child_postcode="")),
        )
    )
    accepted, rejected = decision.parts
    assert accepted.outcome is Outcome.ACCEPTED
    assert rejected.outcome is Outcome.REJECTED
    assert decision.outcome is Outcome.REJECTED  # the email's outcome is what needs attention
    # The sender is told which forms each answer is about (by attachment, never by name).
    assert rejected.reasons[0].message.startswith("(attachment 3 (PDF))")
    [rejection] = rejected.effects
    assert "attachment 3" in rejection.body  # type: ignore[union-attr]


def test_case_references_come_from_the_message_id_and_carry_no_personal_data() -> None:
    import re
    import uuid

    from shared.case import case_reference_for

    message_ids = [uuid.uuid4().hex for _ in range(500)]
    references = {case_reference_for(message_id) for message_id in message_ids}
    assert len(references) == 500
    assert all(re.fullmatch(r"DSR-[A-HJ-NP-Z2-9]{8}", reference) for reference in references)
    # The same email processed again gives the same reference: a redelivery cannot fork a case.
    assert case_reference_for(message_ids[0]) == case_reference_for(message_ids[0])


def test_pending_cases_expire_after_the_setting(desk: Desk, settings: Settings) -> None:
    decision = desk.receive(email(("r.pdf", referral_pdf())))
    assert decision.case is not None
    assert decision.case.pending_expires_at == NOW + timedelta(days=settings.pending_expiry_days)
    stored = desk.register.case_for_person(decision.case.person_key)
    assert stored is not None
    assert stored.status is CaseStatus.AWAITING_CONSENT


def test_the_same_bytes_again_without_a_message_id_are_a_duplicate(desk: Desk) -> None:
    raw = email(("r.pdf", referral_pdf(child_nhs_number="1234567890")))
    without_id = b"\n".join(line for line in raw.split(b"\n") if not line.startswith(b"Message-ID"))
    assert desk.receive(without_id).outcome is Outcome.REJECTED
    again = desk.receive(without_id)
    assert again.outcome is Outcome.DUPLICATE and again.effects == []
