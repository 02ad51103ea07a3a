"""The DSR forms an email holds: its attachments read by what they are, else the forms
typed into its body; grouped by child. Pure: what they mean for the register is decided in
`shared.intake`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shared.forms.documents import read_attachment
from shared.forms.fields import FormKind, FormUnreadableError, RawForm
from shared.forms.reader import clean_answer
from shared.forms.text_form import read_text_forms
from shared.identifiers import normalise_nhs_number
from shared.mail import InboundMail
from shared.outcome import Reason, ReasonCode
from shared.settings import Settings


@dataclass
class FoundForms:
    referrals: list[RawForm] = field(default_factory=list)
    consents: list[RawForm] = field(default_factory=list)
    case_forms: list[RawForm] = field(default_factory=list)  # review outcome and withdrawal
    reasons: list[Reason] = field(default_factory=list)
    # Files that may be forms but could not be read, by position: coordinators get a copy.
    unreadable: dict[int, Reason] = field(default_factory=dict)
    # Review outcome or withdrawal forms inside a forwarded message or quoted text: someone
    # else's words, never acted on.
    passed_on_case_forms: int = 0


def _file(found: FoundForms, form: RawForm) -> None:
    if form.kind is FormKind.REFERRAL:
        found.referrals.append(form)
    elif form.kind is FormKind.CONSENT:
        found.consents.append(form)
    else:
        found.case_forms.append(form)


_DAMAGED = "is a damaged file that cannot be opened"
_CASE_FORMS = (FormKind.REVIEW, FormKind.WITHDRAWAL)


def _read_body(mail: InboundMail, found: FoundForms, held: set[FormKind]) -> None:
    """Forms typed into the email. A review outcome or withdrawal form counts only in what
    the sender wrote themselves, above any forward or reply and outside `>` quotes."""
    try:
        body_forms = read_text_forms(mail.body_text, "the email body")
        case_forms = [form for form in body_forms if form.kind in _CASE_FORMS]
        own_forms = (
            [
                form
                for form in read_text_forms(mail.own_text, "the email body")
                if form.kind in _CASE_FORMS
            ]
            if case_forms
            else []
        )
    except Exception:  # a text the reader could not cope with: no form found in it
        return
    found.passed_on_case_forms += len(case_forms) - len(own_forms)
    for form in [*(f for f in body_forms if f.kind not in _CASE_FORMS), *own_forms]:
        if form.kind not in held:
            _file(found, form)


def _all(found: FoundForms) -> list[RawForm]:
    return [*found.referrals, *found.consents, *found.case_forms]


# Each child's forms are decided, recorded and answered on their own: one email opens at
# most this many cases.
MAX_CHILDREN_PER_EMAIL = 10


def find_forms(mail: InboundMail, settings: Settings) -> FoundForms:
    """The DSR forms among the attachments, or the reasons there are none to read."""
    found = FoundForms()
    files = max(mail.file_count, len(mail.attachments))
    if files > settings.max_attachments:
        found.reasons.append(
            Reason(
                code=ReasonCode.ATTACHMENT_TOO_LARGE,
                message=f"The email has {files} attachments; at most "
                f"{settings.max_attachments} are accepted. Please send the referral and consent forms only.",
            )
        )
        return found
    for attachment in mail.attachments:
        if attachment.full_size > settings.max_attachment_bytes:
            found.reasons.append(
                Reason(
                    code=ReasonCode.ATTACHMENT_TOO_LARGE,
                    message=f"{attachment.source.capitalize()} is larger than the "
                    f"{settings.max_attachment_bytes // (1024 * 1024)} MB limit. Please send the "
                    "completed form itself (a fillable PDF or Word form), which is far smaller.",
                )
            )
            continue
        try:
            forms = read_attachment(attachment)
        except Exception as error:  # whatever a reading library raises: this file only
            what = str(error) if isinstance(error, FormUnreadableError) else _DAMAGED
            found.unreadable[attachment.position] = Reason(
                code=ReasonCode.FORM_UNREADABLE,
                # What happened, not what to do: the same words reach a sender told to
                # correct their forms and the coordinators who will enter the file by hand.
                message=f"{attachment.source.capitalize()} {what}, so it cannot be read "
                "automatically. Only a completed fillable PDF form or the Word form itself "
                "can be (not a scan, a photo or a protected copy).",
            )
            continue
        for form in forms:
            if form.kind in _CASE_FORMS and attachment.inside_message:
                found.passed_on_case_forms += 1
            else:
                _file(found, form)
    if found.reasons:
        return found
    # A form typed into the email itself is read beside the attached ones (a typed referral
    # with an attached consent), never in place of a kind of form they already hold.
    _read_body(mail, found, held={form.kind for form in _all(found)})
    if not _all(found):
        if found.unreadable:
            found.reasons.extend(found.unreadable.values())
        else:
            found.reasons.append(
                Reason(
                    code=ReasonCode.NO_FORM_FOUND,
                    message="No DSR form was found in the email. Please attach the completed DSR "
                    "referral form (DSR-REFERRAL-1) and consent form (DSR-CONSENT-1) as fillable "
                    "PDFs; coordinators send the review outcome (DSR-REVIEW-1) or withdrawal "
                    "(DSR-WITHDRAWAL-1) form.",
                )
            )
    if found.case_forms and (found.referrals or found.consents or len(found.case_forms) > 1):
        found.reasons.append(
            Reason(
                code=ReasonCode.FIELD_INVALID,
                message="A review outcome or withdrawal form must come in an email of its own, one "
                "case per email. Please send each form separately.",
            )
        )
    return found


def _child_key(form: RawForm) -> str:
    """Who a form is about: the NHS number's digits, else the name and date of birth."""
    # Cleaned as the checks clean it: an invisible mark in one copy is still the same child.
    digits = normalise_nhs_number(clean_answer(form.fields.get("child_nhs_number", "")))
    if digits:
        return digits
    # The names joined without spaces or hyphens, so a full name under one label (another
    # area's `Name:`) groups with the same name split in two.
    names = "".join(
        clean_answer(form.fields.get(name, ""))
        for name in ("child_given_name", "child_family_name")
    ) or clean_answer(form.fields.get("child_full_name", ""))
    born = " ".join(clean_answer(form.fields.get("child_date_of_birth", "")).split())
    return "|".join((re.sub(r"[\s\-]", "", names).casefold(), born))


def by_child(found: FoundForms) -> list[FoundForms]:
    """The referral and consent forms grouped by child, in the order they came. One referral
    with one consent stay together whatever they say (a mismatch is then reported)."""
    if len(found.referrals) <= 1 and len(found.consents) <= 1:
        return [found]
    groups: dict[str, FoundForms] = {}
    for form in [*found.referrals, *found.consents]:
        _file(groups.setdefault(_child_key(form), FoundForms()), form)
    return list(groups.values())


def sources(found: FoundForms) -> str:
    return " and ".join(dict.fromkeys(form.source for form in [*found.referrals, *found.consents]))
