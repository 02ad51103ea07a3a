"""Answers that bounce on the Graph route reach the coordinators: Exchange Online's
non-delivery report about one of our answers (real MIME in Exchange's layout: sent through
the local Graph by the GraphMailer, returned by it as Exchange returns one, then stamped by
the MailboxFunction's verdicts and parsed by the intake) gives the SES route's notice, once
per bounced email; a forged or unvouched one gives nothing, and nothing changes a case."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from infrastructure.local_graph import LocalGraphMailbox
from infrastructure.local_graph_ndr import exchange_ndr
from shared.adapters.graph import GraphClient, GraphCredentials
from shared.adapters.graph_mailer import GraphMailer
from shared.adapters.graph_verdicts import stamped
from shared.case import Case, CaseStatus, Decision, EmailEffect, EmailPurpose
from shared.intake import IntakeContext, IntakeDecider
from shared.mail import parse_mail
from shared.mail.reports import CASE_HEADER, PURPOSE_HEADER
from shared.mail.trust import vouched_bounce
from shared.outcome import Outcome
from shared.settings import Settings
from tests.conftest import InMemoryRegister, PlainHasher

MAILBOX = "bromley.dsr@nhs.net"
REFERRER = "sam.patel@nhs.net"
CASE_ID = "DSR-ABCDEFGH"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SETTINGS = Settings(
    inbound_route="graph",
    outbound_route="graph",
    graph_mailbox=MAILBOX,
    inbox_address=MAILBOX,
    coordinator_addresses=("dsr.coordinator@nhs.net", "dsr.admin@bromley.gov.uk"),
)


@pytest.fixture
def local() -> Iterator[LocalGraphMailbox]:
    with LocalGraphMailbox(MAILBOX) as graph:
        graph.undeliverable.add(REFERRER)
        yield graph


def send(local: LocalGraphMailbox, purpose: EmailPurpose, case: str | None = CASE_ID) -> bytes:
    """Our email to the referrer, sent by the GraphMailer; the NDR Exchange returns."""
    credentials = GraphCredentials.model_validate(local.credentials)
    graph = GraphClient(lambda: credentials, local.api_url, local.url)
    email = EmailEffect(purpose=purpose, to=(REFERRER,), subject=f"DSR {CASE_ID}", body="Hello")
    GraphMailer(graph, MAILBOX).send(email, case_reference=case)
    [ndr] = [m for m in local.state.messages.values() if m.folder != "AQMkADSentItems="]
    return ndr.raw


def register(status: CaseStatus = CaseStatus.ACTIVE) -> InMemoryRegister:
    held = InMemoryRegister()
    held.cases_by_id[CASE_ID] = Case(
        case_id=CASE_ID, status=status, person_key="k", created_at=NOW, updated_at=NOW
    )
    return held


def decide(raw: bytes, held: InMemoryRegister, settings: Settings = SETTINGS) -> Decision:
    """The MailboxFunction's stamping, then the intake's decision, as on the route."""
    mail = parse_mail(stamped(raw, "nhs.net"), settings.trusted_forwarders)
    return IntakeDecider(IntakeContext(settings, NOW), held, PlainHasher()).decide(mail, "m1")


def test_our_email_carries_its_purpose_and_case_for_exchange_to_return(
    local: LocalGraphMailbox,
) -> None:
    raw = send(local, EmailPurpose.ACKNOWLEDGEMENT)
    [sent] = local.sent_items()
    assert (sent[PURPOSE_HEADER], sent[CASE_HEADER]) == ("acknowledgement", CASE_ID)
    # Exchange's NDR: a delivery-status report from the tenant's own Exchange.
    assert b"report-type=delivery-status" in raw and b"X-MS-Exchange-Message-Is-Ndr:" in raw
    assert f"{CASE_HEADER}: {CASE_ID}".encode() in raw


@pytest.mark.parametrize("headers_part", ["message/rfc822", "text/rfc822-headers"])
def test_a_bounced_answer_reaches_the_coordinators_with_its_case(
    local: LocalGraphMailbox, headers_part: str
) -> None:
    raw = send(local, EmailPurpose.ACKNOWLEDGEMENT)
    if headers_part != "message/rfc822":
        raw = raw.replace(b"Content-Type: message/rfc822", f"Content-Type: {headers_part}".encode())
    held = register()
    decision = decide(raw, held)
    # Still quarantined (never answered), nothing of the case changed, but linked to it (the
    # stored report holds our answer's headers: it is erased with the case).
    assert decision.outcome is Outcome.QUARANTINED and decision.case is None
    assert decision.related_case_id == CASE_ID and held.cases_by_id[CASE_ID].version == 0
    emails = [e for e in decision.effects if isinstance(e, EmailEffect)]
    assert len(emails) == len(decision.effects) == 2
    assert {e.purpose for e in emails} == {EmailPurpose.MAIL_PROBLEM}
    assert sorted(a for e in emails for a in e.to) == sorted(SETTINGS.coordinator_addresses)
    assert all(f"the address bounced it, {CASE_ID}" in e.subject for e in emails)
    [secure] = [e for e in emails if e.to == ("dsr.coordinator@nhs.net",)]
    [other] = [e for e in emails if e.to == ("dsr.admin@bromley.gov.uk",)]
    assert REFERRER in secure.body and "Purpose: acknowledgement" in secure.body
    assert REFERRER not in other.body  # an address only at secure addresses
    # Once per bounced email: the next report about it (Exchange's second, a copy) is silent.
    assert decision.answered_once is not None
    held.headers[decision.answered_once] = "m1"
    again = decide(raw, held)
    assert again.outcome is Outcome.QUARANTINED and again.effects == []


def test_a_rejection_bounce_is_reported_and_a_missing_case_is_no_case(
    local: LocalGraphMailbox,
) -> None:
    decision = decide(send(local, EmailPurpose.REJECTION, case=None), register())
    assert decision.related_case_id is None and len(decision.effects) == 2
    assert all("no case" in e.subject for e in decision.effects if isinstance(e, EmailEffect))


def test_a_bounce_naming_an_erased_case_does_not_reach_it(local: LocalGraphMailbox) -> None:
    decision = decide(send(local, EmailPurpose.ACKNOWLEDGEMENT), register(CaseStatus.WITHDRAWN))
    assert decision.related_case_id is None and len(decision.effects) == 2


def test_reports_about_the_coordinators_own_emails_are_not_emailed(
    local: LocalGraphMailbox,
) -> None:
    raw = send(local, EmailPurpose.COORDINATOR_NOTIFICATION)
    assert vouched_bounce(parse_mail(stamped(raw, "nhs.net"), ()), SETTINGS) is not None
    assert decide(raw, register()).effects == []


def _forged(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert old in raw
    return raw.replace(old, new)


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        # Not through Exchange's transport: an item made in the mailbox, or sent from outside
        # with Exchange's header (its firewall removes it; two of them vouch for nothing).
        (b"X-MS-Exchange-Organization-AuthAs: Internal\r\n", b"", "no AuthAs"),
        (b"X-MS-Exchange-Organization-AuthAs: Internal\r\n",
         b"X-MS-Exchange-Organization-AuthAs: Internal\r\n"
         b"X-MS-Exchange-Organization-AuthAs: Anonymous\r\n", "two AuthAs"),
        (b"X-MS-Exchange-Organization-SCL: -1", b"X-MS-Exchange-Organization-SCL: 6", "spam"),
        # About someone else's email, or one without our purpose header.
        (f"From: {MAILBOX}".encode(), b"From: someone@nhs.net", "not ours"),
        (f"{PURPOSE_HEADER}: acknowledgement\r\n".encode(), b"", "no purpose"),
        # A delay is not a bounce: Exchange is still trying.
        (b"Action: failed", b"Action: delayed", "delayed"),
        (b"report-type=delivery-status", b"report-type=disposition-notification", "a receipt"),
    ],
)  # fmt: skip
def test_an_unvouched_or_forged_report_tells_nobody(
    local: LocalGraphMailbox, old: bytes, new: bytes, why: str
) -> None:
    raw = _forged(send(local, EmailPurpose.ACKNOWLEDGEMENT), old, new)
    decision = decide(raw, register())
    assert decision.outcome is Outcome.QUARANTINED, why
    assert (decision.effects, decision.case, decision.related_case_id) == ([], None, None), why


def test_on_the_ses_route_out_a_report_in_the_mailbox_is_left_to_ses_events(
    local: LocalGraphMailbox,
) -> None:
    raw = send(local, EmailPurpose.ACKNOWLEDGEMENT)
    ses_out = SETTINGS.model_copy(update={"outbound_route": "ses"})
    assert decide(raw, register(), ses_out).effects == []


def test_a_report_the_mailbox_function_did_not_stamp_tells_nobody(
    local: LocalGraphMailbox,
) -> None:
    """An SES-route stack never vouches for a Graph report (its authserv-id is SES's)."""
    raw = exchange_ndr(b"From: " + MAILBOX.encode() + b"\r\nX-DSR-Purpose: acknowledgement\r\n"
                       b"Message-ID: <a@nhs.net>\r\n\r\nHi", REFERRER)  # fmt: skip
    ses_in = SETTINGS.model_copy(update={"inbound_route": "ses"})
    assert decide(raw, register(), ses_in).effects == []
    assert len(decide(raw, register()).effects) == 2  # the same report on the Graph route
