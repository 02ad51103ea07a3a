"""One email Graph will not let the MailboxFunction read does not stop the mailbox: it is set
aside in "Needs attention", the coordinators are told once, and the round goes on. What may
pass (429 after the waits, 5xx) or concerns the whole mailbox (401, 403) still ends the run.
Against the local Graph mailbox (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from infrastructure.local_graph import LocalGraphMailbox
from shared.adapters.graph import MAX_ATTEMPTS, GraphError
from shared.adapters.graph_mailbox import PROCESSED_FOLDER, SetAside, graph_message_key
from shared.case import EmailEffect, EmailPurpose
from shared.set_aside import NEEDS_ATTENTION_FOLDER, set_aside_change
from shared.settings import Settings
from tests.unit.test_graph_mailbox import MAILBOX, Bucket, Links, Told, intake
from tests.unit.test_graph_verdicts import exchange_mail

NOW = datetime.now(UTC)


@pytest.fixture
def local() -> Iterator[LocalGraphMailbox]:
    with LocalGraphMailbox(MAILBOX) as graph:
        yield graph


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (404, "ErrorItemNotFound"),
        (400, "ErrorInvalidRequest"),
        (413, "ErrorMessageSizeExceeded"),
        (422, "ErrorCannotConvert"),
    ],
)
def test_an_email_graph_will_not_give_is_set_aside_and_the_rest_come_in(
    local: LocalGraphMailbox, status: int, code: str
) -> None:
    before = local.deliver(exchange_mail())
    unreadable = local.deliver(exchange_mail())
    after = local.deliver(exchange_mail())
    local.refuse(unreadable, "$value", status, code)
    links, bucket, told = Links(), Bucket(), Told()
    run = intake(local, links, bucket, told).run(NOW)
    assert run.summary() == {"stored": 2, "skipped": 0, "set_aside": 1, "complete": True}
    assert run.set_aside == [
        SetAside(unreadable, "reading it", f"{status} {code}", NEEDS_ATTENTION_FOLDER)
    ]
    assert set(bucket.objects) == {f"inbound/{graph_message_key(i)}" for i in (before, after)}
    assert {local.folder_of(before), local.folder_of(after)} == {PROCESSED_FOLDER}
    # Nothing lost: the email is still in the mailbox, in a folder of its own (made here).
    assert local.folder_of(unreadable) == NEEDS_ATTENTION_FOLDER
    assert told.notices == {graph_message_key(unreadable): (f"{status} {code}", "reading it")}
    # The round was complete: the next run does not meet it again.
    newer = local.deliver(exchange_mail())
    again = intake(local, links, bucket, told).run(NOW)
    assert (again.stored, again.set_aside, told.calls) == (1, [], 1)
    assert local.folder_of(newer) == PROCESSED_FOLDER


@pytest.mark.parametrize(
    ("status", "code"),
    [(429, "TooManyRequests"), (500, "InternalServerError"), (503, "ServiceUnavailable"),
     (401, "InvalidAuthenticationToken"), (403, "ErrorAccessDenied")],
)  # fmt: skip
def test_what_may_pass_or_concerns_the_whole_mailbox_still_ends_the_run(
    local: LocalGraphMailbox, status: int, code: str
) -> None:
    message = local.deliver(exchange_mail())
    local.refuse(message, "$value", status, code)
    links, bucket, told = Links(), Bucket(), Told()
    with pytest.raises(GraphError, match=str(status)):
        intake(local, links, bucket, told, sleep=lambda _: None).run(NOW)
    assert told.notices == {} and bucket.objects == {}
    assert local.folder_of(message) == "Inbox"
    assert links.link is not None and "$deltatoken=" not in links.link  # read again next run
    if status == 429:  # after the waits Graph asked for
        assert sum(1 for _, path, s in local.requests() if s == 429) == MAX_ATTEMPTS
    # When Graph gives it, the next run takes it as any other.
    local.state.refusals.clear()
    assert intake(local, links, bucket, told).run(NOW).stored == 1
    assert local.folder_of(message) == PROCESSED_FOLDER


def test_an_email_stored_but_not_movable_is_passed_not_reported(
    local: LocalGraphMailbox,
) -> None:
    """The intake has it and answers it: the coordinators are not asked to handle it by
    hand. It stays in the Inbox; the round goes on."""
    stuck = local.deliver(exchange_mail())
    other = local.deliver(exchange_mail())
    local.refuse(stuck, "move", 400, "ErrorMoveCopyFailed")
    bucket, told = Bucket(), Told()
    run = intake(local, Links(), bucket, told).run(NOW)
    assert run.summary() == {"stored": 2, "skipped": 0, "set_aside": 1, "complete": True}
    assert run.set_aside == [
        SetAside(stuck, "moving it to Processed", "400 ErrorMoveCopyFailed", "Inbox")
    ]
    assert f"inbound/{graph_message_key(stuck)}" in bucket.objects
    assert (local.folder_of(stuck), local.folder_of(other)) == ("Inbox", PROCESSED_FOLDER)
    assert told.notices == {}


def test_an_email_that_cannot_be_read_or_moved_is_left_in_the_inbox_and_reported(
    local: LocalGraphMailbox,
) -> None:
    stuck = local.deliver(exchange_mail())
    local.refuse(stuck, "$value", 400, "ErrorInvalidRequest")
    local.refuse(stuck, "move", 400, "ErrorMoveCopyFailed")
    told = Told()
    run = intake(local, Links(), Bucket(), told).run(NOW)
    assert run.complete and [s.folder for s in run.set_aside] == ["Inbox"]
    assert local.folder_of(stuck) == "Inbox" and list(told.notices) == [graph_message_key(stuck)]


def test_a_run_that_dies_setting_one_aside_tells_once_and_sets_it_aside_next_time(
    local: LocalGraphMailbox,
) -> None:
    stuck = local.deliver(exchange_mail())
    local.refuse(stuck, "$value", 404, "ErrorItemNotFound")
    local.throttle(10, 0, status=500, path_part="/move")  # the move to Needs attention
    links, told = Links(), Told()
    with pytest.raises(GraphError, match="500"):
        intake(local, links, Bucket(), told).run(NOW)
    assert local.folder_of(stuck) == "Inbox"
    local.state.throttles.clear()
    run = intake(local, links, Bucket(), told).run(NOW)
    assert run.complete and local.folder_of(stuck) == NEEDS_ATTENTION_FOLDER
    assert told.calls == 2 and len(told.notices) == 1  # the register keeps the first only


def test_the_coordinators_notice_says_nothing_of_the_email() -> None:
    settings = Settings(coordinator_addresses=("dsr.coordinator@nhs.net",))
    change = set_aside_change(settings, "a" * 40, "404 ErrorItemNotFound", "reading it", NOW)
    assert change.event_id == "mailbox-set-aside-" + "a" * 40 and change.case is None
    [email] = change.effects
    assert isinstance(email, EmailEffect)
    assert email.purpose is EmailPurpose.COORDINATOR_NOTIFICATION
    assert list(email.to) == ["dsr.coordinator@nhs.net"]
    assert "404 ErrorItemNotFound" in email.subject
    assert f'"{NEEDS_ATTENTION_FOLDER}"' in email.body and "reading it" in email.body
    assert "$" not in email.body  # every placeholder filled
