"""The triage page: everything waiting for a person, oldest first (ConsoleService.triage, the
TriageQueue index), each item with what the coordinator decides on (an email's sender,
subject, the start of its text, its files to download; a held withdrawal's form) and the
actions the actor's role allows - release or dismiss a quarantined email, verify or decline
a self-referral, confirm or decline a held withdrawal, note a bounced answer, enter a
scanned form by hand (a web form of the referral's and consent's own fields). Every action
and download a POST with the CSRF token; the email's id rides in the form, never in a URL.
A decision's confirmation says what it came to (accepted as a case, pending, rejected and
why), read from the register by the event id a one-time cookie carries."""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

try:  # the tests and the embedded stack
    from functions.console import shell, web
except ImportError:  # Lambda: the function's own folder is the root of its code
    import shell  # type: ignore[no-redef,import-not-found]
    import web  # type: ignore[no-redef,import-not-found]
from shared.case import Actor
from shared.console.manual_entry import EnteredForm
from shared.console.ports import ActionDone
from shared.console.roles import ConsoleAction
from shared.console.session import DONE_COOKIE, Identity, audit_view
from shared.console.wording import CameOf
from shared.errors import ActionRefusedError
from shared.forms.fields import FormKind
from templates.forms.layout import CONSENT, REFERRAL

logger = Logger(service="dsr-console", child=True)
router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

DONE = {
    "release": "The email is released: it was decided as from its sender, who is answered.",
    "dismiss": "The email is dismissed: nobody is answered and it is erased.",
    "verify": "The self-referral is verified: it was decided as usual.",
    "decline": "The self-referral is declined: its sender is told.",
    "note": "The bounced answer is noted.",
    "enter": "The form entered by hand is recorded: the sender is answered as usual.",
    "confirm-withdrawal": "The held withdrawal is confirmed: it was applied as usual.",
    "decline-withdrawal": "The held withdrawal is declined: nothing was erased.",
    "already": "That was done already: nothing more was done.",
}
# The decisions whose confirmation says what they came to (the others always come to the same).
CAME_OF = frozenset({"release", "verify", "enter", "confirm-withdrawal"})
_EVENT_ID = re.compile(r"[A-Za-z0-9._@+=-]{1,300}")
ENTRY_LAYOUTS = {"referral": (FormKind.REFERRAL, REFERRAL), "consent": (FormKind.CONSENT, CONSENT)}


def _triage_page(
    request: shell.Request,
    identity: Identity,
    actor: Actor,
    *,
    status: int = 200,
    refused: ActionRefusedError | None = None,
    done: str | None = None,
    came: CameOf | None = None,
) -> Response[Any]:
    items = shell.wiring().service.triage(actor)
    # The emails and holds shown (their sender, text, a hold's NHS number) are audited too.
    shown = [n for i in items if i.sender for n in (i.message_id, i.reference) if n]
    logger.info("console view", audit=audit_view(
        identity, "triage", [i.case_id for i in items if i.case_id], shown
    ))  # fmt: skip
    _, general = shell.errors_of(refused.reasons if refused else [])
    if refused:
        general += [r.message for r in refused.reasons if r.field]
    return request.page(
        "triage.html",
        status,
        identity=identity,
        items=items,
        errors=general,
        done=DONE.get(done or ""),
        came=came,
        # A one-time token for each item's form: two items dealt with are two events.
        tokens={item.item_id: shell.form_token() for item in items},
    )


@router.get("/triage")
def triage() -> Response[Any]:
    request, identity, actor = shell.signed_in(router.current_event)
    done = router.current_event.get_query_string_value("done", "") or ""
    came = None
    event_id = request.cookies.get(DONE_COOKIE, "")
    if event_id:
        request.set.append(web.expired(DONE_COOKIE))
        if done in CAME_OF and _EVENT_ID.fullmatch(event_id):
            came = shell.wiring().service.came_of(actor, event_id)
    return _triage_page(request, identity, actor, done=done, came=came)


def _done(request: shell.Request, name: str, done: ActionDone) -> Response[Any]:
    """303 back to Triage, its URL naming the action only; what the decision came to rides
    in a one-time cookie (its event id) when there is more to say."""
    if name in CAME_OF and done.outcome is not None:
        request.set.append(web.cookie(DONE_COOKIE, done.event_id, max_age=120))
    return web.redirect(f"/triage?done={'already' if done.already else name}", request.set)


def _act(name: str, act: Any) -> Response[Any]:
    request, identity, actor = shell.signed_in(router.current_event)
    typed = request.form()
    try:
        done: ActionDone = act(actor, typed)
    except ActionRefusedError as refused:
        if refused.code.startswith("role:"):
            raise shell.Forbidden from None
        logger.info("console action refused", action=name, code=refused.code)
        return _triage_page(request, identity, actor, status=400, refused=refused)
    logger.info("console action", action=name, event=done.event_id, already=done.already)
    return _done(request, name, done)


