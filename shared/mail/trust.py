"""Whether an email is trusted: who sent it, and whether the receiving server (SES, or the
MailboxFunction for the Microsoft 365 route) could prove it.

Untrusted mail is quarantined and never answered. The team (coordinators, panel members)
can erase a child's case with a withdrawal form, so they are recognised only when DMARC
passed for their own domain (or DKIM did, where the settings accept DKIM alignment), and
never through a forward.
"""

from __future__ import annotations

from shared.mail.inbound import InboundMail
from shared.mail.reports import DeliveryReport
from shared.outcome import Reason, ReasonCode
from shared.settings import Settings, domain_matches, domain_of

_FAILED = {"FAIL", "PERMERROR"}


def is_authenticated(mail: InboundMail, settings: Settings) -> bool:
    """Whether SES proved the From address's domain: DMARC passed for that very domain, or
    a DKIM signature of that domain passed where the settings accept DKIM alignment."""
    verdicts = mail.verdicts
    domain = domain_of(mail.authenticated_address)
    if not _from_receiving_server(mail, settings) or not domain:
        return False
    if verdicts.dmarc == "PASS" and verdicts.dmarc_header_from == domain:
        return True
    return (
        verdicts.dkim == "PASS"
        and domain in verdicts.dkim_domains
        and domain_matches(mail.authenticated_address, settings.dkim_aligned_domains)
    )


def is_team_sender(mail: InboundMail, settings: Settings) -> bool:
    """A coordinator or panel member, proved so: the only senders whose review outcome and
    withdrawal forms are taken."""
    named = mail.sender in settings.coordinator_addresses or mail.sender in settings.panel_addresses
    return named and mail.forwarded_by is None and is_authenticated(mail, settings)


def vouched_bounce(mail: InboundMail, settings: Settings) -> DeliveryReport | None:
    """A non-delivery report about one of our answers on the Graph route, as Exchange
    Online delivered it to the shared mailbox; else None. What it may cause is a notice to
    the coordinators (never a change to a case), so this asks:
    - that the MailboxFunction vouched for it: its verdicts are the topmost, and Exchange's
      transport delivered it (the virus verdict is PASS only then) and did not find it spam;
    - that the email it reports on is ours: sent as the shared mailbox, with the purpose our
      Graph mailer writes (shared.bounces acts on an answer's only) and a Message-ID (the
      notice goes once per bounced email).
    Not that its sender is authenticated: Exchange's own reports come from the tenant's
    postmaster (`MicrosoftExchange...@<tenant>.onmicrosoft.com`) signed in as Internal, a
    remote server's from a null sender, neither with a DMARC pass for a domain we know. A
    forged one costs the coordinators an email at worst."""
    report = mail.delivery_report
    verdicts = mail.verdicts
    if (
        report is None
        or not report.failed_recipients
        or settings.outbound_route != "graph"
        or not _from_receiving_server(mail, settings)
        or verdicts.virus != "PASS"
        or verdicts.spam not in ("PASS", "GRAY")
    ):
        return None
    ours = bool(settings.graph_mailbox) and report.original_from == settings.graph_mailbox.lower()
    tagged = report.original_purpose is not None and report.original_message_id is not None
    return report if ours and tagged else None


def _from_receiving_server(mail: InboundMail, settings: Settings) -> bool:
    """The topmost results are the configured route's receiving server's, never the other
    route's: a Graph-route email carrying an `amazonses.com` header (or the reverse) was
    not received by the server that wrote it."""
    verdicts = mail.verdicts
    return verdicts.found and verdicts.authserv_id == settings.receiving_authserv_id


def _authentication_reasons(mail: InboundMail, settings: Settings) -> list[Reason]:
    verdicts = mail.verdicts
    if not _from_receiving_server(mail, settings):
        return [
            Reason(
                code=ReasonCode.MAIL_AUTH_FAILED,
                message="The email carries no authentication results from the receiving mail "
                "server, so its sender cannot be checked.",
            )
        ]
    reasons = []
    if verdicts.dmarc_header_from != domain_of(mail.authenticated_address):
        reasons.append(
            Reason(
                code=ReasonCode.MAIL_AUTH_FAILED,
                message="DMARC was not evaluated for the domain of the From address.",
            )
        )
    failed = [name for name in ("spf", "dkim", "dmarc") if getattr(verdicts, name) in _FAILED]
    # An SPF soft fail is common for forwarded mail; it counts only when DMARC did not pass.
    if verdicts.spf == "SOFTFAIL" and verdicts.dmarc != "PASS":
        failed.insert(0, "spf")
    if failed:
        reasons.append(
            Reason(
                code=ReasonCode.MAIL_AUTH_FAILED,
                message=f"Sender authentication failed ({', '.join(failed).upper()}).",
            )
        )
    return reasons


