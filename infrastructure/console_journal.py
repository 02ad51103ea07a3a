"""What a console request changed in the local register, kept so the register can be rebuilt.

The local session rebuilds its register by replaying a journal (infrastructure.session).
Emails and the clock replay as themselves, but a coordinator's decision in the console
cannot: its sign-in, CSRF and one-time form tokens belong to the run that took them. So what
the ConsoleFunction changed is journalled instead, as the AWS calls that changed it -
DynamoDB writes (the decision and its outbox, in one transaction) and S3 deletes (a
dismissed email erased) - and replayed as those same calls at the same moment. Its emails,
reminders and erasure then follow from the outbox exactly as they did the first time.

    with recording() as calls:
        stack.invoke("console", event)
    journalled = portable(calls, stack.resources)  # when calls is not empty
    replay(stack.client, journalled, stack.resources)  # at the next start
"""

from __future__ import annotations

import base64
import contextvars
import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# The calls that change what the register keeps (reads and Cognito's sign-in are not).
CHANGES = {
    "dynamodb": {
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "TransactWriteItems",
        "BatchWriteItem",
    },
    "s3": {"PutObject", "DeleteObject", "DeleteObjects", "CopyObject"},
}

_calls: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "console_calls", default=None
)
_hooked: set[int] = set()


def _as_json(value: Any, names: dict[str, str]) -> Any:
    """Parameters as JSON (DynamoDB's binary values and S3 bodies are bytes), the stack's
    resources by their logical ids (each start's stack names its table and buckets anew)."""
    if isinstance(value, bytes | bytearray):
        return {"__bytes__": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, str) and value in names:
        return {"__resource__": names[value]}
    if isinstance(value, dict):
        return {key: _as_json(item, names) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_json(item, names) for item in value]
    return value


def _from_json(value: Any, resources: dict[str, str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__bytes__"}:
            return base64.b64decode(value["__bytes__"])
        if set(value) == {"__resource__"}:
            return resources[value["__resource__"]]
        return {key: _from_json(item, resources) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_json(item, resources) for item in value]
    return value


def portable(calls: list[dict[str, Any]], resources: dict[str, str]) -> list[dict[str, Any]]:
    """The calls as the journal keeps them (`resources`: the stack's logical id -> name)."""
    names = {physical: logical for logical, physical in resources.items()}
    return [{**call, "params": _as_json(call["params"], names)} for call in calls]


def _before(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    if _calls.get() is not None:
        context["dsr_console_call"] = copy.deepcopy(params)


def _after(http_response: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
    calls = _calls.get()
    params = context.pop("dsr_console_call", None)
    if calls is None or params is None or http_response.status_code >= 300:
        return
    service = model.service_model.service_name
    calls.append({"service": service, "operation": model.name, "params": params})


def install() -> None:
    """Listen to the calls of every client made from now on (boto3's default session hands
    its event hooks to each new client)."""
    import boto3

    session = boto3._get_default_session()  # the session `boto3.client` uses
    if id(session) in _hooked:
        return
    for service, operations in CHANGES.items():
        for operation in operations:
            session.events.register(f"before-parameter-build.{service}.{operation}", _before)
            session.events.register(f"after-call.{service}.{operation}", _after)
    _hooked.add(id(session))


@contextmanager
def recording() -> Iterator[list[dict[str, Any]]]:
    """The changing calls made in this context (this thread), in order, as they succeeded."""
    calls: list[dict[str, Any]] = []
    token = _calls.set(calls)
    try:
        yield calls
    finally:
        _calls.reset(token)


def replay(client_of: Any, calls: list[dict[str, Any]], resources: dict[str, str]) -> list[str]:
    """Make the journalled calls again; the problems met (a call refused), in words."""
    problems = []
    for call in calls:
        client = client_of(call["service"])
        operation = getattr(client, _snake(call["operation"]))
        try:
            operation(**_from_json(call["params"], resources))
        except Exception as error:  # the rest of the register is still rebuilt
            reasons = [
                reason.get("Code", "")
                for reason in getattr(error, "response", {}).get("CancellationReasons", [])
            ]
            problems.append(
                f"{call['operation']} refused on replay: {type(error).__name__}"
                + (f" {reasons}" if reasons else "")
            )
    return problems


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
