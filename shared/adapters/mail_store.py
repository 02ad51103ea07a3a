"""The raw MIME that SES stored in the mail bucket."""

from __future__ import annotations

from typing import Any

INBOUND_PREFIX = "inbound/"


class RawMailStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    def read(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
