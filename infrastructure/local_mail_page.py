"""The mail serve sent, shown beside the console at /local/mail (serve only, never deployed).

Everything the system sends under `dsr-intake serve` lands in the local Maildir
(infrastructure.local_mailbox); these two pages show it in the browser for whoever has no
Maildir-reading mail client: the newest first, then one email's text. It is the coordinators'
mail - personal data at secure addresses - so only a signed-in coordinator sees it: the
console's own session cookie, asked of the embedded Cognito as the console asks it.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from shared.case import StaffRole
from shared.console.session import SECURITY_HEADERS, SESSION_COOKIE

if TYPE_CHECKING:
    from infrastructure.local_mailbox import LocalMailbox
    from infrastructure.local_stack import LocalStack

PREFIX = "/local/mail"
SHOWN = 200  # the newest, on the list


def mail_page(
    stack: LocalStack, mailbox: LocalMailbox, path: str, cookies: dict[str, str]
) -> tuple[int, dict[str, str], str]:
    """(status, headers, HTML) for a GET of `path` under PREFIX."""
    if not _is_coordinator(stack, cookies.get(SESSION_COOKIE, "")):
        return 303, {"Location": "/sign-in"}, ""
    key = path[len(PREFIX) :].strip("/")
    if not key:
        return 200, SECURITY_HEADERS, _list(mailbox)
    known = {delivered.key for delivered in mailbox.recent}
    if key not in known:
        return 404, SECURITY_HEADERS, _page("Not found", "<p>No such email here.</p>")
    return 200, SECURITY_HEADERS, _one(mailbox, key)


def _is_coordinator(stack: LocalStack, access_token: str) -> bool:
    if not access_token:
        return False
    cognito = stack.client("cognito-idp")
    try:
        username = cognito.get_user(AccessToken=access_token)["Username"]
        groups = cognito.admin_list_groups_for_user(
            UserPoolId=stack.resources["ConsoleUserPool"], Username=username
        )["Groups"]
    except Exception:  # expired, revoked, forged: not signed in
        return False
    return any(group["GroupName"] == StaffRole.COORDINATOR.value for group in groups)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} - DSR Intake (local)</title>"
        '<link rel="stylesheet" href="/assets/nhsuk-frontend-10.6.1.min.css"></head>'
        '<body><main class="nhsuk-main-wrapper"><div class="nhsuk-width-container">'
        f'<p><a href="/register">Back to the console</a></p><h1>{html.escape(title)}</h1>'
        f"{body}</div></main></body></html>"
    )


def _list(mailbox: LocalMailbox) -> str:
    newest = list(mailbox.recent)[::-1][:SHOWN]
    rows = "".join(
        '<tr class="nhsuk-table__row">'
        f'<td class="nhsuk-table__cell">{delivered.at:%d/%m/%Y %H:%M}</td>'
        f'<td class="nhsuk-table__cell">{html.escape(", ".join(delivered.to))}</td>'
        f'<td class="nhsuk-table__cell"><a href="{PREFIX}/{html.escape(delivered.key)}">'
        f"{html.escape(delivered.subject or '(no subject)')}</a></td></tr>"
        for delivered in newest
    )
    return _page(
        "Mail sent",
        f"<p>{mailbox.count} emails sent since serve started; the newest {len(newest)} here, "
        f"every one in the Maildir {html.escape(str(mailbox.folder))}.</p>"
        '<table class="nhsuk-table"><caption class="nhsuk-table__caption">Newest first'
        '</caption><thead class="nhsuk-table__head"><tr class="nhsuk-table__row">'
        '<th class="nhsuk-table__header" scope="col">Sent</th>'
        '<th class="nhsuk-table__header" scope="col">To</th>'
        '<th class="nhsuk-table__header" scope="col">Subject</th></tr></thead>'
        f'<tbody class="nhsuk-table__body">{rows}</tbody></table>',
    )


def _one(mailbox: LocalMailbox, key: str) -> str:
    message = mailbox.message(key)
    text = message.get_body(preferencelist=("plain",))
    files = [part.get_filename() or "(unnamed)" for part in message.iter_attachments()]
    headers = "".join(
        f'<div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">{name}</dt>'
        f'<dd class="nhsuk-summary-list__value">{html.escape(str(message[name] or ""))}</dd></div>'
        for name in ("From", "To", "Cc", "Date", "Subject")
        if message[name]
    )
    attached = (
        "<h2>Attachments</h2><ul>"
        + "".join(f"<li>{html.escape(name)}</li>" for name in files)
        + "</ul><p>Open them from the Maildir.</p>"
        if files
        else ""
    )
    body = html.escape(text.get_content() if text is not None else "(no text part)")
    return _page(
        str(message["Subject"] or "(no subject)"),
        f'<dl class="nhsuk-summary-list">{headers}</dl><pre>{body}</pre>{attached}',
    )


def cookies_of(headers: Any) -> dict[str, str]:
    """The request's cookies, by name."""
    pairs = [pair.strip() for pair in str(headers.get("Cookie", "")).split(";") if "=" in pair]
    return dict(pair.split("=", 1) for pair in pairs)