def _scan_reasons(mail: InboundMail) -> list[Reason]:
    """SES scans every email it receives (the receipt rule asks it to), and the
    MailboxFunction writes Exchange's verdicts: a missing verdict means the scan did not
    happen, which is not a pass."""
    verdicts = mail.verdicts
    reasons = []
    if verdicts.virus != "PASS":
        reasons.append(
            Reason(
                code=ReasonCode.VIRUS,
                message="The virus scan did not pass."
                if verdicts.virus
                else "The email has no virus scan verdict.",
            )
        )
    if verdicts.spam not in ("PASS", "GRAY"):
        reasons.append(
            Reason(
                code=ReasonCode.SPAM,
                message="The spam check failed."
                if verdicts.spam
                else "The email has no spam check verdict.",
            )
        )
    return reasons


def trust_reasons(mail: InboundMail, settings: Settings) -> list[Reason]:
    """Every reason not to trust this email. Untrusted mail is quarantined, never answered."""
    reasons: list[Reason] = list(mail.problems)
    if not mail.sender and not mail.problems:
        reasons.append(
            Reason(code=ReasonCode.SENDER_NOT_ALLOWED, message="The email has no sender.")
        )
    if not mail.original_sender_found:
        reasons.append(
            Reason(
                code=ReasonCode.SENDER_NOT_ALLOWED,
                message="The email came through a trusted forwarder, but the original sender "
                "could not be found in it. A coordinator should check who sent it.",
            )
        )
    if mail.sender and mail.sender == settings.inbox_address.lower():
        reasons.append(
            Reason(
                code=ReasonCode.SENDER_NOT_ALLOWED,
                message="The email is from the DSR's own address (one of our emails came back); "
                "it is not answered, so no loop of replies starts.",
            )
        )
    if mail.automatic:
        reasons.append(
            Reason(
                code=ReasonCode.SENDER_NOT_ALLOWED,
                message="The email is an automatic reply or a delivery report; it is not "
                "answered, so no loop of replies starts.",
            )
        )
    if not mail.problems:
        reasons += _scan_reasons(mail) + _authentication_reasons(mail, settings)
    if mail.forwarded_by and not is_authenticated(mail, settings):
        reasons.append(
            Reason(
                code=ReasonCode.MAIL_AUTH_FAILED,
                message="The email came from a trusted forwarder's address, but DMARC did not "
                "pass for it, so it is not taken as forwarded by the DSR mailbox.",
            )
        )
    coordinator = mail.sender in settings.coordinator_addresses and is_team_sender(mail, settings)
    allowed = domain_matches(mail.sender, settings.allowed_sender_domains) or coordinator
    if mail.sender and mail.original_sender_found and not allowed:
        reasons.append(DOMAIN_NOT_ACCEPTED)
    return reasons


DOMAIN_NOT_ACCEPTED = Reason(
    code=ReasonCode.SENDER_NOT_ALLOWED,
    message="The sender's domain is not one the DSR accepts referrals from.",
)


def is_authenticated_family(mail: InboundMail, settings: Settings, reasons: list[Reason]) -> bool:
    """A family's or young person's own email: its only fault is a domain outside the
    allowed ones, and the receiving server proved it - SPF, DKIM and DMARC passed, DMARC
    for the From domain itself - with clean spam and virus verdicts, sent by them (not
    forwarded, not automatic). With `SelfReferrals` `verify` such an email is not
    quarantined for its domain: a self-referral waits for a coordinator to verify it, a
    withdrawal of consent is held for one to confirm; what it holds is the decider's."""
    verdicts = mail.verdicts
    return (
        settings.self_referrals == "verify"
        and reasons == [DOMAIN_NOT_ACCEPTED]
        and mail.forwarded_by is None
        and not mail.automatic
        and _from_receiving_server(mail, settings)
        and (verdicts.spf, verdicts.dkim, verdicts.dmarc) == ("PASS", "PASS", "PASS")
        and verdicts.dmarc_header_from == domain_of(mail.sender)
        and (verdicts.spam, verdicts.virus) == ("PASS", "PASS")
    )
