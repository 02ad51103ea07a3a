"""Reading the raw MIME that SES stores: the sender, SES's verdicts, the body and the files.

Reading never raises: whatever is wrong with an email's headers or structure becomes a
`problem` on the InboundMail (the email is then quarantined with that reason), and every
step is bounded, so no email can hang the function or exhaust its memory.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.feedparser import BytesFeedParser
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parsedate_to_datetime

from shared.mail.addresses import SenderError, header_values, sender_of
from shared.mail.authentication import MailVerdicts, read_verdicts
from shared.mail.forwarding import (
    attached_original,
    attached_original_sender,
    inline_original_sender,
)
from shared.mail.inbound import MAX_FILENAME_CHARS, Attachment, InboundMail, valid_text
from shared.mail.reports import delivery_report
from shared.outcome import Reason, ReasonCode

# Limits on the structure of one email. Real mail has a handful of parts a few levels deep.
MAX_MIME_DEPTH = 50
MAX_FILES_KEPT = 100  # files beyond these are counted (too many to read), never decoded
# Multipart containers and attached messages, counted in the raw bytes before parsing: the
# parser's cost grows with their nesting (and it fails on thousands), so it is not started.
MAX_MIME_CONTAINERS = 200
MAX_MESSAGE_ID_CHARS = 998  # one header line (RFC 5322)
DEFAULT_MAX_PART_BYTES = 10 * 1024 * 1024  # the MaxAttachmentBytes default
# The parameters of a Content-Type or Content-Disposition are read by the standard library
# in time that grows with the square of their length: longer ones are not read at all.
MAX_MIME_HEADER_CHARS = 4096
# The parser ends a line at CR, LF or CRLF, so these do too.
_MIME_HEADER = re.compile(rb"(?:\A|[\r\n])content-(?:type|disposition)[ \t]*:", re.IGNORECASE)
_HEADER_END = re.compile(rb"[\r\n](?![ \t\n])")
_PART_START = re.compile(rb"[\r\n]--")
# Lines that open a MIME part ("--boundary"): the parser's cost grows with the parts, so an
# email with more than this many is not parsed at all.
MAX_MIME_PARTS = 2000
_SPACED_FROM = re.compile(rb"^from[ \t]+:", re.IGNORECASE | re.MULTILINE)
_FEED_CHUNK = 64 * 1024
_CONTAINER = re.compile(rb"boundary\s*=|message/(?:rfc822|global)", re.IGNORECASE)


class _Unreadable(ValueError):
    pass


def _unreadable(message: str) -> Reason:
    return Reason(code=ReasonCode.EMAIL_UNREADABLE, message=message)


def _walk(message: Message) -> Iterator[tuple[Message, bool]]:
    """Every part, in order, without recursion, within the depth limit; with whether it lies
    inside an attached message (a forward), not in the sender's own email."""
    stack: list[tuple[Message, int, bool]] = [(message, 0, False)]
    while stack:
        part, depth, inside = stack.pop()
        if depth > MAX_MIME_DEPTH:
            raise _Unreadable(
                f"The email is nested more than {MAX_MIME_DEPTH} levels deep, so it is not read."
            )
        yield part, inside
        if part.is_multipart():
            children = part.get_payload()
            below = inside or part.get_content_maintype() == "message"
            if isinstance(children, list):
                stack += [
                    (child, depth + 1, below)
                    for child in reversed(children)
                    if isinstance(child, Message)
                ]


def _decoded_size(part: Message) -> int:
    """The part's size once decoded, judged from its encoded text (without decoding it)."""
    encoded = part.get_payload()
    size = len(encoded) if isinstance(encoded, str | bytes) else 0
    if str(part.get("Content-Transfer-Encoding", "")).strip().lower() == "base64":
        return size * 3 // 4
    return size


