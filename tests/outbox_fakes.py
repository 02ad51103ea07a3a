"""In-memory stand-ins for delivering the outbox: the outbox items, the mail service and
Scheduler, each able to fail the way AWS can (after or before it did its work)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shared.blank_forms import BlankForm
from shared.case import Case, EmailEffect, Submission
from shared.effects import EFFECT, OutboxEntry
from shared.errors import MailNotSentError
from shared.mail import Attachment


class LostAnswerError(Exception):
    """The call did its work, but its answer never came back (a timeout, a dropped line)."""


@dataclass
class MemoryOutbox:
    """Outbox items by id ("OUTBOX#<event>|EFFECT#nn"), the case events and submissions."""

    items: dict[str, dict[str, str]] = field(default_factory=dict)
    case_event_ids: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    submissions: dict[str, Submission | None] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)

    def add(self, event_id: str, effects: Sequence[object], case_id: str | None, at: datetime,
            kind: str = "email") -> list[str]:  # fmt: skip
        ids = []
        for number, effect in enumerate(effects):
            outbox_id = f"OUTBOX#{event_id}|EFFECT#{number:02d}"
            self.items[outbox_id] = {
                "effect": effect.model_dump_json(),  # type: ignore[attr-defined]
                **({"case_id": case_id} if case_id else {}),
                "outbox_since": at.isoformat(),
            }
            ids.append(outbox_id)
        if case_id:
            self.case_event_ids.setdefault(case_id, []).append((event_id, kind))
        return ids

    # ----- the Outbox protocol of shared.effects -----
    def outbox_entry(self, outbox_id: str) -> OutboxEntry | None:
        item = self.items.get(outbox_id)
        if item is None:
            return None
        return OutboxEntry(
            outbox_id=outbox_id,
            effect=EFFECT.validate_json(item["effect"]),
            case_id=item.get("case_id"),
            queued_at=datetime.fromisoformat(item["outbox_since"]),
            sending_since=(
                datetime.fromisoformat(item["sending_since"]) if "sending_since" in item else None
            ),
        )

    def mark_sending(self, outbox_id: str, now: datetime) -> bool:
        item = self.items.get(outbox_id)
        if item is None or "sending_since" in item:
            return False
        item["sending_since"] = now.isoformat()
        return True

    def release_sending(self, outbox_id: str) -> None:
        item = self.items.get(outbox_id)
        if item is not None:
            item.pop("sending_since", None)

    def delete_outbox_item(self, outbox_id: str) -> None:
        self.items.pop(outbox_id, None)

    def replace_with_alert(
        self, entry: OutboxEntry, alerts: list[EmailEffect], now: datetime
    ) -> bool:
        item = self.items.get(entry.outbox_id)
        if item is None or "sending_since" not in item:
            return False
        del self.items[entry.outbox_id]
        event_id = f"{entry.event_id}~alert{entry.outbox_id.partition('|')[2]}"
        self.add(event_id, alerts, entry.case_id, now, kind="alert")
        return True

    def case_events(self, case_id: str) -> list[str]:
        return [event_id for event_id, _ in self.case_event_ids.get(case_id, [])]

    def unrecorded_emails(self, case_id: str) -> list[str]:
        return [
            event_id.split(".", 1)[0]
            for event_id, kind in self.case_event_ids.get(case_id, [])
            if kind == "email" and self.submissions.get(event_id.split(".", 1)[0]) is None
        ]

    def erase_case_events(self, case_id: str, keep_event: str) -> int:
        deleted = 0
        for event_id in self.case_events(case_id):
            if event_id == keep_event:
                continue
            for outbox_id in [i for i in self.items if i.startswith(f"OUTBOX#{event_id}|")]:
                del self.items[outbox_id]
                deleted += 1
        self.case_event_ids.pop(case_id, None)
        return deleted

    # ----- the CaseReader of shared.schedules -----
    def case(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)


@dataclass
class FakeMailer:
    """The mail service. `refuse` answers an error (not sent); `lose_answer` sends, then
    the answer is lost; `crash` fails before sending without an answer."""

    sent: list[tuple[EmailEffect, Sequence[Attachment]]] = field(default_factory=list)
    forms: list[tuple[str, ...]] = field(default_factory=list)  # the blank forms of each sent
    refuse: int = 0
    lose_answer: int = 0
    crash: int = 0

    def send(
        self,
        email: EmailEffect,
        files: Sequence[Attachment] = (),
        case_reference: str | None = None,
        forms: Sequence[BlankForm] = (),
    ) -> str:
        if self.refuse:
            self.refuse -= 1
            raise MailNotSentError("the mail service refused the email: Throttling")
        if self.crash:
            self.crash -= 1
            raise LostAnswerError("connection reset before the request was sent")
        self.sent.append((email, files))
        self.forms.append(tuple(form.filename for form in forms))
        if self.lose_answer:
            self.lose_answer -= 1
            raise LostAnswerError("read timeout")
        return f"ses-{len(self.sent)}"


@dataclass
class MemoryScheduler:
    """EventBridge Scheduler's case schedules: case id -> when it fires."""

    schedules: dict[str, datetime] = field(default_factory=dict)
    fail: int = 0

    def schedule_review(self, case_id: str, at: datetime) -> None:
        if self.fail:
            self.fail -= 1
            raise LostAnswerError("scheduler unavailable")
        self.schedules[case_id] = at

    def cancel(self, case_id: str) -> None:
        self.schedules.pop(case_id, None)

    def scheduled_reviews(self) -> dict[str, datetime]:
        return dict(self.schedules)


@dataclass
class FakeMailEraser:
    files: list[Attachment] = field(default_factory=list)
    erased: list[str] = field(default_factory=list)

    def original_files(self, message_id: str, positions: tuple[int, ...]) -> list[Attachment]:
        return [file for file in self.files if file.position in positions]

    def erase(self, case_id: str, event_ids: list[str]) -> int:
        self.erased += event_ids
        return len(event_ids)
