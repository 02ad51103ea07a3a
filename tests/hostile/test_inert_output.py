"""What we send is inert: a child's name that is a spreadsheet formula cannot run in the panel
pack's CSV, and a value with line breaks cannot add lines that look like other fields to the
emails we send."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from shared.case import EmailEffect
from shared.outcome import Outcome
from shared.panel_pack import CSV_COLUMNS, PanelPackService, panel_pack_csv
from tests.conftest import NOW
from tests.hostile.builders import (
    ATTACKER,
    COUNCIL_COORDINATOR,
    PDF,
    REFERRER,
    SETTINGS_WITH_COUNCIL,
    consent_form,
    from_line,
    message,
    raw_email,
    referral_form,
    ses_results,
)
from tests.hostile.desk import Desk

FORMULAS = [
    '=HYPERLINK("http://x","y")',
    "+1",
    "-1",
    "@SUM(1)",
    "\t=1+2",
    "\r=1+2",
    "=cmd|' /C calc'!A0",
    "\uff1d1+2",  # a full-width equals sign, which some spreadsheets read as "="
]
DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def _accepted_with(desk: Desk, **names: str) -> None:
    raw = raw_email(
        (from_line(REFERRER),),
        body=message(
            subject="DSR referral",
            attachments=[(referral_form(**names), PDF), (consent_form(**names), PDF)],
        ),
    )
    processed = desk.receive(raw)
    assert processed.outcome is Outcome.ACCEPTED, processed.submission.reasons


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("field", ["child_given_name", "child_family_name"])
def test_a_formula_as_a_name_is_inert_in_the_panel_pack_csv(field: str, formula: str) -> None:
    desk = Desk()
    _accepted_with(desk, **{field: formula})
    cases = desk.register.cases()
    text = panel_pack_csv(cases, NOW.date())
    cells = _cells(text)
    assert len(cells) == 2 * len(CSV_COLUMNS), "one header row and one case row"
    for cell in cells:
        assert not cell.startswith(DANGEROUS_FIRST), repr(cell)


def test_the_panel_pack_email_carries_an_inert_csv() -> None:
    """Through the DigestFunction's own service: the CSV attached to the secure email."""
    desk = Desk()
    for formula, nhs in (('=HYPERLINK("http://x","y")', None), ("@SUM(1)", "401 023 2137")):
        overrides = {"child_given_name": formula}
        if nhs:
            overrides["child_nhs_number"] = nhs
        _accepted_with(desk, **overrides)
    # The pack's emails as the EffectsFunction builds them when it sends the pack.
    emails = PanelPackService(desk.settings, desk.register).emails(NOW + timedelta(hours=1))
    attachments = [attachment for effect in emails for attachment in effect.attachments]
    assert attachments, "the secure coordinators get the CSV"
    for attachment in attachments:
        for cell in _cells(attachment.text):
            assert not cell.startswith(DANGEROUS_FIRST), repr(cell)


# ----- line breaks in values cannot forge lines of our emails -----
BREAKS = ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1e"]
FORGED = "NHS number: 0000000000"
LABELS = ("Child:", "Date of birth:", "NHS number:", "Referrer:", "Suggested rating:", "Consent:")


def _forged_lines(effect: EmailEffect) -> list[str]:
    return [
        line
        for line in effect.body.splitlines()
        if line.strip().startswith(("NHS number: 000", "Bcc:", "Reasons: none"))
    ]


@pytest.mark.parametrize("brk", BREAKS, ids=[repr(b) for b in BREAKS])
@pytest.mark.parametrize(
    "field", ["child_given_name", "child_family_name", "referrer_name", "referrer_organisation"]
)
def test_a_line_break_in_a_value_cannot_add_a_field_line(field: str, brk: str) -> None:
    desk = Desk()
    value = ("Amira" if field.startswith("child") else "Dr Sam Patel") + brk + FORGED
    overrides = {field: value}
    raw = raw_email(
        (from_line(REFERRER),),
        body=message(
            subject="DSR referral",
            attachments=[
                (referral_form(**overrides), PDF),
                (
                    consent_form(**{k: v for k, v in overrides.items() if k.startswith("child")}),
                    PDF,
                ),
            ],
        ),
    )
    processed = desk.receive(raw)
    assert processed.outcome in (Outcome.ACCEPTED, Outcome.REJECTED), processed.submission.reasons
    if processed.outcome is Outcome.REJECTED:
        assert processed.codes <= {"FIELD_INVALID"}, processed.codes
    for email in processed.emails:
        assert _forged_lines(email) == [], email.body
        lines = [line.strip() for line in email.body.splitlines()]
        for label in LABELS:
            assert sum(line.startswith(label) for line in lines) <= 1, (label, email.body)


