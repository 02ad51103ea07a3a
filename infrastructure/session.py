"""A local register that lasts between `dsr-intake` commands.

moto keeps everything in memory, so each command builds the embedded stack afresh and
replays the session's journal - every email processed, every day advanced, every panel pack,
every change made in the console (infrastructure.console_journal) - at the moments they
first happened. Case references come from the SES message ids, which
the journal keeps, so a replayed register is the same register. The journal holds the
emails themselves (fictional in the samples, but treat it as personal data): it is written
owner-only, and `dsr-intake reset` deletes it.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO

from infrastructure import bounded, console_journal
from infrastructure.local_stack import (
    REGION,
    Firing,
    LocalStack,
    LocalStackError,
    sent_emails,
)
from shared.adapters import client
from shared.adapters.register_table import RegisterTable
from shared.case import Submission

JOURNAL = "journal.jsonl"
LOCK = "in-use.lock"
KEYS = "kms-key-material.json"
REPLAY_PROGRESS = 100  # steps between two words of progress


def report(file: str, submission: Submission) -> dict[str, Any]:
    """The JSON line `process --json` prints for one email."""
    line: dict[str, Any] = {
        "file": file,
        "message_id": submission.message_id,
        "outcome": submission.outcome.value,
    }
    if submission.case_id:
        line["case_id"] = submission.case_id
    line["reasons"] = [reason.as_report() for reason in submission.reasons]
    effects: list[dict[str, Any]] = []
    for effect in submission.effects:
        if effect.kind == "email":
            effects.append(
                {"kind": "email", "to": list(effect.to or ()), "subject": effect.subject}
            )
        elif effect.kind == "schedule":
            assert effect.at is not None
            effects.append({"kind": "schedule", "at": effect.at.isoformat()})
        else:
            effects.append({"kind": effect.kind})
    line["effects"] = effects
    return line


def firing_report(firing: Firing) -> dict[str, Any]:
    """The JSON line `advance --json` prints for one schedule that fired."""
    done = firing.response.get("done")
    if done is None:
        done = "panel pack sent" if firing.response.get("sent") else "panel pack already sent"
    return {
        "at": firing.at.isoformat(),
        "schedule": firing.schedule,
        "function": firing.handler,
        "done": done,
        "emails": [{"to": list(to), "subject": subject} for to, subject in firing.emails],
    }


class Pipeline:
    """The embedded stack, fed one email at a time, its clock moved on demand."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.register = RegisterTable(client("dynamodb"), stack.resources["RegisterTable"])

    def process(self, file: str, raw: bytes, message_id: str | None = None) -> dict[str, Any]:
        """The email's report line; without an outcome, a line with `error` instead."""
        message_id = self.stack.deliver_email(raw, message_id)
        try:
            self.stack.run_pipeline()
        except RuntimeError as error:
            problem = str(error)
        except Exception as error:  # whatever happened, the next file is still processed
            problem = f"{type(error).__name__} while processing the email"
        else:
            problem = "no outcome was recorded"
        submission = self.register.submission(message_id)
        if submission is None:
            # Like Lambda, the email stays on the queue (and would reach the DLQ): not lost.
            return {"file": file, "message_id": message_id, "outcome": None, "error": problem}
        line = report(file, submission)
        if submission.parts:  # several children's forms: each child's own outcome
            line["parts"] = [
                report(file, part)
                for part in map(self.register.submission, submission.parts)
                if part is not None
            ]
        return line

    def advance(self, days: float) -> list[Firing]:
        return self.stack.advance(days)

    def replay_console(self, calls: list[dict[str, Any]]) -> list[str]:
        """A console decision again, as the calls that recorded it; its effects follow."""
        problems = console_journal.replay(self.stack.client, calls, self.stack.resources)
        try:
            self.stack.run_pipeline()
        except RuntimeError as error:  # left on the queue, as Lambda would leave it
            problems.append(str(error))
        return problems

    def digest(self) -> tuple[dict[str, Any], list[tuple[tuple[str, ...], str]]]:
        before = len(sent_emails())
        response = self.stack.invoke("digest", {})
        self.stack.run_pipeline()
        return response, [(email.to, email.subject) for email in sent_emails()[before:]]


