"""Real mail from outside (#9): every email in `mail/` (public test fixtures of other mail
libraries, see mail/SOURCES.md) runs through the whole intake in-process, as the
IntakeFunction runs it: the IntakeService reads it from the store, parses it, decides and
records the outcome. Each must get an outcome, never an exception, within a time and memory
bound measured in this process (generous: the function has 60 s and 512 MB), and one whose
effects can be carried out: emails only to plain addresses, subjects on one line, and, when
quarantined, to the coordinators only.

Three times: as the files are, without SES's headers, so nothing vouches for them and each
is quarantined or rejected; with the headers SES puts on a delivery that passed every check,
from an allowed domain, so their bodies and attachments are read too; and as if the DSR's
shared mailbox had forwarded them (its From a trusted forwarder, every domain in the email
allowed), so forwarded messages, bounces and digests are unwrapped.

A failure names the stage that raised (the mail parser, the document readers, the decision,
or the register, which refuses what DynamoDB would) and the code line, never the email's
contents.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import traceback
import tracemalloc
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses
from pathlib import Path

import pytest

from shared.case import EmailEffect
from shared.intake_service import IntakeService
from shared.outcome import Outcome
from shared.settings import Settings
from tests.conftest import PlainHasher
from tests.end_to_end.test_process_command import dsr_intake
from tests.fakes import MemoryMailStore, RecordingRegister

MAIL = Path(__file__).parent / "mail"
# What sits beside the emails: the sources and their licences.
_NOT_MAIL = ("SOURCES", "LICENSE", "MIT-LICENSE", "NOTICE", "ARTISTIC-LICENSE", "README")
EMAILS = sorted(
    path
    for path in MAIL.rglob("*")
    if path.is_file() and not path.name.startswith(".") and not path.name.startswith(_NOT_MAIL)
)
IDS = [path.relative_to(MAIL).as_posix() for path in EMAILS]

# Per email: the IntakeFunction's timeout and (less the runtime's own) its memory. The time
# is taken with tracemalloc on, which slows the parsing about threefold: stricter than it looks.
SECONDS = 60.0
MEGABYTES = 400

_ROOT = Path(__file__).resolve().parents[2]
_STAGES = (
    ("shared/mail", "mail parse"),  # shared/mail.py, or the shared/mail/ package
    ("shared/forms/", "documents"),
    ("shared/intake_service.py", "intake service"),
    ("shared/", "decide"),
    ("tests/fakes.py", "record"),
)


def _stage(error: BaseException) -> str:
    """Which stage raised, and where: the innermost frame in this project's code."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        try:
            where = Path(frame.filename).resolve().relative_to(_ROOT).as_posix()
        except ValueError:
            continue  # the standard library, pypdf ...
        for prefix, stage in _STAGES:
            if where.startswith(prefix):
                return f"{stage} ({where}:{frame.lineno} in {frame.name})"
    return "unknown"


def _settings(allowed_sender_domains: tuple[str, ...] | None = None) -> Settings:
    settings = Settings(
        coordinator_addresses=("dsr.coordinator@nhs.net", "dsr.admin@bromley.gov.uk"),
        inbox_address="bromley.dsr@nhs.net",
    )
    if allowed_sender_domains is not None:
        settings = settings.model_copy(update={"allowed_sender_domains": allowed_sender_domains})
    return settings


def _intake(raw: bytes, settings: Settings, name: str) -> Outcome:
    """The outcome the IntakeService records for the email, asserting the bounds and that
    its effects can be carried out."""
    message_id = hashlib.sha256(name.encode()).hexdigest()[:40]  # as SES names it
    register = RecordingRegister()
    store = MemoryMailStore()
    key = store.put(message_id, raw)
    service = IntakeService(settings, store, register, PlainHasher())
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = service.process(key)
    except Exception as error:  # the point: none may escape
        pytest.fail(f"{type(error).__name__} raised in {_stage(error)}", pytrace=False)
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < SECONDS, f"took {elapsed:.1f} s"
    assert peak < MEGABYTES * 2**20, f"peak {peak / 2**20:.0f} MB"
    assert not result.redelivered
    assert register.submission(message_id) == result.submission
    outcome = result.submission.outcome
    for effect in register.effects_of(message_id):
        if isinstance(effect, EmailEffect):
            assert all(_PLAIN_ADDRESS.fullmatch(to) for to in effect.to), (
                f"{outcome}: a {effect.purpose} email to an address that is not plain"
            )
            assert "\r" not in effect.subject and "\n" not in effect.subject, (
                f"{outcome}: a {effect.purpose} email's subject has a line break"
            )
            if outcome is Outcome.QUARANTINED:  # nobody outside the team is answered
                assert set(effect.to) <= set(settings.coordinator_addresses), (
                    f"quarantined, yet a {effect.purpose} email goes outside the team"
                )
    return outcome


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_ANY_ADDRESS = re.compile(
    rb"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@([A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+)"
)


