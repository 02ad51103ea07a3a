"""Models of the events at the edges (pydantic), small on purpose: moto's and AWS's events
differ in optional fields, so only what we read is required."""

from __future__ import annotations

from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field


class _Bucket(BaseModel):
    name: str


class _Object(BaseModel):
    key: str


class _S3(BaseModel):
    bucket: _Bucket
    object: _Object


class _S3Record(BaseModel):
    s3: _S3


class S3Notification(BaseModel):
    """An S3 event notification as SQS carries it (or the `s3:TestEvent` sent on set-up)."""

    model_config = ConfigDict(populate_by_name=True)

    records: list[_S3Record] = Field(default_factory=list, alias="Records")
    event: str | None = Field(default=None, alias="Event")

    def object_keys(self) -> list[str]:
        if self.event == "s3:TestEvent":
            return []
        # Keys arrive URL-encoded, with `+` for a space.
        return [unquote_plus(record.s3.object.key) for record in self.records]


class ReminderEvent(BaseModel):
    """What a case's EventBridge schedule sends the ReminderFunction."""

    case_id: str = Field(pattern=r"^DSR-[A-Z0-9]{8}$")