def _payload(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def part_text(part: Message) -> str:
    """A text part's content, whatever its charset claims (unknown ones read as UTF-8)."""
    charset = part.get_content_charset() or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    try:
        text = _payload(part).decode(charset, errors="replace")
    except Exception:  # a codec that fails on its own terms (utf-7 on some input)
        text = _payload(part).decode("utf-8", errors="replace")
    return valid_text(text)


def _attached_files(message: Message, max_part_bytes: int) -> tuple[list[Attachment], int]:
    """Every file in the message, however deeply the sender's client nested it: each leaf
    part except the text of the message itself; and how many there are. Files over the size
    limit, or past the first MAX_FILES_KEPT, are not decoded."""
    files: list[Attachment] = []
    count = 0
    for part, inside_message in _walk(message):
        if part.is_multipart() or not _is_file(part):
            continue
        count += 1
        if len(files) >= MAX_FILES_KEPT:
            continue
        size = _decoded_size(part)
        content = _payload(part) if size <= max_part_bytes else b""
        if content or size > max_part_bytes:
            files.append(
                Attachment(
                    position=len(files) + 1,
                    content_type=_declared_type(part),
                    content=content,
                    size=len(content) if content else size,
                    inside_message=inside_message,
                    filename=_filename(part),
                )
            )
    return files, count


def _filename(part: Message) -> str:
    """The sender's filename (RFC 2231 or RFC 2047 encoded), on one line, without controls,
    at most MAX_FILENAME_CHARS; "" when there is none or it cannot be read."""
    try:
        name = part.get_filename()
        if not name:
            return ""
        name = name[: 4 * MAX_FILENAME_CHARS]
        if "=?" in name:
            name = str(make_header(decode_header(name)))
    except Exception:  # a malformed parameter or encoded word: no name
        return ""
    one_line = " ".join(_CONTROLS.sub(" ", valid_text(name)).split())
    return one_line[:MAX_FILENAME_CHARS]


_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9.+-]{0,40}/[a-z0-9][a-z0-9.+-]{0,80}")


def _declared_type(part: Message) -> str:
    """The part's declared type, when it is one: it is named in our answers, so a sender's
    made-up text never is."""
    declared = part.get_content_type()
    return declared if _MIME_TYPE.fullmatch(declared) else "application/octet-stream"


def _is_file(part: Message) -> bool:
    """A file: any leaf part but the text of the message itself."""
    if part.get_content_maintype() != "text":
        return True
    return part.get_filename() is not None or part.get_content_disposition() == "attachment"


def _body_part(message: Message) -> Message | None:
    """The message's own plain text part: its first text/plain part that is not a file,
    outside any attached message."""
    for part, inside_message in _walk(message):
        # A forwarded message's text is its own.
        if inside_message or part.is_multipart():
            continue
        if part.get_content_type() == "text/plain" and not _is_file(part):
            return part
    return None


def _body_text(message: Message, max_part_bytes: int) -> str:
    part = _body_part(message)
    if part is None or _decoded_size(part) > max_part_bytes:
        return ""
    return part_text(part)


def _main_text_part(message: Message) -> Message | None:
    """The text the sender wrote as the email itself, where mail programs put it: the email
    when it is text/plain, or the text/plain of its first part (mixed, related) or of its
    alternatives - never a text part further down (someone else's, carried along)."""
    part = message
    for _ in range(4):  # mixed > alternative > related > text at most
        if part.get_content_type() == "text/plain":
            return None if _is_file(part) else part
        payload = part.get_payload() if part.is_multipart() else None
        if not isinstance(payload, list) or not payload:
            return None
        if part.get_content_type() == "multipart/alternative":
            plain = [p for p in payload if isinstance(p, Message)
                     and p.get_content_type() == "text/plain" and not _is_file(p)]  # fmt: skip
            if plain:
                return plain[0]
        first = payload[0]
        if not isinstance(first, Message):
            return None
        part = first
    return None


