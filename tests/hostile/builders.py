"""Hostile emails, byte by byte where it matters.

`raw_email` puts SES's headers on top (its `Authentication-Results` is the very first
line), then whatever sender headers an attack needs, written exactly as given, then an
ordinary message built with the standard library. The sample child is the samples' default
(Amira Okafor-Lewis); every value of hers is in `tests.end_to_end.personal_data`.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from functools import cache

from infrastructure.samples import (
    TODAY,
    consent_fields,
    consent_pdf,
    referral_fields,
    referral_pdf,
    review_pdf,
    uk,
    withdrawal_pdf,
)
from shared.settings import Settings
from templates.forms.layout import CONSENT, REFERRAL, WITHDRAWAL, FormLayout

COORDINATOR = "dsr.coordinator@nhs.net"
INBOX = "bromley.dsr@nhs.net"
FORWARDER = "dsr.mailbox@nhs.net"  # the DSR's NHSmail shared mailbox
REFERRER = "sam.patel@nhs.net"
ATTACKER = "someone@gmail.com"
ATTACKER_DOMAIN = "evil.example"

SETTINGS = Settings(
    coordinator_addresses=(COORDINATOR,),
    panel_addresses=("panel.gp@nhs.net",),
    inbox_address=INBOX,
    trusted_forwarders=(FORWARDER,),
)
# The same, with a coordinator outside the secure and nhs.net domains: answers to it must
# never carry personal data, and its address alone (not its domain) is what lets it in.
COUNCIL_COORDINATOR = "dsr.admin@bromley.gov.uk"
SETTINGS_WITH_COUNCIL = SETTINGS.model_copy(
    update={"coordinator_addresses": (COORDINATOR, COUNCIL_COORDINATOR)}
)

# The sample child: her identity as the forms carry it.
PERSON = {
    name: referral_fields()[name]
    for name in ("child_given_name", "child_family_name", "child_date_of_birth", "child_nhs_number")
}
IDENTITY = {
    "child_nhs_number": PERSON["child_nhs_number"],
    "child_date_of_birth": PERSON["child_date_of_birth"],
}


# ----- SES's headers -----
def ses_results(
    domain: str = "nhs.net",
    *,
    spf: str = "pass",
    dkim: str = "pass",
    dmarc: str | None = "pass",
    mailfrom: str | None = None,
    header_from: str | None = None,
    authserv_id: str = "amazonses.com",
) -> str:
    """An `Authentication-Results` header as SES writes it (`dmarc=None` leaves DMARC out)."""
    parts = [
        f"spf={spf} smtp.mailfrom={mailfrom or domain}",
        f"dkim={dkim} header.i=@{domain}",
    ]
    if dmarc is not None:
        parts.append(f"dmarc={dmarc} header.from={header_from or domain}")
    return f"Authentication-Results: {authserv_id}; " + "; ".join(parts)


SES_PASS = ses_results()
SES_FAIL = ses_results(spf="fail", dkim="fail", dmarc="fail")


def message(
    *,
    subject: str = "DSR consent withdrawn",
    body: str = "Please see the attached form.",
    attachments: Sequence[tuple[bytes, str]] = (),
    message_id: str | None = None,
    to: str = INBOX,
) -> EmailMessage:
    """The message itself, without From or SES's headers (`raw_email` adds those)."""
    built = EmailMessage()
    built["To"] = to
    built["Subject"] = subject
    # Set raw: a hostile Message-ID (`<>`, empty, 1 MB) goes in exactly as given.
    built.set_raw("Message-ID", make_msgid(domain="nhs.net") if message_id is None else message_id)
    built["Date"] = "Mon, 23 Nov 2026 09:12:00 +0000"
    built.set_content(body)
    for number, (content, content_type) in enumerate(attachments, start=1):
        maintype, subtype = content_type.split("/", 1)
        built.add_attachment(
            content, maintype=maintype, subtype=subtype, filename=f"form-{number}.pdf"
        )
    return built


def raw_email(
    sender_lines: Sequence[str | bytes] = (f"From: Jo Adams <{COORDINATOR}>",),
    *,
    auth: Sequence[str | bytes] = (SES_PASS,),
    body: EmailMessage | bytes | None = None,
    spam: str = "PASS",
    virus: str = "PASS",
) -> bytes:
    """SES's headers on top, then `sender_lines` exactly as given, then the message."""
    top: list[bytes] = [
        line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line for line in auth
    ]
    top += [f"X-SES-Spam-Verdict: {spam}".encode(), f"X-SES-Virus-Verdict: {virus}".encode()]
    top += [
        line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line
        for line in sender_lines
    ]
    rest = body if isinstance(body, bytes) else bytes(body if body is not None else message())
    return b"\n".join(top) + b"\n" + rest


def from_line(address: str, name: str = "Jo Adams") -> str:
    return f"From: {name} <{address}>"


