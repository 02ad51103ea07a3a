"""The intake desk the hostile tests use: the real `IntakeService` over the fakes, with every
email measured (time with `time.perf_counter`, memory with the `tracemalloc` peak, in this
process) and checked for leaks (captured log output, and every email effect addressed outside
the secure domains) and for the invariants every outcome keeps."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import signal
import time
import tracemalloc
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import FrameType

from shared.blank_forms import BLANK_FORMS
from shared.case import Decision, Effect, EmailEffect, EraseEffect, Submission
from shared.intake_service import IntakeService
from shared.outcome import Outcome
from shared.settings import Settings, domain_matches
from tests.conftest import NOW, PlainHasher
from tests.end_to_end.personal_data import leaks
from tests.fakes import MemoryMailStore, RecordingRegister
from tests.hostile.builders import SETTINGS

_HEADER_ID = re.compile(r"<[!-;=?-~]{1,250}>")
SECONDS = 10.0  # the work is interrupted at twice this (plus 5 s)
MEGABYTES = 300.0


class BoundExceededError(BaseException):
    """The work ran far past its time bound. A BaseException, so that no `except Exception`
    in the code under test can swallow it and dress the overrun up as an outcome."""


@dataclass
class Measured:
    seconds: float = 0.0
    peak_mb: float = 0.0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise BoundExceededError("still working long after its time bound")


@contextlib.contextmanager
def bounded(
    seconds: float = SECONDS, megabytes: float = MEGABYTES, grace: float = 5.0
) -> Iterator[Measured]:
    """Measure the block; fail if its memory peak reached `megabytes`, or if it ran past
    twice `seconds` (plus `grace`): then it is interrupted, so nothing hangs. Unbounded work
    (quadratic parsing of a hostile email) runs for minutes and is caught; a loaded machine's
    slow second is not a failure. How fast it is belongs to bench/bench_hostile.py."""
    measured = Measured()
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    previous = signal.signal(signal.SIGALRM, _interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds * 2 + grace)
    start = time.perf_counter()
    try:
        yield measured
    finally:
        measured.seconds = time.perf_counter() - start
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        measured.peak_mb = (tracemalloc.get_traced_memory()[1] - base) / (1024 * 1024)
        if not tracing:
            tracemalloc.stop()
    assert measured.peak_mb < megabytes, f"peak {measured.peak_mb:.0f} MB (bound {megabytes} MB)"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot even be formatted is still looked at
            self.lines.append(f"{record.msg!r} {record.args!r}")


@contextlib.contextmanager
def captured_output() -> Iterator[list[str]]:
    """Everything the block logs (any logger, any level), prints or warns."""
    out: list[str] = []
    handler = _Collect()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        with (
            warnings.catch_warnings(record=True) as caught,
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            warnings.simplefilter("always")
            yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    out += handler.lines + stdout.getvalue().splitlines() + stderr.getvalue().splitlines()
    out += [str(warning.message) for warning in caught]


@dataclass
class Processed:
    """One email's way through the intake, with all it left behind."""

    message_id: str
    submission: Submission
    decision: Decision | None  # None when the email had already been recorded
    effects: list[Effect]
    log_lines: list[str]
    measured: Measured
    settings: Settings = field(default=SETTINGS)

    @property
    def outcome(self) -> Outcome:
        return self.submission.outcome

    @property
    def codes(self) -> set[str]:
        return {reason.code.value for reason in self.submission.reasons}

    @property
    def emails(self) -> list[EmailEffect]:
        return [effect for effect in self.effects if isinstance(effect, EmailEffect)]

    @property
    def recipients(self) -> set[str]:
        return {address for email in self.emails for address in email.to}

    @property
    def erases(self) -> bool:
        return any(isinstance(effect, EraseEffect) for effect in self.effects)


class Desk:
    """The real intake service over an in-memory bucket and register."""

    def __init__(self, settings: Settings = SETTINGS) -> None:
        self.settings = settings
        self.store = MemoryMailStore()
        self.register = RecordingRegister()

    def service(self) -> IntakeService:
        return IntakeService(
            self.settings, self.store, self.register, PlainHasher(), clock=lambda: NOW
        )

    def receive(
        self,
        raw: bytes,
        *,
        seconds: float = SECONDS,
        megabytes: float = MEGABYTES,
        message_id: str | None = None,
    ) -> Processed:
        """Store `raw` as SES would and process it, within the bounds; then check that no
        personal data leaked and that the outcome keeps every invariant."""
        message_id = message_id or uuid.uuid4().hex
        key = self.store.put(message_id, raw)
        service = self.service()
        with captured_output() as log_lines, bounded(seconds, megabytes) as measured:
            result = service.process(key)
        processed = Processed(
            message_id=message_id,
            submission=result.submission,
            decision=self.register.decisions.get(message_id),
            effects=self.register.effects_of(message_id),
            log_lines=log_lines,
            measured=measured,
            settings=self.settings,
        )
        check_invariants(processed)
        return processed


def check_invariants(processed: Processed) -> None:
    """What holds for every email, however hostile."""
    assert isinstance(processed.outcome, Outcome)
    # No personal data of the sample children in anything logged, printed or warned.
    for line in processed.log_lines:
        assert leaks(line) == set(), f"personal data in captured output: {line[:200]!r}"
    settings = processed.settings
    for email in processed.emails:
        # Our emails' headers cannot be injected into, and each recipient is one address.
        assert "\r" not in email.subject and "\n" not in email.subject, email.subject[:200]
        # Threading headers carry only Message-IDs as SES takes them; blank forms are ours.
        for thread_id in [*email.references, *([email.in_reply_to] if email.in_reply_to else [])]:
            assert _HEADER_ID.fullmatch(thread_id), thread_id[:200]
        assert set(email.blank_forms) <= set(BLANK_FORMS), email.blank_forms
        for address in email.to:
            assert address.count("@") == 1, address[:200]
            assert not any(c in address for c in ' \t\r\n,;<>"()\\\x00'), address[:200]
        if not all(domain_matches(address, settings.secure_domains) for address in email.to):
            text = "\n".join(
                [email.subject, email.body, *(attachment.text for attachment in email.attachments)]
            )
            assert leaks(text) == set(), f"personal data to {email.to}: {sorted(leaks(text))}"
            assert email.originals is None, "original files to a non-secure address"
    if processed.outcome is Outcome.QUARANTINED:
        # Quarantined mail is never answered: only the team hears of it.
        team = {*settings.coordinator_addresses, settings.lead_address}
        assert processed.recipients <= team, processed.recipients - team
        assert not processed.erases
