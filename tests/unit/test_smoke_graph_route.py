"""What the smoke test's Graph route refuses before it sends anything, and how the smoke
picks its route by the stack's InboundRoute."""

from __future__ import annotations

from typing import Any

import pytest

from infrastructure.ops import OpsError
from infrastructure.smoke_graph_route import GraphRoute
from infrastructure.smoke_routes import route_for

BASE = {
    "InboundRoute": "graph",
    "OutboundRoute": "graph",
    "GraphMailbox": "bromley.dsr@nhs.net",
    "SmokeTestMailbox": "dsr.smoke-mailbox@nhs.net",
    "AllowedSenderDomains": "nhs.net,*.nhs.uk",
}


class Parameters:
    """A stack's parameters only: a route that reached for AWS or Graph would fail here."""

    def __init__(self, **changed: str) -> None:
        self.values = {**BASE, **changed}

    def parameter(self, name: str) -> str:
        return self.values.get(name, "")

    def client(self, service: str) -> Any:
        raise AssertionError(f"the route reached for {service} before refusing")

    def resource(self, logical_id: str) -> str:
        raise AssertionError(f"the route reached for {logical_id} before refusing")


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        ({"SmokeTestMailbox": ""}, "has no SmokeTestMailbox"),
        ({"SmokeTestMailbox": "Bromley.DSR@nhs.net"}, "another mailbox than the GraphMailbox"),
        (
            {"SmokeTestMailbox": "smoke@bromley.example.org"},
            r"at the shared mailbox's domain \(nhs.net\): internal mail from another domain",
        ),
        ({"AllowedSenderDomains": "*.nhs.uk"}, "not in AllowedSenderDomains"),
    ],
)
def test_the_graph_route_refuses_a_smoke_mailbox_the_intake_would_not_take(
    changed: dict[str, str], message: str
) -> None:
    with pytest.raises(OpsError, match=message):
        GraphRoute(Parameters(**changed))  # type: ignore[arg-type]


@pytest.mark.parametrize(("way_in", "way_out"), [("graph", "ses"), ("ses", "graph")])
def test_the_embedded_stack_refuses_a_mixed_route(way_in: str, way_out: str) -> None:
    target = Parameters(InboundRoute=way_in, OutboundRoute=way_out)
    with pytest.raises(OpsError, match=f"mixed route \\({way_in} in, {way_out} out\\)"):
        route_for(target, local_stack=object())  # type: ignore[arg-type]


def test_a_deployed_mixed_stack_takes_the_route_of_its_way_in() -> None:
    target = Parameters(OutboundRoute="ses", SmokeTestMailbox="")
    with pytest.raises(OpsError, match="has no SmokeTestMailbox"):  # the Graph route's check
        route_for(target)  # type: ignore[arg-type]