def _message_id(message: Message, raw: bytes) -> str:
    values = header_values(message, "Message-ID")
    value = " ".join(values[0].split()) if values else ""
    if value.strip("<> ") and len(value) <= MAX_MESSAGE_ID_CHARS:
        return valid_text(value)
    # Without a usable Message-ID, the bytes themselves identify a second delivery.
    return "sha256:" + hashlib.sha256(raw).hexdigest()


MAX_SUBJECT_CHARS = 200
MAX_THREAD_IDS = 20  # of the Message-IDs in In-Reply-To and References, the last ones
_MESSAGE_IDS = re.compile(r"<[^<>\s]{1,250}>")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _subject(message: Message) -> str:
    """The subject decoded (RFC 2047), on one line, without controls, at most 200 chars."""
    value = _first(message, "Subject")
    if not value:
        return ""
    try:
        decoded = str(make_header(decode_header(value[:4 * MAX_SUBJECT_CHARS])))
    except Exception:  # any malformed encoded word: the subject as it came
        decoded = value
    one_line = " ".join(_CONTROLS.sub(" ", valid_text(decoded)).split())
    return one_line[:MAX_SUBJECT_CHARS]


def _answered(message: Message) -> tuple[str, ...]:
    """The Message-IDs an email answers (In-Reply-To, then References), the last 20."""
    found: list[str] = []
    for name in ("In-Reply-To", "References"):
        for value in header_values(message, name):
            found += _MESSAGE_IDS.findall(value[:20_000])
    return tuple(dict.fromkeys(valid_text(found_id) for found_id in found[-MAX_THREAD_IDS:]))


# A Message-ID we may write into our own headers: printable ASCII, no spaces or brackets
# inside (SES takes header values of printable ASCII only).
_REAL_ID = re.compile(r"<[!-;=?-~]{1,250}>")


def _real_ids(message: Message, name: str) -> list[str]:
    found: list[str] = []
    for value in header_values(message, name):
        found += [i for i in _MESSAGE_IDS.findall(value[:20_000]) if _REAL_ID.fullmatch(i)]
    return found


def _thread(message: Message) -> tuple[str | None, tuple[str, ...]]:
    """The email's own real Message-ID, and the chain our answer's References continue: its
    References (else its In-Reply-To), the last MAX_THREAD_IDS."""
    values = header_values(message, "Message-ID")
    own = values[0].strip() if values else ""
    chain = _real_ids(message, "References") or _real_ids(message, "In-Reply-To")
    return (own if _REAL_ID.fullmatch(own) else None), tuple(chain[-MAX_THREAD_IDS:])


def _sent_at(message: Message) -> datetime | None:
    """The Date header, as an aware time (none given is UTC); None when unreadable."""
    value = _first(message, "Date")
    if not value:
        return None
    try:
        sent = parsedate_to_datetime(value[:200])
    except Exception:  # any malformed date: when it was received is said instead
        return None
    if not 1900 <= sent.year <= 2100:
        return None
    return sent if sent.tzinfo is not None else sent.replace(tzinfo=UTC)


def _first(message: Message, name: str) -> str | None:
    values = header_values(message, name)
    return values[0] if values else None


def parse_mail(
    raw: bytes,
    trusted_forwarders: tuple[str, ...] = (),
    *,
    max_part_bytes: int = DEFAULT_MAX_PART_BYTES,
) -> InboundMail:
    """The email as the intake judges it. Never raises: an email that cannot be read has
    `problems`, and is quarantined."""
    try:
        refusal = _too_complex_to_parse(raw)
        if refusal is None:
            return _read(raw, trusted_forwarders, max_part_bytes)
    except _Unreadable as error:
        refusal = str(error)
    except Exception:  # the standard library's parser on input nobody foresaw
        refusal = "The email's structure could not be read."
    return InboundMail(
        sender="",
        header_message_id="sha256:" + hashlib.sha256(raw).hexdigest(),
        verdicts=MailVerdicts(),
        problems=(_unreadable(refusal),),
    )