# ----- the forms -----
@cache
def _referral(items: tuple[tuple[str, str], ...]) -> bytes:
    return referral_pdf(**dict(items))


@cache
def _consent(items: tuple[tuple[str, str], ...]) -> bytes:
    return consent_pdf(**dict(items))


def referral_form(**overrides: str) -> bytes:
    return _referral(tuple(sorted(overrides.items())))


def consent_form(**overrides: str) -> bytes:
    return _consent(tuple(sorted(overrides.items())))


@cache
def withdrawal_form() -> bytes:
    return withdrawal_pdf(IDENTITY, "")


@cache
def _review(items: tuple[tuple[str, str], ...]) -> bytes:
    return review_pdf(IDENTITY, "", **dict(items))


def review_form(**overrides: str) -> bytes:
    return _review(tuple(sorted(overrides.items())))


PDF = "application/pdf"


def withdrawal_message(*, message_id: str | None = None) -> EmailMessage:
    """The coordinator's withdrawal form for the sample child, attached as a PDF."""
    return message(attachments=[(withdrawal_form(), PDF)], message_id=message_id)


def pair_message(*, message_id: str | None = None) -> EmailMessage:
    """The sample child's referral and consent forms, attached as PDFs."""
    return message(
        subject="DSR referral",
        attachments=[(referral_form(), PDF), (consent_form(), PDF)],
        message_id=message_id,
    )


def genuine_pair(sender: str = REFERRER, *, message_id: str | None = None) -> bytes:
    """The sample child's valid referral and consent, from an authenticated NHS address."""
    domain = sender.rsplit("@", 1)[1]
    return raw_email(
        (from_line(sender, "Dr Sam Patel"),),
        auth=(ses_results(domain),),
        body=pair_message(message_id=message_id),
    )


def genuine_withdrawal(sender: str = COORDINATOR) -> bytes:
    """The control: the coordinator's own, properly authenticated withdrawal."""
    return raw_email((from_line(sender),), auth=(ses_results(sender.rsplit("@", 1)[1]),),
                     body=withdrawal_message())  # fmt: skip


# ----- forms typed into the body (cheap: no PDF) -----
def typed(layout: FormLayout, fields: dict[str, str]) -> str:
    """The form typed into an email: its heading, then `Label: value` lines under the labels
    it prints, in the order it prints them (blank where `fields` has no value)."""
    lines = [f"Form id: {layout.form_id}"]
    for section in layout.sections:
        for field in section.fields:
            if field.name != "form_id":
                label = field.label.removesuffix(" (required)")
                lines.append(f"{label}: {fields.get(field.name, '')}".rstrip())
    return "\n".join(lines) + "\n"


def typed_referral(**overrides: str) -> str:
    fields = {k: v for k, v in referral_fields(**overrides).items() if not v.startswith("/")}
    fields["diagnosis_autism"] = "Yes"
    fields["services_involved"] = "CAMHS"
    return typed(REFERRAL, fields)


def typed_consent(**overrides: str) -> str:
    fields = {k: v for k, v in consent_fields(**overrides).items() if not v.startswith("/")}
    fields["fact_sheet_given"] = "Yes"
    fields["share_with_health"] = "Yes"
    return typed(CONSENT, fields)


def typed_withdrawal(**overrides: str) -> str:
    fields = {
        **IDENTITY,
        "withdrawn_by_name": "Grace Okafor",
        "withdrawn_by_relationship": "Mother",
        "withdrawal_date": uk(TODAY),
        **overrides,
    }
    return typed(WITHDRAWAL, fields)


# ----- forwarding -----
OUTLOOK_RULE = "________________________________"


def inline_forward_block(sender: str, text: str, *, name: str = "Referrer") -> str:
    """Outlook's inline forward: its rule, the original's header block, then its text."""
    return (
        f"\n\n{OUTLOOK_RULE}\n"
        f"From: {name} <{sender}>\n"
        "Sent: Monday, 23 November 2026 09:12\n"
        f"To: {INBOX}\n"
        "Subject: DSR referral\n\n"
        f"{text}"
    )


def rfc822_forward(inner: bytes, *, by: str = FORWARDER) -> bytes:
    """`inner` attached as a message (`message/rfc822`), sent by `by` with SES's pass."""
    from email import message_from_bytes, policy

    wrapper = message(subject="FW: DSR", body="Forwarded from the DSR mailbox.")
    parsed = message_from_bytes(inner, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    wrapper.add_attachment(parsed)
    return raw_email((from_line(by, "Bromley DSR"),), body=wrapper)


def inline_forward(
    text: str, attachments: Sequence[tuple[bytes, str]] = (), *, by: str = FORWARDER
) -> bytes:
    """An inline forward by `by`: `text` must already hold the marker and header block."""
    return raw_email(
        (from_line(by, "Bromley DSR"),),
        body=message(subject="FW: DSR referral", body=text, attachments=attachments),
    )
