"""Critical: a withdrawal written by an outsider is taken when a panel member (any nhs.net
mailbox, by default) or a coordinator forwards the outsider's email to the inbox.

README: "Review outcome and withdrawal forms are never taken through a forward." Only a
forward by a `TrustedForwarders` address is recognised as one. A forward by anyone else is
read as that person's own email: the files of a message they attach (`message/rfc822`,
"forward as attachment") are walked into by `_attached_files`, and a typed form quoted in an
inline forward or a reply is read from the body (quote marks `>` are punctuation that
`label_key` drops). So an attacker who emails any NHS clinician "please pass this on to the
DSR" gets the child's case erased, on the clinician's DMARC pass, without the clinician ever
writing a withdrawal.

Fix: never take a review outcome or withdrawal form from inside an attached message, nor
from text under a forward marker or quoted with `>`; take them only from files attached at
the top level of the sender's own message and from the sender's own text above any forward
marker or quotation (and quarantine for the coordinators otherwise).
"""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from tests.hostile.builders import (
    ATTACKER,
    COORDINATOR,
    PDF,
    REFERRER,
    from_line,
    inline_forward_block,
    message,
    raw_email,
    ses_results,
    typed_withdrawal,
    withdrawal_form,
)
from tests.hostile.conftest import Seeded


def _outsiders_email(**kwargs: object) -> bytes:
    return raw_email(
        (f"From: A Parent <{ATTACKER}>",),
        auth=(ses_results("gmail.com"),),
        body=message(subject="DSR", **kwargs),  # type: ignore[arg-type]
    )


def _assert_not_erased(seeded: Seeded, raw: bytes) -> None:
    before = seeded.case()
    processed = seeded.desk.receive(raw)
    assert not processed.erases, f"erased on an outsider's form: {processed.outcome}"
    seeded.assert_untouched(before)


def test_a_withdrawal_inside_a_message_a_panel_member_forwards_is_never_taken(
    seeded: Seeded,
) -> None:
    outsider = _outsiders_email(
        body="Dear Dr Patel, please pass this on to the DSR team. Thank you.",
        attachments=[(withdrawal_form(), PDF)],
    )
    forward = message(subject="FW: DSR", body="Please see the attached email from a parent.")
    inner = message_from_bytes(outsider, policy=policy.default)
    assert isinstance(inner, EmailMessage)
    forward.add_attachment(inner)  # Outlook's "Forward as attachment"
    raw = raw_email((from_line(REFERRER, "Dr Sam Patel"),), body=forward)
    _assert_not_erased(seeded, raw)


def test_a_withdrawal_inside_a_message_the_coordinator_forwards_is_never_taken(
    seeded: Seeded,
) -> None:
    outsider = _outsiders_email(body="Forms attached.", attachments=[(withdrawal_form(), PDF)])
    forward = message(subject="FW: DSR", body="FYI")
    inner = message_from_bytes(outsider, policy=policy.default)
    assert isinstance(inner, EmailMessage)
    forward.add_attachment(inner)
    _assert_not_erased(seeded, raw_email((from_line(COORDINATOR),), body=forward))


def test_a_typed_withdrawal_in_an_outsiders_email_forwarded_inline_is_never_taken(
    seeded: Seeded,
) -> None:
    text = "Passing this on, thanks.\n" + inline_forward_block(
        ATTACKER, typed_withdrawal(), name="A Parent"
    )
    raw = raw_email((from_line(REFERRER, "Dr Sam Patel"),), body=message(body=text))
    _assert_not_erased(seeded, raw)


def test_a_typed_withdrawal_quoted_in_a_reply_is_never_taken(seeded: Seeded) -> None:
    quoted = "\n".join("> " + line for line in typed_withdrawal().splitlines())
    text = (
        "Noted - copying the DSR inbox in.\n\n"
        f"On Mon, 23 Nov 2026 at 09:12, A Parent <{ATTACKER}> wrote:\n" + quoted + "\n"
    )
    raw = raw_email((from_line(REFERRER, "Dr Sam Patel"),), body=message(body=text))
    _assert_not_erased(seeded, raw)