def _too_complex_to_parse(raw: bytes) -> str | None:
    """Why the parser is not even started on this email (its cost would grow faster than
    the email), or None. Judged from the bytes, in linear time."""
    if _count(_CONTAINER, raw, MAX_MIME_CONTAINERS + 1) > MAX_MIME_CONTAINERS:
        return f"The email has more than {MAX_MIME_CONTAINERS} nested parts, so it is not read."
    if _count(_PART_START, raw, MAX_MIME_PARTS + 1) > MAX_MIME_PARTS:
        return f"The email has more than {MAX_MIME_PARTS} parts, so it is not read."
    if _has_long_mime_header(raw):
        return (
            "The email has a Content-Type or Content-Disposition header longer than "
            f"{MAX_MIME_HEADER_CHARS} characters, so it is not read."
        )
    return None


def _count(pattern: re.Pattern[bytes], raw: bytes, enough: int) -> int:
    """How many times `pattern` occurs, counting no further than `enough`."""
    count = 0
    for _ in pattern.finditer(raw):
        count += 1
        if count >= enough:
            break
    return count


def _has_long_mime_header(raw: bytes) -> bool:
    """Whether any Content-Type or Content-Disposition header runs on past the limit (each
    looked at for at most the limit's length, so this is linear)."""
    for header in _MIME_HEADER.finditer(raw):
        limit = header.end() + MAX_MIME_HEADER_CHARS
        if limit < len(raw) and _HEADER_END.search(raw, header.end(), limit) is None:
            return True
    return False


def _parsed(raw: bytes) -> Message:
    """The MIME tree, with headers kept as they came (`compat32`): the structured header
    parser of `policy.default` costs a hundred microseconds a header and more on hostile
    ones, and we parse the few headers we trust ourselves. Fed in chunks: `parsebytes`
    copies the whole email into a StringIO first, four bytes a character."""
    parser = BytesFeedParser(policy=policy.compat32)
    view = memoryview(raw)
    for start in range(0, len(raw), _FEED_CHUNK):
        parser.feed(bytes(view[start : start + _FEED_CHUNK]))
    message = parser.close()
    assert isinstance(message, Message)
    return message


# An email has some of these; a file without any (a PDF, a letter) is not an email at all.
_EMAIL_HEADERS = frozenset(
    {"from", "to", "date", "subject", "message-id", "received", "mime-version", "return-path"}
)


def _read(raw: bytes, trusted_forwarders: tuple[str, ...], max_part_bytes: int) -> InboundMail:
    message = _parsed(raw)
    if not _EMAIL_HEADERS & {name.lower() for name, _ in message.raw_items()}:
        raise _Unreadable("The file is not an email: it has none of an email's headers.")
    problems: list[Reason] = []
    verdicts = read_verdicts(
        _first(message, "Authentication-Results"),
        _first(message, "X-SES-Spam-Verdict"),
        _first(message, "X-SES-Virus-Verdict"),
    )
    try:
        sender = sender_of(header_values(message, "From"))
        if _SPACED_FROM.search(_header_block(raw)):
            # `From :` is obsolete syntax for a second From that some readers honour.
            raise SenderError("The email has a second From header written as `From :`.")
    except SenderError as error:
        sender = ""
        problems.append(Reason(code=ReasonCode.SENDER_NOT_ALLOWED, message=str(error)))
    automatic_sender = sender  # who sent this email itself, before any forward is unwrapped
    body_text = _body_text(message, max_part_bytes)
    main = _main_text_part(message)
    body_is_main = main is not None and main is _body_part(message)
    forwarded_by: str | None = None
    original_found = True
    inner: Message | None = None
    if sender and sender in trusted_forwarders:
        forwarded_by = sender
        inner = attached_original(message)
        original = (
            attached_original_sender(inner)
            if inner is not None
            else inline_original_sender(body_text)
        )
        if original is None:
            original_found = False
        else:
            sender = original
            if inner is not None:
                body_text = _body_text(inner, max_part_bytes)
    files, file_count = _attached_files(message, max_part_bytes)
    # Our answers are to the sender's own email: for a forward, the original inside it (an
    # inline forward's original has no headers to thread to).
    answered = inner if inner is not None else message
    reply_to_id, references = _thread(answered)
    if forwarded_by is not None and inner is None:
        reply_to_id, references = None, ()
    return InboundMail(
        sender=sender,
        header_message_id=_message_id(message, raw),
        verdicts=verdicts,
        attachments=tuple(files),
        file_count=file_count,
        body_text=body_text,
        forwarded_by=forwarded_by,
        original_sender_found=original_found,
        problems=tuple(problems),
        automatic=_is_automatic(message, automatic_sender),
        delivery_report=delivery_report(message),
        body_is_main=body_is_main and forwarded_by is None,
        subject=_subject(message),
        in_reply_to=_answered(message),
        reply_to_id=reply_to_id,
        references=references,
        sent_at=_sent_at(answered),
        reply_subject=_subject(answered),
    )


