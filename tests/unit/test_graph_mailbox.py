"""The Graph client and the mailbox reader against the local Graph mailbox (a real HTTP
server on 127.0.0.1): token, paging, delta links, throttling, moves, and no personal data
in what they raise."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from infrastructure.local_graph import LocalGraphMailbox
from shared.adapters.graph import MAX_ATTEMPTS, GraphClient, GraphCredentials, GraphError
from shared.adapters.graph_mailbox import (
    PROCESSED_FOLDER,
    GraphMailbox,
    MailboxIntake,
    graph_message_key,
)
from tests.unit.test_graph_verdicts import exchange_mail

MAILBOX = "bromley.dsr@nhs.net"
NOW = datetime.now(UTC)


@pytest.fixture
def local() -> Iterator[LocalGraphMailbox]:
    with LocalGraphMailbox(MAILBOX) as graph:
        yield graph


def client(local: LocalGraphMailbox, **options: object) -> GraphClient:
    credentials = GraphCredentials.model_validate(local.credentials)
    return GraphClient(lambda: credentials, local.api_url, local.url, **options)  # type: ignore[arg-type]


class Links:
    def __init__(self) -> None:
        self.link: str | None = None

    def mailbox_delta_link(self) -> str | None:
        return self.link

    def save_mailbox_delta_link(self, delta_link: str) -> None:
        self.link = delta_link


class Bucket:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.puts = 0

    def put(self, key: str, raw: bytes) -> None:
        self.objects[key] = raw
        self.puts += 1


class Told:
    """The coordinators' notices about set-aside emails, as the register would keep them:
    once per email."""

    def __init__(self) -> None:
        self.notices: dict[str, tuple[str, str]] = {}
        self.calls = 0

    def set_aside(self, message_key: str, graph_code: str, stage: str) -> None:
        self.calls += 1
        self.notices.setdefault(message_key, (graph_code, stage))


def intake(
    local: LocalGraphMailbox,
    links: Links,
    bucket: Bucket,
    told: Told | None = None,
    **options: object,
) -> MailboxIntake:
    return MailboxIntake(
        GraphMailbox(client(local, **options), MAILBOX),
        bucket,
        links,
        "nhs.net",
        lambda: 60.0,
        told if told is not None else Told(),
    )


def test_new_mail_is_stored_once_each_and_moved_to_processed(local: LocalGraphMailbox) -> None:
    ids = [local.deliver(exchange_mail()) for _ in range(23)]  # three pages of ten
    draft = local.deliver(exchange_mail(), draft=True)
    old = local.deliver(exchange_mail(), received=NOW - timedelta(days=3))
    links, bucket = Links(), Bucket()
    run = intake(local, links, bucket).run(NOW)
    assert run.summary() == {"stored": 23, "skipped": 1, "set_aside": 0, "complete": True}
    assert set(bucket.objects) == {f"inbound/{graph_message_key(i)}" for i in ids}
    assert all(len(key) == len("inbound/") + 40 for key in bucket.objects)
    assert {local.folder_of(i) for i in ids} == {PROCESSED_FOLDER}
    # Drafts (made in the mailbox, never received) and mail from before the first run stay.
    assert set(local.inbox()) == {draft, old}
    assert links.link and "$deltatoken=" in links.link
    # The next run reads only what came since: one new email, the moved ones are `@removed`.
    newer = local.deliver(exchange_mail())
    again = intake(local, links, bucket).run(NOW)
    assert (again.stored, bucket.puts) == (1, 24)
    assert local.folder_of(newer) == PROCESSED_FOLDER


def test_a_run_that_dies_before_the_move_stores_the_same_key_again(
    local: LocalGraphMailbox,
) -> None:
    message = local.deliver(exchange_mail())
    links, bucket = Links(), Bucket()
    local.throttle(10, 0, status=500, path_part="/move")  # the move fails: the run dies
    with pytest.raises(GraphError):
        intake(local, links, bucket).run(NOW)
    [(key, first)] = bucket.objects.items()
    # Only the first round's own query is kept (no delta token): the round is read again.
    assert links.link is not None and "$deltatoken=" not in links.link
    assert local.folder_of(message) == "Inbox"
    local.state.throttles.clear()
    intake(local, links, bucket).run(NOW)
    assert bucket.puts == 2 and list(bucket.objects) == [key] and bucket.objects[key] == first
    assert local.folder_of(message) == PROCESSED_FOLDER


def test_a_first_round_that_dies_is_read_again_from_its_own_start(
    local: LocalGraphMailbox,
) -> None:
    """The first run dies (here fetching the email) before it stores an email received just
    before it; the next run, minutes later, still takes that email and does not start a look-
    back of its own that has moved past it (nothing would ever read it again)."""
    message = local.deliver(exchange_mail(), received=NOW - timedelta(minutes=8))
    links, bucket = Links(), Bucket()
    local.throttle(10, 0, status=500, path_part="/$value")
    with pytest.raises(GraphError):
        intake(local, links, bucket).run(NOW)
    assert bucket.objects == {} and local.folder_of(message) == "Inbox"
    local.state.throttles.clear()
    run = intake(local, links, bucket).run(NOW + timedelta(minutes=4))
    assert run.stored == 1 and list(bucket.objects) == [f"inbound/{graph_message_key(message)}"]
    assert local.folder_of(message) == PROCESSED_FOLDER


def test_throttling_is_waited_out_as_graph_asks(local: LocalGraphMailbox) -> None:
    local.deliver(exchange_mail())
    waits: list[float] = []
    local.throttle(2, 3)
    run = intake(local, Links(), Bucket(), sleep=waits.append).run(NOW)
    assert run.stored == 1 and waits == [3.0, 3.0]
    assert [status for _, _, status in local.requests()].count(429) == 2


def test_throttling_gives_up_within_its_bounds(local: LocalGraphMailbox) -> None:
    waits: list[float] = []
    local.throttle(MAX_ATTEMPTS, 1)
    with pytest.raises(GraphError, match=r"429 \(TooManyRequests\)"):
        client(local, sleep=waits.append).get_json(f"/users/{MAILBOX}/mailFolders")
    assert len(waits) == MAX_ATTEMPTS - 1
    # A Retry-After longer than the invocation has left is not waited for at all.
    waits.clear()
    local.state.throttles.clear()
    local.throttle(1, 50)
    with pytest.raises(GraphError):
        client(local, sleep=waits.append, seconds_left=lambda: 40.0).get_json(
            f"/users/{MAILBOX}/mailFolders"
        )
    assert waits == []


def test_the_token_is_fetched_once_and_kept(local: LocalGraphMailbox) -> None:
    graph = client(local)
    for _ in range(3):
        graph.get_json(f"/users/{MAILBOX}/mailFolders")
    assert [path for _, path, _ in local.requests()].count(
        "/00000000-0000-0000-0000-00000000d5a1/oauth2/v2.0/token"
    ) == 1


def test_wrong_credentials_and_other_mailboxes_are_refused(local: LocalGraphMailbox) -> None:
    wrong = GraphCredentials(tenant_id="t", client_id="c", client_secret="s")
    with pytest.raises(GraphError, match="401"):
        GraphClient(lambda: wrong, local.api_url, local.url).get_json("/users/x/mailFolders")
    with pytest.raises(GraphError, match=r"403 \(ErrorAccessDenied\)"):
        client(local).get_json("/users/someone.else@nhs.net/mailFolders")


def test_links_elsewhere_and_plain_http_are_refused(local: LocalGraphMailbox) -> None:
    with pytest.raises(ValueError, match="own URL"):
        client(local).get_json("https://attacker.example/v1.0/users")
    with pytest.raises(ValueError, match="https"):
        GraphClient(
            lambda: GraphCredentials.model_validate(local.credentials),
            "http://graph.example/v1.0",
            local.url,
        )


def test_errors_carry_no_personal_data(local: LocalGraphMailbox) -> None:
    with pytest.raises(GraphError) as raised:
        client(local).get_bytes(f"/users/{MAILBOX}/messages/nope/$value")
    assert str(raised.value) == "Microsoft Graph answered 404 (ErrorItemNotFound)"
    assert MAILBOX not in str(raised.value)
