"""Email addresses, read strictly: who sent an email is decided from one mailbox, parsed
without defects, whose address is plain ASCII `local@domain`. Anything else is not trusted."""

from __future__ import annotations

import re
from email.errors import ObsoleteHeaderDefect
from email.headerregistry import AddressHeader, HeaderRegistry
from email.message import Message

# An address is at most 254 characters (RFC 5321); a From header longer than this is hostile,
# and the header parser is not fast on one.
MAX_ADDRESS_CHARS = 254
MAX_FROM_HEADER_CHARS = 2048

_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
_REGISTRY = HeaderRegistry()
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def header_values(message: Message, name: str) -> list[str]:
    """A header's values as they came, unfolded, topmost first (never parsed for us)."""
    wanted = name.lower()
    return [
        _FOLD.sub("", str(value)) for key, value in message.raw_items() if key.lower() == wanted
    ]


class SenderError(ValueError):
    """Why a From header does not name one sender. Says what is wrong, never the address."""


def plain_address(text: str) -> str | None:
    """`local@domain` in lower case when `text` is exactly a plain ASCII address (a dot-atom
    local part, a domain of letters, digits and hyphens), else None."""
    if len(text) > MAX_ADDRESS_CHARS or text.count("@") != 1:
        return None
    local, domain = text.split("@")
    if not 0 < len(local) <= 64 or not all(_ATOM.fullmatch(atom) for atom in local.split(".")):
        return None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return text.lower()


# Defects of the display name only, common in real mail (Outlook quotes encoded names).
_HARMLESS_DEFECTS = (
    "encoded word inside quoted string",
    "missing trailing whitespace after encoded-word",
    "missing whitespace before encoded word",
)


def _harmless(defect: Exception) -> bool:
    return isinstance(defect, ObsoleteHeaderDefect) or str(defect) in _HARMLESS_DEFECTS


def _unicode(value: str) -> str:
    """A header as it came, its raw bytes read as UTF-8 (RFC 6532: `From: Zoë <...>`)."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def sender_of(from_values: list[str]) -> str:
    """The one sender named by the email's From header(s), or SenderError."""
    if len(from_values) != 1:
        raise SenderError(f"The email has {len(from_values)} From headers; exactly one is needed.")
    value = _unicode(from_values[0])
    if len(value) > MAX_FROM_HEADER_CHARS:
        raise SenderError("The email's From header is too long to be a sender's address.")
    try:
        header = _REGISTRY("From", value)
        assert isinstance(header, AddressHeader)
        groups = header.groups
        defects = [d for d in header.defects if not _harmless(d)]
    except Exception as error:  # the header parser raises ValueError, IndexError ...
        raise SenderError("The email's From header cannot be read.") from error
    if defects:
        raise SenderError("The email's From header is malformed.")
    if any(group.display_name is not None for group in groups):
        raise SenderError("The email's From header is a group, not one sender.")
    mailboxes = [address for group in groups for address in group.addresses]
    if len(mailboxes) != 1:
        raise SenderError(
            f"The email's From header names {len(mailboxes)} mailboxes; exactly one is needed."
        )
    mailbox = mailboxes[0]
    if _CONTROL.search(mailbox.display_name):
        raise SenderError("The email's From header has line breaks or control characters.")
    address = plain_address(mailbox.addr_spec)
    if address is None:
        raise SenderError("The email's From address is not a plain email address.")
    if "=?" in value and _undecoded_address(value) != mailbox.addr_spec:
        # `=?utf-8?q?dsr.coordinator?=@nhs.net` is a literal address to mail servers and to
        # DMARC; the parser decodes it into someone else's.
        raise SenderError("The email's From address is written as an encoded word.")
    return address


def _undecoded_address(value: str) -> str | None:
    """The one address of a From value with no encoded word decoded (`=?` made plain
    text), or None: what a mail server reads there."""
    try:
        header = _REGISTRY("From", value.replace("=?", "=_"))
        assert isinstance(header, AddressHeader)
        mailboxes = header.addresses
    except Exception:  # as in sender_of: the parser raises on hostile input
        return None
    return mailboxes[0].addr_spec if len(mailboxes) == 1 else None


def forwarded_sender(from_line: str) -> str | None:
    """The address on an inline forward's `From:` line: `Name <address>`,
    `Name [mailto:address]` or the bare address; None when it is none of those."""
    text = from_line.strip()[:MAX_FROM_HEADER_CHARS]
    if text.endswith(">") and "<" in text:
        return plain_address(text[text.rindex("<") + 1 : -1].strip())
    if text.lower().endswith("]") and "[mailto:" in text.lower():
        return plain_address(text[text.lower().rindex("[mailto:") + 8 : -1].strip())
    return plain_address(text)
