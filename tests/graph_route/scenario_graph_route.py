"""The Graph route end to end on its own embedded stack (InboundRoute=OutboundRoute=graph):
a referral put in the local Microsoft 365 mailbox -> MailboxFunction -> mail bucket ->
intake -> the acknowledgement sent through the local sendMail, threaded.

Run by tests/integration/test_graph_route.py in a process of its own: an embedded stack is
one per process (moto's state is the process's), and the suite's session stack is SES's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.samples import child, consent_pdf, referral_pdf
from shared.adapters.graph_mailbox import PROCESSED_FOLDER, graph_message_key

MAILBOX = "bromley.dsr@nhs.net"
REFERRER = "sam.patel@nhs.net"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    parameters = {"InboundRoute": "graph", "OutboundRoute": "graph", "GraphMailbox": MAILBOX}
    with LocalStack(parameters) as local:
        yield local


def exchange_email(seed: int, *, sender: str = REFERRER, dmarc: str = "pass") -> bytes:
    """A referral with its consent as it lies in the shared mailbox: Exchange Online's
    headers on top (EOP's results, the header-firewalled AuthAs and SCL), then the email."""
    domain = sender.rsplit("@", 1)[1]
    person = child(seed)
    message = EmailMessage()
    message["Authentication-Results"] = (
        f"spf={dmarc} (sender IP is 40.107.1.1) smtp.mailfrom={domain}; dkim={dmarc} "
        f"(signature was verified) header.d={domain};dmarc={dmarc} action=none "
        f"header.from={domain};compauth={dmarc} reason=100"
    )
    message["X-MS-Exchange-Organization-AuthAs"] = "Anonymous"
    message["X-MS-Exchange-Organization-SCL"] = "1"
    message["X-Forefront-Antispam-Report"] = "CIP:40.107.1.1;CTRY:GB;SCL:1;SFV:NSPM;"
    message["From"] = f"Sam Patel <{sender}>"
    message["To"] = MAILBOX
    message["Subject"] = "DSR referral"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content("Please find the DSR forms attached.")
    for name, content in (
        ("referral.pdf", referral_pdf(**person)),
        ("consent.pdf", consent_pdf(**person)),
    ):
        message.add_attachment(content, maintype="application", subtype="pdf", filename=name)
    return bytes(message)


def message_id_of(raw: bytes) -> str:
    return str(message_from_bytes(raw, policy=policy.default)["Message-ID"])


def answers_to(stack: LocalStack, message_id: str) -> list[EmailMessage]:
    assert stack.graph is not None
    return [m for m in stack.graph.sent_items() if m["In-Reply-To"] == message_id]


def test_a_referral_in_the_mailbox_is_answered_from_it_threaded(stack: LocalStack) -> None:
    assert stack.graph is not None
    raw = exchange_email(61)
    referral_id = message_id_of(raw)
    graph_id = stack.graph.deliver(raw)
    stack.run_pipeline()
    assert stack.graph.folder_of(graph_id) == PROCESSED_FOLDER
    stored = (
        stack.client("s3")
        .get_object(
            Bucket=stack.resources["RawMailBucket"], Key=f"inbound/{graph_message_key(graph_id)}"
        )["Body"]
        .read()
    )
    assert stored.startswith(b"Authentication-Results: mailbox.dsr-intake.invalid; spf=pass")
    outcomes = [json.loads(line) for line in stack.log_lines if '"email processed"' in line]
    assert [o["outcome"] for o in outcomes] == ["accepted"]
    [answer] = answers_to(stack, referral_id)
    assert answer["From"] == MAILBOX and answer["To"] == REFERRER
    assert answer["References"].split()[-1] == referral_id
    assert answer["Subject"].startswith("Re: DSR referral")
    assert answer["Auto-Submitted"] == "auto-replied"
    assert sent_emails() == []  # nothing went through SES
    # No SES receipt rule receives for the inbox on this route.
    rule_sets = stack.client("ses").list_receipt_rule_sets().get("RuleSets", [])
    rules = [
        rule["Name"]
        for rule_set in rule_sets
        for rule in stack.client("ses").describe_receipt_rule_set(RuleSetName=rule_set["Name"])[
            "Rules"
        ]
    ]
    assert not any(name.startswith("dsr-inbox-") for name in rules)


def test_a_crash_between_storing_and_moving_answers_once(stack: LocalStack) -> None:
    assert stack.graph is not None
    raw = exchange_email(62)
    referral_id = message_id_of(raw)
    graph_id = stack.graph.deliver(raw)
    stack.graph.throttle(10, 0, status=500, path_part="/move")
    with pytest.raises(Exception, match="500"):
        stack.run_pipeline()  # the mailbox run dies after storing
    stack.run_intake()
    stack.run_effects()
    assert len(answers_to(stack, referral_id)) == 1
    stack.graph.state.throttles.clear()
    stack.run_pipeline()  # stored again under the same key, then moved
    assert stack.graph.folder_of(graph_id) == PROCESSED_FOLDER
    assert len(answers_to(stack, referral_id)) == 1


def test_the_same_email_twice_in_the_mailbox_is_answered_once(stack: LocalStack) -> None:
    """Two messages (two Graph ids, two keys), one email: the intake's duplicate rule
    (sender + Message-ID) keeps the second silent."""
    assert stack.graph is not None
    raw = exchange_email(63)
    referral_id = message_id_of(raw)
    first, second = stack.graph.deliver(raw), stack.graph.deliver(raw)
    stack.run_pipeline()
    assert {stack.graph.folder_of(first), stack.graph.folder_of(second)} == {PROCESSED_FOLDER}
    assert len(answers_to(stack, referral_id)) == 1


def test_throttled_graph_is_waited_out(stack: LocalStack) -> None:
    assert stack.graph is not None
    raw = exchange_email(64)
    referral_id = message_id_of(raw)
    stack.graph.deliver(raw)
    stack.graph.throttle(2, 0)  # the mailbox run's first requests
    stack.graph.throttle(2, 0, path_part="/sendMail")
    stack.run_pipeline()
    assert len(answers_to(stack, referral_id)) == 1
    assert [s for _, _, s in stack.graph.requests()].count(429) == 4


def test_a_spoofed_email_is_quarantined_and_never_answered(stack: LocalStack) -> None:
    assert stack.graph is not None
    raw = exchange_email(65, sender="dsr.coordinator@nhs.net", dmarc="fail")
    referral_id = message_id_of(raw)
    stack.graph.deliver(raw)
    before = len(stack.log_lines)
    stack.run_pipeline()
    assert answers_to(stack, referral_id) == []
    outcomes = [
        json.loads(line) for line in stack.log_lines[before:] if '"email processed"' in line
    ]
    assert [(o["outcome"], "MAIL_AUTH_FAILED" in o["reason_codes"]) for o in outcomes] == [
        ("quarantined", True)
    ]
