"""The console's words for the register's codes (shared.console.wording), what a Triage
decision came to, the start of a waiting email's text, and a held withdrawal's Triage item."""

from __future__ import annotations

from datetime import timedelta

from infrastructure.samples import child, consent_pdf, email, referral_pdf
from shared.case import AuditEntry, CaseStatus, Submission
from shared.console.roles import ConsoleAction
from shared.console.triage import EXCERPT_CHARS, excerpt_of, triage_queue
from shared.console.wording import audit_words, came_of, form_rows, label_of
from shared.forms.case_forms import CaseIdentity, Withdrawal
from shared.holds import HOLD_RETENTION, HeldWithdrawal
from shared.outcome import Outcome, Reason, ReasonCode
from shared.settings import Settings
from tests.conftest import NOW
from tests.unit.console.test_actions import COORDINATOR, PANEL, accepted
from tests.unit.test_decisions import Desk


def test_the_case_page_shows_the_forms_labels_and_choices_not_their_codes(
    settings: Settings,
) -> None:
    case = accepted(Desk(settings), child(7))
    assert case.referral is not None and case.consent is not None
    referral = dict(form_rows(case.referral))
    assert referral["Has an Education, Health and Care plan (EHCP)"] in (True, False)
    assert "Has ehcp" not in referral and "Child" not in referral
    named = [str(value) for value in referral.values()] + list(referral)
    assert not [text for text in named if "risk_" in text or "service_" in text]
    consent = dict(form_rows(case.consent))
    assert consent["Consent basis"] in {"Self", "Parental responsibility", "Best interest"}
    assert not [v for v in consent["Shared with"] if "share_with" in str(v)]  # type: ignore[attr-defined]
    assert label_of("risk_crisis_last_year").startswith("Unplanned admission")
    assert label_of("something_unknown") == "Something unknown"


def entry(label: str | None, outcome: str | None = None, codes: tuple[str, ...] = ()) -> AuditEntry:
    return AuditEntry(at=NOW, event_id="e", outcome=outcome, label=label, reason_codes=codes,
                      case_id="DSR-AB12CD34")  # fmt: skip


def test_an_audit_line_says_what_was_done_in_words() -> None:
    assert audit_words(entry("console:release", "accepted")) == "Released from quarantine: accepted"
    assert audit_words(entry("console:view:case")) == "Viewed the case"
    assert audit_words(entry("console:correct:given_name")) == "Corrected given name(s)"
    assert audit_words(entry(None, "rejected", ("FIELD_MISSING",))) == "Email: rejected (a field missing)"
    assert audit_words(entry("reminder:review_due")) == "Reminder sent: review due"
    for action in ConsoleAction:  # every action has its words
        assert ":" not in audit_words(entry(action.value))


def submission(outcome: Outcome, case_id: str | None = None, *reasons: Reason) -> Submission:
    return Submission(message_id="m.triage", outcome=outcome, case_id=case_id,
                      reasons=list(reasons), received_at=NOW)  # fmt: skip


def test_a_decision_says_what_came_of_it(settings: Settings) -> None:
    case = accepted(Desk(settings), child(8))
    done = came_of(submission(Outcome.ACCEPTED, case.case_id), case)
    assert (done.outcome, done.case_id, done.words) == ("Accepted", case.case_id, "")
    waiting = case.model_copy(update={"status": CaseStatus.AWAITING_CONSENT})
    done = came_of(submission(Outcome.PENDING, case.case_id), waiting)
    assert (done.outcome, done.words) == ("Pending", "waiting for the consent form")
    why = Reason(code=ReasonCode.FIELD_MISSING, message="The referral form has no 'Organisation'.")
    done = came_of(submission(Outcome.REJECTED, None, why), None)
    assert (done.outcome, done.case_id, done.words) == ("Rejected", None, why.message)


def test_an_emails_text_is_shown_from_its_start_capped() -> None:
    assert excerpt_of("\n\nDear team,\n\n\n\nPlease see below.\n") == "Dear team,\n\nPlease see below."
    long = excerpt_of("word " * 1000 + "LAST")
    assert long.endswith(" [...]") and "LAST" not in long and len(long) <= EXCERPT_CHARS + 6


def test_a_held_withdrawal_waits_for_a_coordinator_with_its_form_and_actions() -> None:
    withdrawal = Withdrawal.model_validate({
        "identity": CaseIdentity(case_reference="DSR-AB12CD34", nhs_number="9434765919",
                                 date_of_birth=NOW.date() - timedelta(days=4000)),
        "withdrawn_by_name": "Grace  Okafor", "withdrawn_by_relationship": "Mother",
        "withdrawal_date": NOW.date(),
    })  # fmt: skip
    held = HeldWithdrawal(reference="HOLD-ABCDEFGH", message_id="m-1", sender="gp@nhs.net",
                          withdrawal=withdrawal, received_at=NOW)  # fmt: skip
    [item] = triage_queue(COORDINATOR, NOW, holds=[held])
    assert item.actions == (ConsoleAction.CONFIRM_WITHDRAWAL, ConsoleAction.DECLINE_WITHDRAWAL)
    assert item.due == NOW + HOLD_RETENTION and item.reference == "HOLD-ABCDEFGH"
    assert ("Withdrawn by", "Grace Okafor") in item.details
    assert triage_queue(PANEL, NOW, holds=[held]) == []
    assert triage_queue(COORDINATOR, NOW + HOLD_RETENTION + timedelta(days=1), holds=[held]) == []


def test_an_emails_own_text_is_its_excerpt_not_its_files() -> None:
    # The sample email's own text is what Triage shows of it (its files are not text).
    from shared.mail import parse_mail

    mail = parse_mail(email(("r.pdf", referral_pdf(**child(9))), ("c.pdf", consent_pdf())))
    assert excerpt_of(mail.body_text) == "Please find the DSR forms attached."
