"""The keyed hash of the NHS number that keys a person on the register (KMS HMAC)."""

from __future__ import annotations

from typing import Any

from shared.identifiers import normalise_nhs_number


class KmsIdentityHasher:
    def __init__(self, kms: Any, key_id: str) -> None:
        self.kms = kms
        self.key_id = key_id

    def person_key(self, nhs_number: str) -> str:
        response = self.kms.generate_mac(
            KeyId=self.key_id,
            MacAlgorithm="HMAC_SHA_256",
            Message=normalise_nhs_number(nhs_number).encode("ascii"),
        )
        return bytes(response["Mac"]).hex()
