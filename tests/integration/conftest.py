"""The console's register and service on the session's embedded stack, for the console's
tests (a module testing the intake's RegisterTable keeps its own `register`). The stack is
shared: each module's children (seeds, NHS numbers, names) are its own."""

from __future__ import annotations

import pytest

from infrastructure.local_stack import LocalStack
from shared.adapters import client
from shared.adapters.console_register import ConsoleMailStore, ConsoleRegisterTable
from shared.adapters.identity import KmsIdentityHasher
from shared.console.service import ConsoleService
from shared.settings import Settings


@pytest.fixture
def register(stack: LocalStack) -> ConsoleRegisterTable:
    return ConsoleRegisterTable(client("dynamodb"), stack.resources["RegisterTable"])


@pytest.fixture
def console(stack: LocalStack, register: ConsoleRegisterTable) -> ConsoleService:
    return ConsoleService(
        Settings.from_environment(),
        register,
        ConsoleMailStore(client("s3"), stack.resources["RawMailBucket"]),
        KmsIdentityHasher(client("kms"), stack.resources["IdentityKey"]),
        clock=stack.now,
    )
