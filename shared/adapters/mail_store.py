"""The raw MIME that SES stored in the mail bucket, and what is derived from it."""

from __future__ import annotations

from typing import Any

from shared.case import email_of
from shared.effects import MAX_ORIGINALS_BYTES
from shared.errors import ErasureIncompleteError, RawMailMissingError
from shared.mail import Attachment, parse_mail

INBOUND_PREFIX = "inbound/"
DERIVED_PREFIX = "cases/"  # objects derived from a case's emails: cases/<case id>/...


def raw_mail_key(message_id: str) -> str:
    return f"{INBOUND_PREFIX}{message_id}"


class RawMailStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    def read(self, key: str) -> bytes:
        try:
            return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except self.s3.exceptions.NoSuchKey:
            raise RawMailMissingError(key) from None

    def original_files(self, message_id: str, positions: tuple[int, ...]) -> list[Attachment]:
        """The email's files at these positions, as they came; none once it is gone."""
        try:
            raw = self.read(raw_mail_key(message_id))
        except RawMailMissingError:
            return []  # erased on withdrawal, or expired
        # Read up to the limit of what may be attached, not the intake's smaller limit; a
        # larger file keeps its size and is not decoded (the effect then says so).
        files = parse_mail(raw, max_part_bytes=MAX_ORIGINALS_BYTES).attachments
        return [file for file in files if file.position in positions]

    def erase(self, case_id: str, event_ids: list[str]) -> int:
        """Delete the case's raw emails and derived objects; returns how many were held."""
        # One child's part of an email that held several: the whole email goes.
        keys = list(dict.fromkeys(raw_mail_key(email_of(event_id)) for event_id in event_ids))
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{DERIVED_PREFIX}{case_id}/"):
            keys += [item["Key"] for item in page.get("Contents", [])]
        for start in range(0, len(keys), 1000):
            # Deleting a key that is not there succeeds: erasure can safely run twice.
            response = self.s3.delete_objects(
                Bucket=self.bucket,
                Delete={
                    "Objects": [{"Key": key} for key in keys[start : start + 1000]],
                    "Quiet": True,
                },
            )
            failed = response.get("Errors", [])
            if failed:
                # Quiet mode reports only failures: the erasure is not done, and is tried again.
                codes = sorted({str(error.get("Code", "unknown")) for error in failed})
                raise ErasureIncompleteError(
                    f"{len(failed)} stored objects of case {case_id} not deleted: {codes}"
                )
        return len(keys)
