"""One EventBridge Scheduler `at()` schedule per case: its next reminder (shared.reminders)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

SCHEDULE_PREFIX = "review-"


def schedule_name(case_id: str) -> str:
    # Case ids are random references, so the name carries no personal data.
    return f"{SCHEDULE_PREFIX}{case_id}"


def fires_at(expression: str) -> datetime | None:
    """When an `at(yyyy-mm-ddThh:mm:ss)` expression (UTC, as set here) fires."""
    if not (expression.startswith("at(") and expression.endswith(")")):
        return None
    try:
        return datetime.fromisoformat(expression[3:-1]).replace(tzinfo=UTC)
    except ValueError:
        return None


class ReviewScheduler:
    def __init__(
        self, scheduler: Any, group: str, target_arn: str, role_arn: str, dead_letter_arn: str
    ) -> None:
        self.scheduler = scheduler
        self.group = group
        self.target_arn = target_arn
        self.role_arn = role_arn
        self.dead_letter_arn = dead_letter_arn

    def schedule_review(self, case_id: str, at: datetime) -> None:
        """Create the case's schedule, or move it when it exists (creating is idempotent)."""
        request = {
            "Name": schedule_name(case_id),
            "GroupName": self.group,
            "ScheduleExpression": f"at({at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})",
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "NONE",
            "Target": {
                "Arn": self.target_arn,
                "RoleArn": self.role_arn,
                "Input": json.dumps({"case_id": case_id}),
                # Scheduler retries a failed reminder, then parks it here (alarmed): not lost.
                "DeadLetterConfig": {"Arn": self.dead_letter_arn},
                "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
            },
        }
        try:
            self.scheduler.create_schedule(**request)
        except self.scheduler.exceptions.ConflictException:
            self.scheduler.update_schedule(**request)

    def cancel(self, case_id: str) -> None:
        """Delete the case's schedule; one already gone is fine (cancelling twice is harmless)."""
        with contextlib.suppress(self.scheduler.exceptions.ResourceNotFoundException):
            self.scheduler.delete_schedule(Name=schedule_name(case_id), GroupName=self.group)

    def next_review(self, case_id: str) -> str | None:
        try:
            schedule = self.scheduler.get_schedule(
                Name=schedule_name(case_id), GroupName=self.group
            )
        except self.scheduler.exceptions.ResourceNotFoundException:
            return None
        return str(schedule["ScheduleExpression"])

    def scheduled_reviews(self) -> dict[str, datetime]:
        """Every case's schedule in the group (not the group's timers): case id -> when. A
        schedule this code would not set - another expression, or another target (the
        ReminderFunction replaced) - is reported as long past, so it is repaired."""
        held: dict[str, datetime] = {}
        wrong = datetime.min.replace(tzinfo=UTC)
        paginator = self.scheduler.get_paginator("list_schedules")
        for page in paginator.paginate(GroupName=self.group, NamePrefix=SCHEDULE_PREFIX):
            for summary in page["Schedules"]:
                try:
                    schedule = self.scheduler.get_schedule(
                        Name=summary["Name"], GroupName=self.group
                    )
                except self.scheduler.exceptions.ResourceNotFoundException:
                    continue  # deleted since it was listed
                case_id = summary["Name"].removeprefix(SCHEDULE_PREFIX)
                at = fires_at(str(schedule.get("ScheduleExpression", "")))
                ours = schedule.get("Target", {}).get("Arn") == self.target_arn
                held[case_id] = at if at is not None and ours else wrong
        return held
