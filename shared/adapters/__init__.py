"""Small AWS adapters behind the plain interfaces the domain core asks for.

Clients honour `AWS_ENDPOINT_URL`, which is how the embedded local AWS (moto) is reached.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

_RETRIES = Config(retries={"max_attempts": 5, "mode": "standard"})
_NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def client(service: str) -> Any:
    return boto3.client(service, config=_RETRIES)


def client_without_retries(service: str) -> Any:
    """For calls that must not be repeated blind (a send whose answer was lost)."""
    return boto3.client(service, config=_NO_RETRIES)