def test_a_quarantined_senders_address_cannot_forge_lines_of_the_alert() -> None:
    desk = Desk(SETTINGS_WITH_COUNCIL)
    raw = raw_email(
        (f'From: "=?utf-8?q?x=0AReasons:_none_-_please_process?="@{ATTACKER.split("@")[1]}',),
        auth=(ses_results("gmail.com"),),
        body=message(body="hello"),
    )
    processed = desk.receive(raw)
    assert processed.outcome is Outcome.QUARANTINED
    assert processed.emails, "the coordinators are alerted"
    for email in processed.emails:
        assert _forged_lines(email) == [], email.body
    council = [email for email in processed.emails if COUNCIL_COORDINATOR in email.to]
    assert council and all(ATTACKER.split("@")[0] not in email.body for email in council)


def test_a_senders_content_type_is_not_echoed_at_length() -> None:
    """The attachment's declared type is named in the reasons we send: a sender cannot make
    our own email carry a paragraph of their text."""
    desk = Desk()
    pitch = "please-call-0800-000-000-to-verify-your-nhsmail-account-" * 200
    boundary = "b"
    body = (
        "To: bromley.dsr@nhs.net\nSubject: DSR\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain\n\nForms attached.\n"
        f"--{boundary}\nContent-Type: application/{pitch}\n"
        'Content-Disposition: attachment; filename="f.bin"\n\nxyz\n'
        f"--{boundary}--\n"
    )
    processed = desk.receive(raw_email((from_line(REFERRER),), body=body.encode()))
    assert processed.outcome in (Outcome.REJECTED, Outcome.QUARANTINED)
    for reason in processed.submission.reasons:
        assert len(reason.message) < 1000, reason.message[:300]
    for email in processed.emails:
        assert pitch[:200] not in email.body


# ----- what the sender wrote around the forms is never echoed -----
def test_a_filename_and_subject_naming_the_child_are_never_echoed() -> None:
    """A school's email (not a secure domain): its subject and an unreadable file's name
    both name the child; the answer to the school and the council coordinator's copy carry
    neither (Desk.receive searches every email outside the secure domains)."""
    desk = Desk(SETTINGS_WITH_COUNCIL)
    built = message(
        subject="Referral for Amira Okafor-Lewis, NHS 943 476 5919, BR1 3AA",
        attachments=[(referral_form(), PDF), (b"\xff\xd8\xff\xe0 a scan", "image/jpeg")],
    )
    for part in built.iter_attachments():
        part.replace_header(
            "Content-Disposition", 'attachment; filename="Amira Okafor-Lewis 9434765919.pdf"'
        )
    raw = raw_email(
        ("From: Amira Okafor-Lewis's school <senco@school.sch.uk>",),
        auth=(ses_results("school.sch.uk"),),
        body=built,
    )
    processed = desk.receive(raw)
    assert processed.outcome in (Outcome.PENDING, Outcome.REJECTED), processed.submission.reasons
    assert "senco@school.sch.uk" in processed.recipients


def test_a_quarantined_sender_naming_the_child_is_withheld_from_non_secure_coordinators() -> None:
    desk = Desk(SETTINGS_WITH_COUNCIL)
    raw = raw_email(
        ('From: "Amira Okafor-Lewis" <amira.okafor-lewis@gmail.com>',),
        auth=(ses_results("gmail.com"),),
        body=message(body="Please add me to the register."),
    )
    processed = desk.receive(raw)
    assert processed.outcome is Outcome.QUARANTINED
    council = [email for email in processed.emails if COUNCIL_COORDINATOR in email.to]
    assert council and all("okafor" not in email.body.lower() for email in council)


BIDI = ["\u202a", "\u202b", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]


@pytest.mark.parametrize("control", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_bidirectional_controls_in_a_name_never_reach_an_email(control: str) -> None:
    """Trojan-source style: a right-to-left override in a name would reorder what the
    coordinators read (`Amira` + RLO + `9195674349` shows as a different NHS number)."""
    desk = Desk()
    name = f"Amira{control}9195674349"
    raw = raw_email(
        (from_line(REFERRER),),
        body=message(
            subject="DSR referral",
            attachments=[
                (referral_form(child_given_name=name), PDF),
                (consent_form(child_given_name=name), PDF),
            ],
        ),
    )
    processed = desk.receive(raw)
    assert processed.outcome in (Outcome.ACCEPTED, Outcome.REJECTED)
    for email in processed.emails:
        assert control not in email.body and control not in email.subject
    if processed.outcome is Outcome.ACCEPTED:
        assert all(
            control not in cell
            for cell in _cells(panel_pack_csv(desk.register.cases(), NOW.date()))
        )


def test_template_syntax_in_a_value_is_shown_as_written() -> None:
    desk = Desk()
    name = "$inbox_address ${area_name} $$ {child_details} %s"
    _accepted_with(desk, child_family_name=name)
    notification = [
        email
        for email in desk.register.effects_of(next(iter(desk.register.decisions)))
        if isinstance(email, EmailEffect) and "$inbox_address" in email.body
    ]
    assert notification, "the coordinators see the name exactly as written"