class LocalSession:
    """`with LocalSession(folder, parameters) as pipeline:` - the register as the last
    command left it. Every step taken through it is added to the journal."""

    def __init__(
        self, folder: Path, parameters: dict[str, str], *, echo_logs: bool = False
    ) -> None:
        self.folder = folder
        self.journal = folder / JOURNAL
        self.steps: list[dict[str, Any]] = []
        recorded: dict[str, str] = {}
        if self.journal.exists():
            lines = [json.loads(line) for line in self.journal.read_text().splitlines() if line]
            recorded, self.steps = lines[0]["parameters"], lines[1:]
            if parameters and parameters != recorded:
                raise LocalStackError(
                    f"the local register in {folder} was started with the parameters "
                    f"{recorded or 'of the template'}; run `dsr-intake reset` to start afresh "
                    "with others"
                )
        self.parameters = recorded or parameters
        self.stack = LocalStack(self.parameters, echo_logs=echo_logs)
        self.pipeline: Pipeline | None = None
        self.replay_problems: list[str] = []
        # Told how far a long replay has gone (serve prints it; the commands say nothing).
        self.progress: Callable[[str], None] | None = None
        self._lock: TextIO | None = None

    def __enter__(self) -> LocalSession:
        self._lock = hold_folder(self.folder)
        try:
            self.stack.start()
            keep_key_material(self.stack, self.folder / KEYS)
        except BaseException:
            self._lock.close()
            raise
        self.pipeline = Pipeline(self.stack)
        echo, self.stack.echo_logs = self.stack.echo_logs, False
        for done, step in enumerate(self.steps):
            if done and done % REPLAY_PROGRESS == 0 and self.progress is not None:
                self.progress(f"  replayed {done} of {len(self.steps)} steps")
            self._set_clock(datetime.fromisoformat(step["at"]))
            if step["step"] == "email":
                self.pipeline.process(
                    step["file"], base64.b64decode(step["raw"]), step["message_id"]
                )
            elif step["step"] == "advance":
                self.pipeline.advance(step["days"])
            elif step["step"] == "digest":
                self.pipeline.digest()
            elif step["step"] == "console":
                self.replay_problems += self.pipeline.replay_console(step["calls"])
        if self.steps:
            self.stack.clock_offset = timedelta(seconds=self.steps[-1]["offset_after"])
        self.stack.echo_logs = echo
        return self

    def __exit__(self, *_: object) -> None:
        try:
            self.stack.stop()
        finally:
            if self._lock is not None:
                self._lock.close()  # and with it the lock
                self._lock = None

    def start_on(self, day: date) -> None:
        """Start a new register's clock on `day` (09:00 UTC); the journal keeps the moment."""
        assert not self.steps, "only a new local register can be started on a given day"
        self._set_clock(datetime.combine(day, time(9), tzinfo=UTC))

    def _set_clock(self, moment: datetime) -> None:
        self.stack.clock_offset = moment - datetime.now(UTC).replace(microsecond=0)

    def _record(self, step: dict[str, Any], at: datetime) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.journal.exists():
            self.journal.touch(mode=0o600)
            self.journal.write_text(json.dumps({"parameters": self.parameters}) + "\n")
        step = {
            **step,
            "at": at.isoformat(),
            "offset_after": self.stack.clock_offset.total_seconds(),
        }
        with self.journal.open("a") as journal:
            journal.write(json.dumps(step) + "\n")
        self.steps.append(step)

    def process(self, file: str, raw: bytes) -> dict[str, Any]:
        assert self.pipeline is not None
        at = self.stack.now()
        message_id = uuid.uuid4().hex
        line = self.pipeline.process(file, raw, message_id)
        self._record(
            {
                "step": "email",
                "file": file,
                "message_id": message_id,
                "raw": base64.b64encode(raw).decode("ascii"),
            },
            at,
        )
        return line

    def advance(self, days: float) -> list[Firing]:
        assert self.pipeline is not None
        at = self.stack.now()
        reports = self.pipeline.advance(days)
        self._record({"step": "advance", "days": days}, at)
        return reports

    def record_console(self, calls: list[dict[str, Any]], at: datetime) -> None:
        """Journal what a console request changed (infrastructure.console_journal)."""
        journalled = console_journal.portable(calls, self.stack.resources)
        self._record({"step": "console", "calls": journalled}, at)

    def digest(self) -> tuple[dict[str, Any], list[tuple[tuple[str, ...], str]]]:
        assert self.pipeline is not None
        at = self.stack.now()
        result = self.pipeline.digest()
        self._record({"step": "digest"}, at)
        return result

    def summary(self) -> str:
        emails = sum(step["step"] == "email" for step in self.steps)
        days = self.stack.clock_offset.total_seconds() / 86400
        return (
            f"local register {self.folder}: {emails} emails so far, clock {days:+.0f} days "
            f"(today {self.stack.now():%d/%m/%Y})"
        )


def reset(folder: Path) -> bool:
    if not ((folder / JOURNAL).exists() or (folder / KEYS).exists()):
        return False
    lock = hold_folder(folder)  # never from under a running serve
    try:
        shutil.rmtree(folder)
    finally:
        lock.close()
    return True


def keep_key_material(stack: LocalStack, kept: Path) -> None:
    """The stack's KMS keys with the same material at every start. Each start's moto makes
    new keys, so an NHS number's keyed hash (KMS GenerateMac) would change, and with it the
    person lookups the journal's console steps wrote. The material is a secret: owner-only,
    deleted by `dsr-intake reset` with the rest."""
    keys = bounded.moto_backend("kms", REGION).keys
    logical_ids = [
        logical_id
        for logical_id, resource in stack.template["Resources"].items()
        if resource["Type"] == "AWS::KMS::Key" and logical_id in stack.resources
    ]
    material: dict[str, str] = json.loads(kept.read_text()) if kept.exists() else {}
    new = {}
    for logical_id in logical_ids:
        key = keys[stack.resources[logical_id]]
        if logical_id in material:
            key.key_material = bytes.fromhex(material[logical_id])
        else:
            new[logical_id] = key.key_material.hex()
    if new:  # a first start, or a key the template gained
        if not kept.exists():
            kept.touch(mode=0o600)
        kept.write_text(json.dumps({**material, **new}))


def hold_folder(folder: Path) -> TextIO:
    """The register's lock, held until the file returned is closed. One command at a time
    on a register: two would each replay the journal into their own memory and write their
    steps after each other's."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = (folder / LOCK).open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        raise LocalStackError(
            f"another dsr-intake command is using the local register in {folder} "
            "(a `dsr-intake serve`?). Use that one - serve moves the clock on with "
            "`advance DAYS` typed in its terminal - or stop it first."
        ) from None
    return lock


def default_state_folder() -> Path:
    return Path(os.environ.get("DSR_LOCAL_STATE", ".dsr-local"))