@router.post("/triage/release")
def release() -> Response[Any]:
    return _act("release", lambda actor, typed: shell.wiring().service.release(
        actor, typed.get("message_id", "")))  # fmt: skip


@router.post("/triage/dismiss")
def dismiss() -> Response[Any]:
    return _act("dismiss", lambda actor, typed: shell.wiring().service.dismiss(
        actor, typed.get("message_id", "")))  # fmt: skip


@router.post("/triage/verify")
def verify() -> Response[Any]:
    return _act("verify", lambda actor, typed: shell.wiring().service.verify(
        actor, typed.get("message_id", "")))  # fmt: skip


@router.post("/triage/decline")
def decline() -> Response[Any]:
    return _act("decline", lambda actor, typed: shell.wiring().service.decline(
        actor, typed.get("message_id", "")))  # fmt: skip


@router.post("/triage/note")
def note() -> Response[Any]:
    return _act("note", lambda actor, typed: shell.wiring().service.note(
        actor, typed.get("token", ""), typed.get("event_id", "")))  # fmt: skip


@router.post("/triage/confirm-withdrawal")
def confirm_withdrawal() -> Response[Any]:
    return _act("confirm-withdrawal", lambda actor, typed: shell.wiring().service
                .confirm_withdrawal(actor, typed.get("token", ""), typed.get("reference", "")))  # fmt: skip


@router.post("/triage/decline-withdrawal")
def decline_withdrawal() -> Response[Any]:
    return _act("decline-withdrawal", lambda actor, typed: shell.wiring().service
                .decline_withdrawal(actor, typed.get("token", ""), typed.get("reference", "")))  # fmt: skip


@router.post("/triage/file")
def waiting_file() -> Response[Any]:
    """A file of an email waiting in Triage: a POST (the email's id in the form, never in a
    URL), saved under a safe name and never rendered by the browser; audited."""
    request, identity, actor = shell.signed_in(router.current_event)
    typed = request.form()
    position = typed.get("position", "")
    try:
        found = shell.wiring().service.waiting_file(
            actor, typed.get("message_id", ""), int(position) if position.isdigit() else 0
        )
    except ActionRefusedError:
        raise shell.Forbidden from None
    if found is None:
        return request.page("not_found.html", 404, identity=identity)
    name, file = found
    logger.info("console file", audit={"who": actor.sub, "role": actor.role.value,
                                       "what": "triage:file", "cases": []})  # fmt: skip
    return web.download(file.content, name, "application/octet-stream")


# ----- a scanned form entered by hand -----
def _entry_page(
    request: shell.Request,
    identity: Identity,
    actor: Actor,
    message_id: str,
    *,
    status: int = 200,
    typed: dict[str, str] | None = None,
    refused: ActionRefusedError | None = None,
) -> Response[Any]:
    waiting = [i for i in shell.wiring().service.triage(actor) if i.message_id == message_id]
    if not waiting or ConsoleAction.ENTER_BY_HAND not in waiting[0].actions:
        return request.page("not_found.html", 404, identity=identity)
    item = waiting[0]
    reasons = refused.reasons if refused else []
    errors = {kind: shell.errors_of([r for r in reasons if r.form == form.value])[0]
              for kind, (form, _) in ENTRY_LAYOUTS.items()}  # fmt: skip
    general = [r.message for r in reasons if not r.field or r.form is None]
    return request.page(
        "triage_entry.html",
        status,
        identity=identity,
        item=item,
        layouts={kind: layout for kind, (_, layout) in ENTRY_LAYOUTS.items()},
        typed=typed or {},
        errors=errors,
        general_errors=general,
        failed=bool(refused),
    )


@router.post("/triage/enter")
def entry_form() -> Response[Any]:
    request, identity, actor = shell.signed_in(router.current_event)
    typed = request.form()
    return _entry_page(request, identity, actor, typed.get("message_id", ""))


@router.post("/triage/enter/record")
def entry_record() -> Response[Any]:
    request, identity, actor = shell.signed_in(router.current_event)
    typed = request.form()
    message_id = typed.get("message_id", "")
    entered = []
    for kind, (form, layout) in ENTRY_LAYOUTS.items():
        position = typed.get(f"{kind}_position", "")
        if position.isdigit():
            fields = {name: typed.get(f"{kind}.{name}", "") for name in layout.field_names()}
            entered.append(EnteredForm(int(position), form, fields))
    try:
        done = shell.wiring().service.enter_by_hand(
            actor, message_id, entered, send_rejection=typed.get("send_rejection") == "Yes"
        )
    except ActionRefusedError as refused:
        if refused.code.startswith("role:"):
            raise shell.Forbidden from None
        logger.info("console action refused", action="enter", code=refused.code)
        return _entry_page(request, identity, actor, message_id, status=400, typed=typed,
                           refused=refused)  # fmt: skip
    logger.info("console action", action="enter", event=done.event_id, already=done.already)
    return _done(request, "enter", done)