def _header_block(raw: bytes) -> bytes:
    """The top-level headers, as they came (up to the first empty line)."""
    end = min(
        (found for found in (raw.find(b"\n\n"), raw.find(b"\r\n\r\n")) if found >= 0),
        default=len(raw),
    )
    return raw[:end]


# Mailboxes that only ever send delivery reports (RFC 5321: the postmaster; MAILER-DAEMON by
# long custom): their mail is a bounce, never a person's email.
_REPORTING_MAILBOXES = frozenset({"mailer-daemon", "postmaster"})
_COMMENT = re.compile(r"\([^()]*\)")
_FROM_MAILBOX = re.compile(r"(?:^|[<\s\"'])(mailer-daemon|postmaster)@", re.IGNORECASE)


def _token(value: str | None) -> str | None:
    """A header's first word, lower-case, without comments or parameters (`Auto-Submitted:
    auto-replied (vacation); x=1` is `auto-replied`); None when there is no such header."""
    if value is None:
        return None
    without_comments = _COMMENT.sub(" ", value[:MAX_MIME_HEADER_CHARS])
    words = without_comments.split(";", 1)[0].split()
    return words[0].lower() if words else ""


def _from_reporting_mailbox(message: Message, sender: str) -> bool:
    """From MAILER-DAEMON or postmaster (at any domain); judged from the raw From header too,
    as a bounce's From is not always one we accept as a sender."""
    if sender and sender.partition("@")[0].lower() in _REPORTING_MAILBOXES:
        return True
    return any(
        _FROM_MAILBOX.search(value[:MAX_MIME_HEADER_CHARS])
        for value in header_values(message, "From")
    )


def _is_automatic(message: Message, sender: str = "") -> bool:
    """An out-of-office reply, an auto-responder's answer or a delivery report (RFC 3834,
    RFC 3464): answering one could start a loop of replies. `Auto-Submitted` anything but
    `no`, `Precedence` auto_reply/bulk/junk/list, `X-Autoreply` or `X-Autorespond`, a
    `multipart/report` (a delivery or read report), an empty `Return-Path` (the null sender
    of a bounce), or a From of MAILER-DAEMON or postmaster."""
    auto_submitted = _token(_first(message, "Auto-Submitted"))
    return_path = _first(message, "Return-Path")
    return (
        (auto_submitted is not None and auto_submitted != "no")
        or _token(_first(message, "Precedence")) in ("auto_reply", "bulk", "junk", "list")
        or _first(message, "X-Autoreply") is not None
        or _first(message, "X-Autorespond") is not None
        or message.get_content_type() == "multipart/report"
        or (
            return_path is not None
            and "".join(_COMMENT.sub("", return_path[:MAX_MIME_HEADER_CHARS]).split()) in ("<>", "")
        )
        or _from_reporting_mailbox(message, sender)
    )
