"""The console journal keeps a request's calls portable between starts of the local stack."""

from __future__ import annotations

from typing import Any

from infrastructure.console_journal import _snake, portable, replay


class _Client:
    def __init__(self, refuse: bool = False) -> None:
        self.made: list[tuple[str, dict[str, Any]]] = []
        self.refuse = refuse

    def transact_write_items(self, **params: Any) -> None:
        if self.refuse:
            raise ValueError("refused")
        self.made.append(("transact_write_items", params))


def test_a_call_replays_on_the_next_start_with_its_resources_renamed() -> None:
    first = {"RegisterTable": "dsr-RegisterTable-AAAA", "RawMailBucket": "raw-aaaa"}
    second = {"RegisterTable": "dsr-RegisterTable-BBBB", "RawMailBucket": "raw-bbbb"}
    call = {
        "service": "dynamodb",
        "operation": "TransactWriteItems",
        "params": {
            "TransactItems": [
                {"Put": {"TableName": "dsr-RegisterTable-AAAA", "Item": {"B": {"B": b"\x00\xff"}}}}
            ]
        },
    }
    [kept] = portable([call], first)
    assert "dsr-RegisterTable-AAAA" not in str(kept) and "__bytes__" in str(kept)
    client = _Client()
    assert replay(lambda service: client, [kept], second) == []
    [(operation, params)] = client.made
    put = params["TransactItems"][0]["Put"]
    assert operation == "transact_write_items"
    assert put["TableName"] == "dsr-RegisterTable-BBBB" and put["Item"]["B"]["B"] == b"\x00\xff"


def test_a_refused_call_is_reported_and_the_rest_replayed() -> None:
    call = {"service": "dynamodb", "operation": "TransactWriteItems", "params": {}}
    problems = replay(lambda service: _Client(refuse=True), [call, call], {})
    assert problems == ["TransactWriteItems refused on replay: ValueError"] * 2


def test_operation_names_are_boto3_method_names() -> None:
    assert _snake("TransactWriteItems") == "transact_write_items"
    assert _snake("DeleteObject") == "delete_object"
