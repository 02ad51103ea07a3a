"""The case page and its action forms: the case as held (each view audited), its original
files, and correct / review / close / withdraw / subject access - each a POST with the CSRF
token and a one-time form token, refused with the error summary and the fields' errors,
done with a 303 back to the case (a refresh never sends a form again)."""

from __future__ import annotations

from collections.abc import Callable
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
from shared.console.case_actions import REVIEW_FIELDS
from shared.console.case_view import CASE_REFERENCE, CaseReader
from shared.console.corrections import CORRECTABLE, NHS_NUMBER_REFUSAL
from shared.console.ports import ActionDone
from shared.console.session import Identity
from shared.console.wording import correction_label
from shared.errors import ActionRefusedError
from templates.forms.layout import REVIEW, WITHDRAWAL

logger = Logger(service="dsr-console", child=True)
router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

# What each action's form is called on the page, and what the page says once it is done.
DONE = {
    "correct": "The correction is recorded. The old value is kept in the corrections below.",
    "review": "The review is recorded.",
    "close": "The case is closed: it has left the register and its reminders have stopped.",
    "withdraw": "Consent is withdrawn: the person's details are being erased.",
    "already": "That form was sent already: nothing more was done.",
}
# How each value is typed, where the form asks a format.
CORRECTION_HINTS = {"date_of_birth": " (DD/MM/YYYY)"}
# A refused value's error, whichever name it comes under (the held field's or the form's).
CORRECTION_ERRORS = [name for pair in CORRECTABLE.items() for name in pair]
# The review form: DSR-REVIEW-1's sections 2 and 3 (the case and the reviewer are the page's).
REVIEW_SECTIONS = [s for s in REVIEW.sections if any(f.name in REVIEW_FIELDS for f in s.fields)]
WITHDRAWAL_SECTIONS = [
    s.__class__(s.title, s.guidance, tuple(f for f in s.fields if f.name != "case_reference"))
    for s in WITHDRAWAL.sections
]


def _case_page(
    request: shell.Request,
    identity: Identity,
    actor: Actor,
    reference: str,
    *,
    status: int = 200,
    failed: str | None = None,
    refused: ActionRefusedError | None = None,
    typed: dict[str, str] | None = None,
    done: str | None = None,
) -> Response[Any]:
    view = CaseReader(shell.wiring().service).view(actor, reference)
    if view is None:
        return request.page("not_found.html", 404, identity=identity)
    field_errors, general = shell.errors_of(refused.reasons if refused else [])
    logger.info("console view", audit={"who": actor.sub, "role": actor.role.value,
                                       "what": "case", "cases": [reference]})  # fmt: skip
    return request.page(
        "case.html",
        status,
        identity=identity,
        view=view,
        case=view.case,
        child=view.case.child,
        failed=failed,
        field_errors=field_errors,
        general_errors=general,
        typed=typed or {},
        # A fresh one-time token for each form; after a refusal the refused form keeps its
        # own (nothing was recorded under it).
        tokens={
            name: (typed or {}).get("token") if name == failed else shell.form_token()
            for name in ("correct", "review", "close", "withdraw")
        },
        done=DONE.get(done or ""),
        correctable=[
            (name, correction_label(name) + CORRECTION_HINTS.get(name, ""))
            for name in CORRECTABLE
        ],
        correction_errors=CORRECTION_ERRORS,
        nhs_number_refusal=NHS_NUMBER_REFUSAL,
        review_sections=REVIEW_SECTIONS,
        withdrawal_sections=WITHDRAWAL_SECTIONS,
    )


@router.get("/cases/<reference>")
def case_page(reference: str) -> Response[Any]:
    request, identity, actor = shell.signed_in(router.current_event)
    if not CASE_REFERENCE.fullmatch(reference):
        return request.page("not_found.html", 404, identity=identity)
    done = router.current_event.get_query_string_value("done", "") or ""
    return _case_page(request, identity, actor, reference, done=done)


@router.get("/cases/<reference>/files/<email>/<position>")
def case_file(reference: str, email: str, position: str) -> Response[Any]:
    request, identity, actor = shell.signed_in(router.current_event)
    if not (CASE_REFERENCE.fullmatch(reference) and email.isdigit() and position.isdigit()):
        return request.page("not_found.html", 404, identity=identity)
    try:
        found = CaseReader(shell.wiring().service).file(actor, reference, int(email), int(position))
    except ActionRefusedError:
        raise shell.Forbidden from None
    if found is None:
        return request.page("not_found.html", 404, identity=identity)
    name, file = found
    logger.info("console file", audit={"who": actor.sub, "role": actor.role.value,
                                       "what": "case:file", "cases": [reference]})  # fmt: skip
    # Never rendered by the browser, whatever the sender called it: saved under a safe name.
    return web.download(file.content, name, "application/octet-stream")


def _act(
    reference: str, name: str, act: Callable[[Actor, dict[str, str]], ActionDone]
) -> Response[Any]:
    request, identity, actor = shell.signed_in(router.current_event)
    typed = request.form()
    if not CASE_REFERENCE.fullmatch(reference):
        return request.page("not_found.html", 404, identity=identity)
    try:
        done = act(actor, typed)
    except ActionRefusedError as refused:
        if refused.code.startswith("role:"):
            raise shell.Forbidden from None
        logger.info("console action refused", action=name, code=refused.code, case=reference)
        return _case_page(request, identity, actor, reference, status=400, failed=name,
                          refused=refused, typed=typed)  # fmt: skip
    logger.info("console action", action=name, event=done.event_id, case=reference,
                already=done.already)  # fmt: skip
    return web.redirect(f"/cases/{reference}?done={'already' if done.already else name}",
                        request.set)  # fmt: skip


@router.post("/cases/<reference>/correct")
def correct(reference: str) -> Response[Any]:
    return _act(reference, "correct", lambda actor, typed: shell.wiring().service.correct(
        actor, typed.get("token", ""), reference, typed.get("field", ""),
        typed.get("value", ""), typed.get("reason", "")))  # fmt: skip


@router.post("/cases/<reference>/review")
def review(reference: str) -> Response[Any]:
    return _act(reference, "review", lambda actor, typed: shell.wiring().service.review(
        actor, typed.get("token", ""), reference, typed))  # fmt: skip


@router.post("/cases/<reference>/close")
def close(reference: str) -> Response[Any]:
    return _act(reference, "close", lambda actor, typed: shell.wiring().service.close(
        actor, typed.get("token", ""), reference, typed.get("removal_reason", "").strip()))  # fmt: skip


@router.post("/cases/<reference>/withdraw")
def withdraw(reference: str) -> Response[Any]:
    return _act(reference, "withdraw", lambda actor, typed: shell.wiring().service.withdraw(
        actor, typed.get("token", ""), reference, typed))  # fmt: skip


@router.post("/cases/<reference>/subject-access")
def subject_access(reference: str) -> Response[Any]:
    request, identity, actor = shell.signed_in(router.current_event)
    request.form()
    if not CASE_REFERENCE.fullmatch(reference):
        return request.page("not_found.html", 404, identity=identity)
    try:
        archive = shell.wiring().service.export_subject_access(actor, reference)
    except ActionRefusedError as refused:
        if refused.code.startswith("role:"):
            raise shell.Forbidden from None
        return request.page("not_found.html", 404, identity=identity)
    logger.info("console export", audit={"who": actor.sub, "role": actor.role.value,
                                         "what": "case:subject-access", "cases": [reference]})  # fmt: skip
    return web.download(archive, f"{reference}-subject-access.zip", "application/zip")
