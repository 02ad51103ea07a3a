"""The Graph route loses nothing, end to end on its own embedded stack (InboundRoute=
OutboundRoute=graph, the local Microsoft 365 mailbox): an email Graph will not give is set
aside and the coordinators told once while the mail behind it comes in; an answer that
bounces (Exchange's non-delivery report back in the shared mailbox) reaches the
coordinators once, with its case, and changes nothing of the case.

Run by tests/integration/test_graph_route.py in a process of its own (one embedded stack
per process).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.samples import child
from shared.adapters.graph_mailbox import PROCESSED_FOLDER
from shared.adapters.register_table import RegisterTable
from shared.set_aside import NEEDS_ATTENTION_FOLDER
from tests.graph_route.scenario_graph_route import (
    MAILBOX,
    answers_to,
    exchange_email,
    message_id_of,
)

COORDINATORS = ("dsr.coordinator@nhs.net", "dsr.lead@nhs.net")
# Both secure: each alert is one email to them both.
TO_COORDINATORS = [", ".join(COORDINATORS)]


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    parameters = {"InboundRoute": "graph", "OutboundRoute": "graph", "GraphMailbox": MAILBOX}
    with LocalStack(parameters) as local:
        yield local


def notices(stack: LocalStack, subject_start: str) -> list[EmailMessage]:
    assert stack.graph is not None
    return [
        m for m in stack.graph.sent_items() if str(m["Subject"]).startswith(subject_start)
    ]


def test_an_email_graph_will_not_give_is_set_aside_and_the_rest_answered(
    stack: LocalStack,
) -> None:
    assert stack.graph is not None
    unreadable = stack.graph.deliver(exchange_email(71))
    stack.graph.refuse(unreadable, "$value", 404, "ErrorItemNotFound")
    raw = exchange_email(72)
    referral = stack.graph.deliver(raw)
    before = len(stack.log_lines)
    stack.run_pipeline()
    # The mail behind it came in and was answered; the unreadable one waits for a person.
    assert stack.graph.folder_of(referral) == PROCESSED_FOLDER
    assert len(answers_to(stack, message_id_of(raw))) == 1
    assert stack.graph.folder_of(unreadable) == NEEDS_ATTENTION_FOLDER
    told = notices(stack, "DSR email set aside")
    assert [str(m["To"]) for m in told] == TO_COORDINATORS
    assert all("404 ErrorItemNotFound" in str(m["Subject"]) for m in told)
    assert sent_emails() == []  # through the shared mailbox, not SES
    # Logged with Graph's id and error only; counted for the alarm.
    logs = stack.log_lines[before:]
    [line] = [json.loads(x) for x in logs if '"email set aside"' in x]
    assert (line["graph_id"], line["stage"], line["graph_code"], line["folder"]) == (
        unreadable, "reading it", "404 ErrorItemNotFound", NEEDS_ATTENTION_FOLDER
    )  # fmt: skip
    assert any('"MailboxMessagesSetAside"' in x for x in logs)
    person = child(71)
    for personal in ("sam.patel@nhs.net", "Sam Patel", person["child_family_name"],
                     person["child_nhs_number"]):  # fmt: skip
        assert all(personal not in x for x in logs), personal
        assert all(personal not in str(m) for m in told), personal


def test_a_set_aside_email_is_told_once_however_many_runs_meet_it(stack: LocalStack) -> None:
    """The first run dies after telling the coordinators (the move to Needs attention fails
    with a 5xx); the next one sets it aside: one notice."""
    assert stack.graph is not None
    stuck = stack.graph.deliver(exchange_email(73))
    stack.graph.refuse(stuck, "$value", 400, "ErrorInvalidRequest")
    already = len(notices(stack, "DSR email set aside in the shared mailbox (400"))
    stack.graph.throttle(10, 0, status=500, path_part="/move")
    with pytest.raises(Exception, match="500"):
        stack.run_pipeline()
    stack.graph.state.throttles.clear()
    stack.run_pipeline()
    stack.run_pipeline()
    assert stack.graph.folder_of(stuck) == NEEDS_ATTENTION_FOLDER
    told = notices(stack, "DSR email set aside in the shared mailbox (400")
    assert len(told) == already + 1



def outcomes(stack: LocalStack, since: int) -> list[dict[str, object]]:
    return [json.loads(x) for x in stack.log_lines[since:] if '"email processed"' in x]


def test_an_answer_that_bounces_reaches_the_coordinators_once(stack: LocalStack) -> None:
    assert stack.graph is not None
    gone = "no.longer.here@nhs.net"
    stack.graph.undeliverable.add(gone)
    raw = exchange_email(74, sender=gone)
    stack.graph.deliver(raw)
    before = len(stack.log_lines)
    stack.run_pipeline()  # the referral is accepted; its acknowledgement cannot be delivered
    [accepted] = outcomes(stack, before)
    case_id = str(accepted["case_id"])
    assert accepted["outcome"] == "accepted"
    [answer] = answers_to(stack, message_id_of(raw))
    assert (answer["X-DSR-Case"], answer["X-DSR-Purpose"]) == (case_id, "acknowledgement")
    [ndr] = [m for m in stack.graph.inbox_messages() if "Undeliverable" in str(m["Subject"])]
    assert ndr.get_content_type() == "multipart/report"
    register = RegisterTable(stack.client("dynamodb"), stack.resources["RegisterTable"])
    case_before = register.case(case_id)
    before = len(stack.log_lines)
    stack.run_pipeline()  # the MailboxFunction takes the report in; the intake reads it
    [report] = outcomes(stack, before)
    assert (report["outcome"], report["case_id"]) == ("quarantined", case_id)
    told = notices(stack, f"DSR answer not delivered (the address bounced it, {case_id})")
    assert [str(m["To"]) for m in told] == TO_COORDINATORS
    assert all(gone in str(m.get_body(("plain",)).get_content()) for m in told)  # type: ignore[union-attr]
    # Never answered, and the case is as it was.
    assert not [m for m in stack.graph.sent_items() if m["In-Reply-To"] == ndr["Message-ID"]]
    case_after = register.case(case_id)
    assert case_before is not None and case_after is not None
    assert case_after.version == case_before.version
    assert case_after.model_dump() == case_before.model_dump()
    # Exchange's second report about the same email (here a copy): silent.
    stack.graph.deliver(bytes(ndr))
    stack.run_pipeline()
    assert len(notices(stack, "DSR answer not delivered")) == 1