def _sender(raw: bytes) -> str | None:
    """The From address, read leniently (the intake itself reads it strictly)."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
        addresses = getaddresses([str(value) for value in headers.get_all("From", [])])
    except Exception:
        return None
    for _, address in addresses:
        if "@" in address and address.rpartition("@")[2].strip():
            return address.strip().lower()
    return None


def _domain(address: str | None) -> str | None:
    return address.rpartition("@")[2].strip().strip(">") if address else None


def _as_ses_delivers(raw: bytes, domain: str) -> bytes:
    """The email with the headers SES puts on top of a delivery that passed every check."""
    newline = b"\r\n" if b"\r\n" in raw[:4096] else b"\n"
    headers = [
        f"Return-Path: <referrer@{domain}>",
        "Received: from mail.example.net (mail.example.net [192.0.2.10]) by "
        "inbound-smtp.eu-west-2.amazonaws.com with SMTP id 0a1b2c3d4e5f "
        "for bromley.dsr@nhs.net; Mon, 02 Mar 2026 09:00:00 +0000 (UTC)",
        "X-SES-Spam-Verdict: PASS",
        "X-SES-Virus-Verdict: PASS",
        f"Authentication-Results: amazonses.com; spf=pass (spfCheck: domain of {domain} "
        f"designates 192.0.2.10 as permitted sender) smtp.mailfrom=referrer@{domain}; "
        f"dkim=pass header.i=@{domain}; dmarc=pass header.from={domain};",
    ]
    return b"".join(line.encode("utf-8", "replace") + newline for line in headers) + raw


def test_the_corpus_is_here() -> None:
    assert len(EMAILS) > 400
    assert all(path.stat().st_size < 2_000_000 for path in EMAILS)


@pytest.mark.parametrize("path", EMAILS, ids=IDS)
def test_mail_nothing_vouches_for_is_quarantined_or_rejected(path: Path) -> None:
    outcome = _intake(path.read_bytes(), _settings(), "plain/" + path.name)
    assert outcome in (Outcome.QUARANTINED, Outcome.REJECTED), outcome


def _ses_settings(raw: bytes, **settings: object) -> tuple[bytes, Settings]:
    domain = _domain(_sender(raw))
    plain = domain if domain and re.fullmatch(r"[a-z0-9.-]+", domain) else "example.com"
    allowed = (domain,) if domain else ()
    return _as_ses_delivers(raw, plain), _settings(allowed).model_copy(update=settings)


@pytest.mark.parametrize("path", EMAILS, ids=IDS)
def test_mail_as_ses_delivers_it_gets_an_outcome(path: Path) -> None:
    raw, settings = _ses_settings(path.read_bytes())
    assert isinstance(_intake(raw, settings, path.name), Outcome)


@pytest.mark.parametrize("path", EMAILS, ids=IDS)
def test_mail_the_shared_mailbox_forwards_gets_an_outcome(path: Path) -> None:
    raw = path.read_bytes()
    sender = _sender(raw)
    domains = {match.decode().lower() for match in _ANY_ADDRESS.findall(raw[:1_000_000])}
    raw, settings = _ses_settings(
        raw,
        trusted_forwarders=(sender,) if sender else (),
        allowed_sender_domains=tuple(sorted(domains))[:500],
    )
    assert isinstance(_intake(raw, settings, "forwarded/" + path.name), Outcome)


# The hardest few, through the real command and its embedded stack (about a second each).
COMMAND_SAMPLE = (
    "flanker/torture.eml",  # the largest: dozens of nested parts
    "nodemailer-mailparser/htmllargecallstack.eml",  # deep enough to overflow a call stack
    "mime4j/very-very-long-boundary.msg",
    "spamscope-mail-parser/mail_outlook_1",  # an Outlook .msg file: not MIME at all
    "enmime/low-quality--unk-charset-part.raw",  # a charset no codec knows
    "mimekit/tnef--rich-text.eml",  # winmail.dat
)


def test_the_command_gives_each_an_outcome(tmp_path: Path) -> None:
    files, domains = [], set()
    for number, name in enumerate(COMMAND_SAMPLE, start=1):
        raw = (MAIL / name).read_bytes()
        domains.add(_domain(_sender(raw)) or "example.com")
        target = tmp_path / f"{number:02d}.eml"
        target.write_bytes(_ses_settings(raw)[0])
        files.append(target)
    allowed = ",".join(sorted(domain for domain in domains if re.fullmatch(r"[a-z0-9.-]+", domain)))
    run = dsr_intake(
        "process",
        "--json",
        "--parameter",
        f"AllowedSenderDomains={allowed}",
        *(str(path) for path in files),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [Path(line["file"]).name for line in lines] == [path.name for path in files]
    assert all(line["outcome"] in set(Outcome) for line in lines), lines
