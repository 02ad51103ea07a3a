"""The console's actions as pure functions, on cases the intake really made (real PDFs and
MIME through the decider, no AWS): who may do each, what each changes, what each refuses."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest

from infrastructure.sample_documents import scanned_pdf
from infrastructure.samples import (
    child,
    consent_fields,
    consent_pdf,
    email,
    referral_fields,
    referral_pdf,
    uk,
    years_ago,
)
from shared.case import (
    Actor,
    Case,
    CaseStatus,
    ClosureReason,
    EmailEffect,
    EmailPurpose,
    EraseEffect,
    ScheduleEffect,
    StaffRole,
    Submission,
    UnscheduleEffect,
)
from shared.console.act import ConsoleAct
from shared.console.case_actions import close_case, record_review, withdraw_consent
from shared.console.corrections import correct_field
from shared.console.manual_entry import EnteredForm, enter_by_hand
from shared.console.quarantine import dismiss, release
from shared.console.roles import ALLOWED, ConsoleAction, event_id_for, require
from shared.console.subject_access import HeldEmail, subject_access_export
from shared.errors import ActionRefusedError
from shared.forms.fields import FormKind
from shared.intake import Register
from shared.mail import Attachment, parse_mail
from shared.outcome import Outcome, ReasonCode
from shared.rating import Rating
from shared.settings import Settings
from tests.conftest import NOW, PlainHasher
from tests.unit.test_decisions import Desk

COORDINATOR = Actor(sub="sub-coord-1", email="dsr.coordinator@nhs.net", role=StaffRole.COORDINATOR)
PANEL = Actor(sub="sub-panel-1", email="panel.gp@nhs.net", role=StaffRole.PANEL)
ADMIN = Actor(sub="sub-admin-1", email="dsr.ops@nhs.net", role=StaffRole.ADMIN)
TOKEN = "form-token-0123456789abcdef"


@pytest.fixture
def desk(settings: Settings) -> Desk:
    return Desk(settings)


def act(actor: Actor, settings: Settings, register: Register) -> ConsoleAct:
    return ConsoleAct(actor, settings, NOW, register, PlainHasher())


def accepted(desk: Desk, person: dict[str, str], rating: str = "Amber") -> Case:
    decision = desk.receive(
        email(
            ("r.pdf", referral_pdf(**person, suggested_rag=rating)),
            ("c.pdf", consent_pdf(**person)),
        )
    )
    assert decision.outcome is Outcome.ACCEPTED and decision.case is not None
    return desk.register.cases_by_id[decision.case.case_id]


def codes(error: pytest.ExceptionInfo[ActionRefusedError]) -> set[ReasonCode]:
    return {reason.code for reason in error.value.reasons}


# ----- who may do what -----
@pytest.mark.parametrize("action", list(ConsoleAction))
@pytest.mark.parametrize("actor", [COORDINATOR, PANEL, ADMIN])
def test_the_role_table_decides_every_action(action: ConsoleAction, actor: Actor) -> None:
    if actor.role in ALLOWED[action]:
        require(actor, action)
    else:
        with pytest.raises(ActionRefusedError) as refused:
            require(actor, action)
        assert refused.value.code == f"role:{actor.role.value}:{action.value}"


def test_the_panel_reviews_but_never_corrects_withdraws_or_releases() -> None:
    assert StaffRole.PANEL in ALLOWED[ConsoleAction.REVIEW]
    assert StaffRole.PANEL in ALLOWED[ConsoleAction.CLOSE]
    for action in (ConsoleAction.CORRECT, ConsoleAction.WITHDRAW, ConsoleAction.RELEASE,
                   ConsoleAction.ENTER_BY_HAND, ConsoleAction.EXPORT_SAR):  # fmt: skip
        assert StaffRole.PANEL not in ALLOWED[action]
    assert not any(StaffRole.ADMIN in roles for roles in ALLOWED.values())


def test_an_event_is_keyed_by_its_form_token_and_a_bad_token_is_refused() -> None:
    assert event_id_for(ConsoleAction.CORRECT, TOKEN) == f"console-correct-{TOKEN}"
    for bad in ("short", "has.a.dot-0123456789", "x" * 65, "spaces in it 0123456"):
        with pytest.raises(ActionRefusedError):
            event_id_for(ConsoleAction.CORRECT, bad)


# ----- corrections -----
def correct(case: Case, settings: Settings, field: str, value: str, actor: Actor = COORDINATOR):  # type: ignore[no-untyped-def]
    return correct_field(case, field, value, "Referrer phoned: typo on the form",
                         actor=actor, token=TOKEN, settings=settings, now=NOW)  # fmt: skip


def test_a_postcode_is_corrected_the_old_value_kept_and_the_label_names_no_value(
    desk: Desk, settings: Settings
) -> None:
    case = accepted(desk, child(1101))
    change = correct(case, settings, "postcode", "br2 9xy")
    assert change.label == "console:correct:postcode" and change.actor == COORDINATOR
    assert change.event_id == f"console-correct-{TOKEN}"
    assert change.case is not None and change.case.referral is not None
    assert change.case.referral.postcode == "BR2 9XY"
    [fix] = change.case.corrections
    assert (fix.field, fix.old, fix.new) == ("postcode", "BR1 3AA", "BR2 9XY")
    assert fix.by == COORDINATOR and fix.at == NOW and "typo" in fix.reason
    assert change.effects == []  # nothing to tell anyone, nothing to reschedule
    assert change.case.version == case.version  # written on the version read


def test_a_date_of_birth_correction_changes_both_forms_and_moves_the_schedule(
    desk: Desk, settings: Settings
) -> None:
    case = accepted(desk, child(1102))
    born = years_ago(15, days=100)
    change = correct(case, settings, "date_of_birth", uk(born))
    assert change.case is not None and change.case.referral and change.case.consent
    assert change.case.referral.child.date_of_birth == born
    assert change.case.consent.child.date_of_birth == born
    assert change.case.transition_day() != case.transition_day()
    [schedule] = change.effects
    assert isinstance(schedule, ScheduleEffect) and schedule.case_id == case.case_id


def test_a_name_correction_keeps_the_old_name_in_the_history(desk: Desk, settings: Settings) -> None:
    case = accepted(desk, child(1103))
    change = correct(case, settings, "family_name", "  Brennan-Smythe ")
    assert change.case is not None and change.case.child is not None
    assert change.case.child.family_name == "Brennan-Smythe"
    assert change.case.corrections[0].old == child(1103)["child_family_name"]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("postcode", "NOT A POSTCODE", ReasonCode.FIELD_INVALID),
        ("postcode", "", ReasonCode.FIELD_MISSING),
        ("date_of_birth", uk(NOW.date() + timedelta(days=3)), ReasonCode.DATE_INVALID),
        ("date_of_birth", "2010-31-31", ReasonCode.DATE_INVALID),
        ("given_name", "x" * 201, ReasonCode.FIELD_INVALID),
        ("family_name", "   ", ReasonCode.FIELD_MISSING),
    ],
)
def test_a_correction_is_checked_by_the_forms_rules(
    desk: Desk, settings: Settings, field: str, value: str, code: ReasonCode
) -> None:
    case = accepted(desk, child(1104))
    with pytest.raises(ActionRefusedError) as refused:
        correct(case, settings, field, value)
    assert code in codes(refused)
    assert str(refused.value) == "invalid"  # the error's message is a code
    if value.strip():  # the page is told what is wrong, never shown the value again
        assert all(value.strip() not in reason.message for reason in refused.value.reasons)


def test_corrections_refused_nhs_number_same_value_no_reason_panel_tombstone(
    desk: Desk, settings: Settings
) -> None:
    case = accepted(desk, child(1105))
    with pytest.raises(ActionRefusedError) as refused:
        correct(case, settings, "nhs_number", "9434765919")
    assert "withdraw" in refused.value.reasons[0].message.lower()
    with pytest.raises(ActionRefusedError, match="unchanged"):
        correct(case, settings, "postcode", "BR1 3AA")
    with pytest.raises(ActionRefusedError, match="reason"):
        correct_field(case, "postcode", "BR2 9XY", "  ", actor=COORDINATOR, token=TOKEN,
                      settings=settings, now=NOW)  # fmt: skip
    with pytest.raises(ActionRefusedError, match="role:panel"):
        correct(case, settings, "postcode", "BR2 9XY", actor=PANEL)
    tombstone = case.model_copy(update={"status": CaseStatus.WITHDRAWN, "referral": None,
                                        "consent": None, "person_key": ""})  # fmt: skip
    with pytest.raises(ActionRefusedError, match="erased"):
        correct(tombstone, settings, "postcode", "BR2 9XY")


# ----- reviews, closure, withdrawal -----
def review_fields(**overrides: str) -> dict[str, str]:
    return {
        "review_date": uk(NOW.date()),
        "rag_rating": "Red",
        "outcome_summary": "Panel reviewed; crisis plan agreed.",
        "keyworker_name": "Kim Keyworker",
        "ctr_recommended": "on",
        **overrides,
    }


def test_a_panel_member_records_a_review_by_the_forms_rules(desk: Desk, settings: Settings) -> None:
    case = accepted(desk, child(1106))
    made = record_review(act(PANEL, settings, desk.register), case, case.case_id,
                         review_fields(), TOKEN)  # fmt: skip
    decision = made.decision
    assert made.label == "console:review" and made.actor == PANEL
    assert decision.outcome is Outcome.UPDATED and decision.case is not None
    [review] = decision.case.reviews
    assert review.reviewer_name == PANEL.email and review.reviewer_role == "DSR panel member"
    assert review.keyworker_referred and review.ctr_recommended and review.rating is Rating.RED
    assert decision.case.rating is Rating.RED
    assert decision.case.next_review_on == NOW.date() + timedelta(days=14)
    assert made.event_id not in decision.case.submissions  # the case's emails only
    purposes = [e.purpose for e in decision.effects if isinstance(e, EmailEffect)]
    assert EmailPurpose.COORDINATOR_NOTIFICATION in purposes
    assert EmailPurpose.ACKNOWLEDGEMENT not in purposes  # the panel member saw it on the page
    assert any(isinstance(e, ScheduleEffect) for e in decision.effects)


def test_a_review_breaking_the_discharge_rule_is_refused(desk: Desk, settings: Settings) -> None:
    case = accepted(desk, child(1107))
    discharged = uk(NOW.date() - timedelta(days=3))
    with pytest.raises(ActionRefusedError) as refused:
        record_review(act(COORDINATOR, settings, desk.register), case, case.case_id,
                      review_fields(rag_rating="Green", discharge_date=discharged), TOKEN)  # fmt: skip
    assert [r.field for r in refused.value.reasons] == ["rag_rating"]


def test_identity_fields_typed_into_a_review_are_ignored(desk: Desk, settings: Settings) -> None:
    case = accepted(desk, child(1108))
    other = child(1109)
    typed = review_fields(child_nhs_number=other["child_nhs_number"], reviewer_name="Someone Else")
    made = record_review(act(COORDINATOR, settings, desk.register), case, case.case_id, typed,
                         TOKEN)  # fmt: skip
    assert made.decision.case is not None
    assert made.decision.case.reviews[0].reviewer_name == COORDINATOR.email


def test_closing_a_case_is_the_panels_removal_with_its_reason(desk: Desk, settings: Settings) -> None:
    case = accepted(desk, child(1110))
    made = close_case(act(PANEL, settings, desk.register), case, case.case_id,
                      "Needs met in the community", TOKEN)  # fmt: skip
    closed = made.decision.case
    assert made.label == "console:close" and closed is not None
    assert closed.status is CaseStatus.CLOSED and closed.closure is not None
    assert closed.closure.reason is ClosureReason.REMOVED_BY_PANEL
    assert closed.closure.detail == "Needs met in the community"
    assert UnscheduleEffect(case_id=case.case_id) in made.decision.effects
    with pytest.raises(ActionRefusedError) as refused:
        close_case(act(PANEL, settings, desk.register), case, case.case_id, " ", TOKEN)  # fmt: skip
    assert [r.field for r in refused.value.reasons] == ["removal_reason"]


def withdrawal_fields(person: dict[str, str]) -> dict[str, str]:
    return {
        "child_nhs_number": person["child_nhs_number"],
        "child_date_of_birth": person["child_date_of_birth"],
        "withdrawn_by_name": "Grace Okafor",
        "withdrawn_by_relationship": "Mother",
        "withdrawal_date": uk(NOW.date()),
    }


def test_withdrawal_erases_like_the_form_and_checks_the_typed_identity(
    desk: Desk, settings: Settings
) -> None:
    person = child(1111)
    case = accepted(desk, person)
    wrong = {**withdrawal_fields(person), "child_nhs_number": child(1140)["child_nhs_number"]}
    assert wrong["child_nhs_number"] != person["child_nhs_number"]
    with pytest.raises(ActionRefusedError) as refused:
        withdraw_consent(act(COORDINATOR, settings, desk.register), case, case.case_id,
                         wrong, TOKEN)  # fmt: skip
    assert codes(refused) == {ReasonCode.IDENTITY_MISMATCH}
    with pytest.raises(ActionRefusedError, match="role:panel"):
        withdraw_consent(act(PANEL, settings, desk.register), case, case.case_id,
                         withdrawal_fields(person), TOKEN)  # fmt: skip
    made = withdraw_consent(act(COORDINATOR, settings, desk.register), case, case.case_id,
                            withdrawal_fields(person), TOKEN)  # fmt: skip
    decision = made.decision
    assert decision.outcome is Outcome.WITHDRAWN and decision.case is not None
    assert decision.case.status is CaseStatus.WITHDRAWN and decision.case.child is None
    assert decision.forget_person_key == case.person_key
    assert EraseEffect(case_id=case.case_id) in decision.effects


# ----- manual entry from a scan -----
def test_a_scanned_consent_entered_by_hand_completes_the_waiting_case(
    desk: Desk, settings: Settings
) -> None:
    person = child(1113)
    raw = email(("r.pdf", referral_pdf(**person)), ("scan.pdf", scanned_pdf()))
    first = desk.receive(raw)
    assert first.outcome is Outcome.PENDING and first.case is not None
    typed = consent_fields(**{**person, "child_date_of_birth": person["child_date_of_birth"]})
    outcome = Submission(message_id="msg-1", outcome=first.outcome, received_at=NOW)
    mail = parse_mail(raw)
    made = enter_by_hand(act(COORDINATOR, settings, desk.register), mail, "msg-1", outcome,
                         [EnteredForm(2, FormKind.CONSENT, typed)])  # fmt: skip
    assert made.event_id == "msg-1.entry" and made.label == "console:enter"
    decision = made.decision
    assert decision.outcome is Outcome.UPDATED and decision.case is not None
    assert decision.case.case_id == first.case.case_id
    assert decision.case.status is CaseStatus.ACTIVE
    answers = [e for e in decision.effects if isinstance(e, EmailEffect)]
    assert any(e.purpose is EmailPurpose.ACKNOWLEDGEMENT and e.to == ("sam.patel@nhs.net",)
               for e in answers)  # fmt: skip
    assert not any(e.purpose is EmailPurpose.MANUAL_ENTRY for e in answers)


def test_a_scan_entered_by_hand_is_accepted_as_the_emailed_forms_would_be(
    desk: Desk, settings: Settings
) -> None:
    person = child(1114)
    raw = email(("scan.pdf", scanned_pdf()))
    first = desk.receive(raw)
    assert first.outcome is Outcome.REJECTED
    outcome = Submission(message_id="msg-1", outcome=first.outcome, received_at=NOW)
    entered = [
        EnteredForm(1, FormKind.REFERRAL, referral_fields(**person, anything_else="ignored")),
        EnteredForm(1, FormKind.CONSENT, consent_fields(**person)),
    ]
    made = enter_by_hand(act(COORDINATOR, settings, desk.register), parse_mail(raw),
                         "msg-1", outcome, entered)  # fmt: skip
    assert made.decision.outcome is Outcome.ACCEPTED and made.decision.case is not None
    assert made.decision.case.submissions == ["msg-1.entry"]


def test_a_manual_entry_that_fails_the_rules_comes_back_unless_the_rejection_is_confirmed(
    desk: Desk, settings: Settings
) -> None:
    raw = email(("scan.pdf", scanned_pdf()))
    first = desk.receive(raw)
    outcome = Submission(message_id="msg-1", outcome=first.outcome, received_at=NOW)
    person = {**child(1115), "child_date_of_birth": uk(years_ago(30))}  # too old
    entered = [EnteredForm(1, FormKind.REFERRAL, referral_fields(**person))]
    with pytest.raises(ActionRefusedError) as refused:
        enter_by_hand(act(COORDINATOR, settings, desk.register), parse_mail(raw), "msg-1",
                      outcome, entered)  # fmt: skip
    assert ReasonCode.NOT_ELIGIBLE_AGE in codes(refused)
    made = enter_by_hand(act(COORDINATOR, settings, desk.register), parse_mail(raw),
                         "msg-1", outcome, entered, send_rejection=True)  # fmt: skip
    assert made.decision.outcome is Outcome.REJECTED
    [rejection] = [e for e in made.decision.effects if isinstance(e, EmailEffect)]
    assert rejection.purpose is EmailPurpose.REJECTION and rejection.to == ("sam.patel@nhs.net",)


def test_manual_entry_refusals(desk: Desk, settings: Settings) -> None:
    person = child(1116)
    raw = email(("r.pdf", referral_pdf(**person)), ("scan.pdf", scanned_pdf()))
    first = desk.receive(raw)
    outcome = Submission(message_id="msg-1", outcome=first.outcome, received_at=NOW)
    mail = parse_mail(raw)

    def enter(forms: list[EnteredForm], standing: Submission | None = outcome,
              actor: Actor = COORDINATOR) -> None:  # fmt: skip
        enter_by_hand(act(actor, settings, desk.register), mail, "msg-1", standing, forms)  # fmt: skip

    consent = EnteredForm(2, FormKind.CONSENT, consent_fields(**person))
    with pytest.raises(ActionRefusedError, match="position"):
        enter([EnteredForm(1, FormKind.CONSENT, consent_fields(**person))])  # the readable one
    with pytest.raises(ActionRefusedError, match="kind-held"):
        enter([EnteredForm(2, FormKind.REFERRAL, referral_fields(**person))])
    with pytest.raises(ActionRefusedError, match="kind"):
        enter([EnteredForm(2, FormKind.REVIEW, {})])
    quarantined = outcome.model_copy(update={"outcome": Outcome.QUARANTINED})
    with pytest.raises(ActionRefusedError, match="quarantined"):
        enter([consent], quarantined)
    with pytest.raises(ActionRefusedError, match="role:panel"):
        enter([consent], actor=PANEL)


# ----- quarantine: release or dismiss -----
def quarantined(desk: Desk, raw: bytes) -> Submission:
    decision = desk.receive(raw)
    assert decision.outcome is Outcome.QUARANTINED
    return Submission(message_id=f"msg-{desk.count}", outcome=decision.outcome,
                      reasons=decision.reasons, received_at=NOW)  # fmt: skip


def test_a_released_self_referral_is_decided_as_from_its_sender(settings: Settings) -> None:
    # SelfReferrals quarantine: a family's email is quarantined, and released by hand.
    settings = settings.model_copy(update={"self_referrals": "quarantine"})
    desk = Desk(settings)
    person = child(1117)
    raw = email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person)),
                sender="a.parent@gmail.com")  # fmt: skip
    recorded = quarantined(desk, raw)
    assert {r.code for r in recorded.reasons} == {ReasonCode.SENDER_NOT_ALLOWED}
    mail = parse_mail(raw)
    made = release(act(COORDINATOR, settings, desk.register), mail, "msg-1", recorded, None)  # fmt: skip
    assert made.event_id == "msg-1.triage" and made.label == "console:release"
    assert made.header_message_id == mail.duplicate_key
    assert made.decision.outcome is Outcome.ACCEPTED
    [answer] = [e for e in made.decision.effects
                if isinstance(e, EmailEffect) and e.to == ("a.parent@gmail.com",)]  # fmt: skip
    # Not a secure address: the reference only, never the child's details.
    assert person["child_family_name"] not in answer.body
    assert person["child_nhs_number"] not in answer.body
    with pytest.raises(ActionRefusedError, match="triaged"):
        release(act(COORDINATOR, settings, desk.register), mail, "msg-1", recorded,
                recorded.model_copy(update={"outcome": Outcome.ACCEPTED}))  # fmt: skip
    with pytest.raises(ActionRefusedError, match="role:panel"):
        release(act(PANEL, settings, desk.register), mail, "msg-1", recorded, None)  # fmt: skip


@pytest.mark.parametrize("verdicts", [{"virus": "FAIL"}, {"spam": "FAIL"}])
def test_spam_or_virus_mail_is_never_released_only_dismissed(
    desk: Desk, settings: Settings, verdicts: dict[str, str]
) -> None:
    person = child(1118)
    raw = email(("r.pdf", referral_pdf(**person)), **verdicts)
    recorded = quarantined(desk, raw)
    with pytest.raises(ActionRefusedError, match="spam-or-virus"):
        release(act(COORDINATOR, settings, desk.register), parse_mail(raw), "msg-1",
                recorded, None)  # fmt: skip
    made = dismiss("msg-1", recorded, None, actor=COORDINATOR)
    assert made.event_id == "msg-1.triage" and made.label == "console:dismiss"
    assert made.decision.outcome is Outcome.QUARANTINED and made.decision.effects == []
    assert made.decision.reasons == recorded.reasons


def test_a_review_from_outside_the_team_stays_quarantined_when_released(
    desk: Desk, settings: Settings
) -> None:
    from infrastructure.samples import review_pdf

    case = accepted(desk, child(1119))
    raw = email(("rv.pdf", review_pdf(child(1119), case.case_id)), sender="someone@nhs.net")
    recorded = quarantined(desk, raw)
    with pytest.raises(ActionRefusedError) as refused:
        release(act(COORDINATOR, settings, desk.register), parse_mail(raw), "msg-2",
                recorded, None)  # fmt: skip
    assert refused.value.code == "still-quarantined"


def test_only_a_quarantined_email_is_released_or_dismissed(desk: Desk) -> None:
    accepted_email = Submission(message_id="m", outcome=Outcome.ACCEPTED, received_at=NOW)
    with pytest.raises(ActionRefusedError, match="not-quarantined"):
        dismiss("m", accepted_email, None, actor=COORDINATOR)
    with pytest.raises(ActionRefusedError, match="not-quarantined"):
        dismiss("m", None, None, actor=COORDINATOR)


# ----- subject access -----
def test_the_subject_access_zip_holds_the_summary_json_audit_outcomes_and_files(
    desk: Desk, settings: Settings
) -> None:
    person = child(1120)
    case = accepted(desk, person)
    hostile = Attachment(position=1, content_type="application/pdf", content=b"%PDF-1.4 x",
                         filename="../../etc/passwd.pdf")  # fmt: skip
    photo = Attachment(position=2, content_type="image/jpeg", content=b"\xff\xd8\xff\xe0")
    outcome = Submission(message_id="msg-1", outcome=Outcome.ACCEPTED, case_id=case.case_id,
                         received_at=NOW)  # fmt: skip
    archive = zipfile.ZipFile(io.BytesIO(subject_access_export(
        case, [], [HeldEmail("msg-1", outcome, (hostile, photo))], NOW, COORDINATOR)))  # fmt: skip
    names = set(archive.namelist())
    assert names == {
        "summary.txt", "case.json", "audit.json", "emails.json",
        "files/email-1/attachment-1.pdf", "files/email-1/attachment-2.jpg",
    }  # fmt: skip
    summary = archive.read("summary.txt").decode()
    assert person["child_given_name"] in summary and case.case_id in summary
    assert "../../etc/passwd.pdf" in summary  # listed as sent, never used as a path
    assert json.loads(archive.read("case.json"))["case_id"] == case.case_id
    assert json.loads(archive.read("emails.json"))[0]["outcome"]["outcome"] == "accepted"
    assert archive.read("files/email-1/attachment-1.pdf") == b"%PDF-1.4 x"
