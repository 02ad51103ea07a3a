"""Every failure is an outcome: broken MIME, unknown encodings, digits that only look like
digits, absurd dates and sizes. `process()` never raises; what it stores is valid UTF-8 and
fits a DynamoDB item (the fake register refuses anything else, as DynamoDB would)."""

from __future__ import annotations

import pytest

from infrastructure.samples import child, consent_pdf, referral_pdf, uk, years_ago
from shared.outcome import Outcome
from tests.hostile.builders import (
    ATTACKER,
    COORDINATOR,
    IDENTITY,
    PDF,
    REFERRER,
    from_line,
    message,
    pair_message,
    raw_email,
    review_form,
    typed_consent,
    typed_referral,
    typed_withdrawal,
)
from tests.hostile.conftest import Seeded
from tests.hostile.desk import Desk

SCHOOL = "senco@school.sch.uk"  # a sender outside the secure domains: answers carry no details
TYPED_PAIR = typed_referral() + "\n" + typed_consent()


def single_part(content_headers: str, payload: bytes, *, sender: str = REFERRER) -> bytes:
    """A one-part email whose content headers and payload are exactly as given."""
    head = (
        f"To: bromley.dsr@nhs.net\nSubject: DSR referral\nMessage-ID: <single@nhs.net>\n"
        f"MIME-Version: 1.0\n{content_headers}\n\n"
    )
    return raw_email((from_line(sender),), body=head.encode() + payload)


def multipart(parts: list[tuple[str, bytes]], *, sender: str = REFERRER) -> bytes:
    """A multipart/mixed email of parts given as (content headers, payload), verbatim."""
    boundary = "hostile-boundary-1"
    body = (
        "To: bromley.dsr@nhs.net\nSubject: DSR referral\nMessage-ID: <multi@nhs.net>\n"
        f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{boundary}"\n\n'
    ).encode()
    for headers, payload in parts:
        body += f"--{boundary}\n{headers}\n\n".encode() + payload + b"\n"
    body += f"--{boundary}--\n".encode()
    return raw_email((from_line(sender),), body=body)


# ----- MIME and encodings -----
def test_an_unknown_charset_on_the_body_is_an_outcome(desk: Desk) -> None:
    desk.receive(
        single_part('Content-Type: text/plain; charset="x-unknown-999"', TYPED_PAIR.encode())
    )


def test_an_unknown_charset_on_a_text_attachment_is_an_outcome(desk: Desk) -> None:
    desk.receive(
        multipart(
            [
                ("Content-Type: text/plain; charset=utf-8", b"Forms attached."),
                (
                    'Content-Type: text/plain; charset="x-unknown-999"\n'
                    'Content-Disposition: attachment; filename="forms.txt"',
                    TYPED_PAIR.encode(),
                ),
            ]
        )
    )


@pytest.mark.parametrize(
    "content_headers",
    [
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: x-unknown",
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64",
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable",
        'Content-Type: text/plain; charset="utf-8"; charset="utf-16"',
        "Content-Type: text/plain; charset=utf-32",
        "Content-Type: ;;;===",
        "Content-Type: text/plain; charset*=utf-8''%FF%FE",
    ],
)
def test_a_body_in_an_unexpected_encoding_is_an_outcome(desk: Desk, content_headers: str) -> None:
    desk.receive(single_part(content_headers, TYPED_PAIR.encode() + b"\n=ZZ=\n!!!"))


@pytest.mark.parametrize(
    ("content_headers", "payload"),
    [
        ("Content-Type: application/pdf\nContent-Transfer-Encoding: base64",
         b"%%% this is not base64 at all ===\n\x00\xff\xfe" * 50),
        ("Content-Type: application/pdf\nContent-Transfer-Encoding: base64", b"JVBERi0xLjcK" + b"=" * 5000),
        ("Content-Type: application/pdf\nContent-Transfer-Encoding: x-unknown", b"%PDF-1.7\n%%EOF"),
        ("Content-Type: application/pdf\nContent-Transfer-Encoding: quoted-printable", b"=ZZ=\n" * 100),
        ("Content-Type: application/pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40),
        ("Content-Type: message/rfc822", b"this is not a message\n\n\x00"),
        ("Content-Type: multipart/mixed", b"no boundary parameter at all"),
    ],
)  # fmt: skip
def test_a_broken_attachment_is_an_outcome(
    desk: Desk, content_headers: str, payload: bytes
) -> None:
    processed = desk.receive(
        multipart(
            [
                ("Content-Type: text/plain; charset=utf-8", b"Forms attached."),
                (content_headers + '\nContent-Disposition: attachment; filename="f.pdf"', payload),
            ]
        )
    )
    assert processed.outcome in (Outcome.REJECTED, Outcome.QUARANTINED)


def test_a_utf7_body_with_lone_surrogates_is_stored_as_valid_utf8(desk: Desk) -> None:
    """`+2D3YPQ-` decodes to two lone surrogates: never stored or sent as they are."""
    text = (
        typed_referral(child_given_name="+2D3YPQ-")
        + "\n"
        + typed_consent(child_given_name="+2D3YPQ-")
    )
    processed = desk.receive(
        single_part('Content-Type: text/plain; charset="utf-7"', text.encode())
    )
    desk.register.stored_text().encode("utf-8")  # strict: raises on a lone surrogate
    for email in processed.emails:
        (email.subject + email.body).encode("utf-8")


def test_null_bytes_in_headers_and_body_are_an_outcome(desk: Desk) -> None:
    raw = raw_email(
        (f"From: Sam\x00 Patel <{REFERRER}>", "X-Null: a\x00b"),
        body=message(
            subject="DSR\x00referral", body="Hello\x00\n" + TYPED_PAIR.replace("\n", "\x00\n", 3)
        ),
    )
    desk.receive(raw)


@pytest.mark.parametrize("message_id", ["<>", "", " ", "<<>>", "<@>", "\x00", "<a@b> <c@d>"])
def test_an_odd_message_id_is_an_outcome(desk: Desk, message_id: str) -> None:
    processed = desk.receive(
        raw_email((from_line(REFERRER),), body=pair_message(message_id=message_id))
    )
    assert processed.outcome is Outcome.ACCEPTED, processed.submission.reasons


ONE_MB = 1024 * 1024


@pytest.mark.parametrize(
    "header",
    [
        "Subject: " + "DSR referral " * (ONE_MB // 13),
        "Subject: " + "=?utf-8?q?DSR=C3=A9?= " * (ONE_MB // 22),
        "X-Junk: " + "x" * ONE_MB,
        "References: " + "<a@b> " * (ONE_MB // 6),
        "Received: from x " + "(" * 100_000 + ")" * 100_000,
        "Message-ID: <" + "m" * ONE_MB + "@nhs.net>",
        "Content-Type: text/plain; " + "p=v; " * (ONE_MB // 5),
    ],
    ids=["subject", "subject of encoded words", "x-junk", "references", "nested comments",
         "message-id", "content-type parameters"],
)  # fmt: skip
def test_a_header_line_of_a_megabyte_is_an_outcome(desk: Desk, header: str) -> None:
    desk.receive(raw_email((from_line(REFERRER), header), body=pair_message()))


def test_cr_lf_in_an_encoded_subject_reaches_no_header_of_ours(desk: Desk) -> None:
    subject = "=?utf-8?q?DSR_referral=0D=0ABcc:_someone=40gmail.com=0D=0A=0D=0Ahello?="
    raw = raw_email((from_line(REFERRER), f"Subject: {subject}"), body=pair_message())
    processed = desk.receive(raw)
    assert processed.outcome is Outcome.ACCEPTED, processed.submission.reasons
    assert ATTACKER not in processed.recipients


def test_cr_lf_in_encoded_words_anywhere_is_an_outcome(desk: Desk) -> None:
    raw = raw_email(
        (
            f"From: =?utf-8?q?Sam=0D=0A=0D=0Ahello?= <{REFERRER}>",
            "To: =?utf-8?q?a=0D=0AFrom:_x=40y.z?= <bromley.dsr@nhs.net>",
            "Subject: =?utf-8?b?DQpGcm9tOiBzb21lb25lQGdtYWlsLmNvbQ0K?=",
            "Content-Disposition: =?utf-8?q?attachment=0D=0A?=",
        ),
        body=pair_message(),
    )
    desk.receive(raw)


def test_mime_nested_five_thousand_deep_is_an_outcome(desk: Desk) -> None:
    depth = 5000
    head = "".join(
        f'Content-Type: multipart/mixed; boundary="b{n}"\n\n--b{n}\n' for n in range(depth)
    )
    tail = "".join(f"\n--b{n}--\n" for n in reversed(range(depth)))
    body = (
        "To: bromley.dsr@nhs.net\nSubject: DSR\nMessage-ID: <deep@nhs.net>\nMIME-Version: 1.0\n"
        + head
        + "Content-Type: text/plain\n\n"
        + TYPED_PAIR
        + tail
    )
    processed = desk.receive(raw_email((from_line(REFERRER),), body=body.encode()))
    assert processed.outcome in (Outcome.QUARANTINED, Outcome.REJECTED)


# ----- digits that are not ASCII digits -----
ASCII = "0123456789"
LOOKALIKE_DIGITS = {
    "superscript": "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079",
    "circled": "\u24ea\u2460\u2461\u2462\u2463\u2464\u2465\u2466\u2467\u2468",
    "arabic-indic": "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",
    "full-width": "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19",
    "mathematical bold": "\U0001d7ce\U0001d7cf\U0001d7d0\U0001d7d1\U0001d7d2\U0001d7d3\U0001d7d4\U0001d7d5\U0001d7d6\U0001d7d7",
    "devanagari": "\u0966\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e\u096f",
}


def _written_with(digits: str, text: str) -> str:
    return text.translate(str.maketrans(ASCII, digits))


@pytest.mark.parametrize("digits", LOOKALIKE_DIGITS.values(), ids=LOOKALIKE_DIGITS.keys())
def test_an_nhs_number_in_lookalike_digits_is_invalid(desk: Desk, digits: str) -> None:
    number = _written_with(digits, "9434765919")
    text = typed_referral(child_nhs_number=number) + typed_consent(child_nhs_number=number)
    processed = desk.receive(
        raw_email((from_line(SCHOOL),), auth=(_auth(SCHOOL),), body=message(body=text))
    )
    assert processed.outcome is Outcome.REJECTED, processed.submission.reasons
    assert "NHS_NUMBER_INVALID" in processed.codes


@pytest.mark.parametrize("digits", LOOKALIKE_DIGITS.values(), ids=LOOKALIKE_DIGITS.keys())
def test_a_date_in_lookalike_digits_is_invalid(desk: Desk, digits: str) -> None:
    born = _written_with(digits, uk(years_ago(14)))
    text = typed_referral(child_date_of_birth=born) + typed_consent(child_date_of_birth=born)
    processed = desk.receive(
        raw_email((from_line(SCHOOL),), auth=(_auth(SCHOOL),), body=message(body=text))
    )
    assert processed.outcome is Outcome.REJECTED, processed.submission.reasons
    assert "DATE_INVALID" in processed.codes


def test_an_nhs_number_in_lookalike_digits_in_a_pdf_is_invalid(desk: Desk) -> None:
    number = _written_with(LOOKALIKE_DIGITS["full-width"], "943 476 5919")
    raw = raw_email(
        (from_line(SCHOOL),),
        auth=(_auth(SCHOOL),),
        body=message(
            attachments=[
                (referral_pdf(child_nhs_number=number), PDF),
                (consent_pdf(child_nhs_number=number), PDF),
            ]
        ),
    )
    processed = desk.receive(raw)
    assert processed.outcome is Outcome.REJECTED
    assert "NHS_NUMBER_INVALID" in processed.codes


def _auth(sender: str) -> str:
    from tests.hostile.builders import ses_results

    return ses_results(sender.rsplit("@", 1)[1])


# ----- sizes and dates no form has -----
def test_a_five_megabyte_answer_is_invalid(desk: Desk) -> None:
    concern = "Escalating distress " * (5 * ONE_MB // 20)
    text = typed_referral(mental_health_concern=concern) + typed_consent()
    processed = desk.receive(
        raw_email((from_line(SCHOOL),), auth=(_auth(SCHOOL),), body=message(body=text))
    )
    assert processed.outcome is Outcome.REJECTED, processed.submission.reasons
    assert "FIELD_INVALID" in processed.codes


@pytest.mark.parametrize("field", ["child_given_name", "child_family_name"])
def test_a_name_of_a_hundred_kilobytes_is_invalid(desk: Desk, field: str) -> None:
    name = "Amira" * (100 * 1024 // 5)
    raw = raw_email(
        (from_line(SCHOOL),),
        auth=(_auth(SCHOOL),),
        body=message(
            attachments=[(referral_pdf(**{field: name}), PDF), (consent_pdf(**{field: name}), PDF)]
        ),
    )
    processed = desk.receive(raw)
    assert processed.outcome is Outcome.REJECTED, processed.submission.reasons
    assert "FIELD_INVALID" in processed.codes


def test_every_long_answer_at_once_still_fits_one_item(desk: Desk) -> None:
    """Each free-text answer just long enough to be read: the case must still fit 400 KB
    (or be rejected), never fail to be stored."""
    long = "x" * 3999
    fields = {
        name: long
        for name in (
            "mental_health_concern", "reason_for_referral", "diagnosis_details", "needs_health",
            "needs_education", "needs_social_care", "care_plans", "services_involved",
        )
    }  # fmt: skip
    text = typed_referral(**fields) + typed_consent()
    desk.receive(raw_email((from_line(REFERRER),), body=message(body=text)))


@pytest.mark.parametrize("born", ["01/01/0001", "31/12/9999", "0001-01-01", "29/02/1900"])
def test_an_absurd_date_of_birth_is_a_date_problem(desk: Desk, born: str) -> None:
    text = typed_referral(child_date_of_birth=born) + typed_consent(child_date_of_birth=born)
    processed = desk.receive(
        raw_email((from_line(SCHOOL),), auth=(_auth(SCHOOL),), body=message(body=text))
    )
    assert processed.outcome is Outcome.REJECTED, processed.submission.reasons
    assert "DATE_INVALID" in processed.codes


@pytest.mark.parametrize(
    "overrides",
    [
        {"next_review_date": "31/12/9999"},
        {"review_date": "01/01/0001"},
        {"discharge_date": "01/01/0001", "rag_rating": ""},
    ],
    ids=["next review 9999", "review 0001", "discharge 0001"],
)
def test_an_absurd_review_date_is_a_date_problem(seeded: Seeded, overrides: dict[str, str]) -> None:
    before = seeded.case()
    raw = raw_email(
        (from_line(COORDINATOR),),
        body=message(subject="DSR review outcome", attachments=[(review_form(**overrides), PDF)]),
    )
    processed = seeded.desk.receive(raw)
    assert processed.outcome is Outcome.REJECTED, processed.submission.reasons
    assert "DATE_INVALID" in processed.codes
    seeded.assert_untouched(before)


@pytest.mark.parametrize(
    "withdrawn_on",
    ["01/01/0001", "31/12/9999", "\u0660\u0661/\u0660\u0661/\u0662\u0660\u0662\u0660"],
)
def test_an_absurd_withdrawal_date_erases_nothing(seeded: Seeded, withdrawn_on: str) -> None:
    before = seeded.case()
    raw = raw_email(
        (from_line(COORDINATOR),), body=message(body=typed_withdrawal(withdrawal_date=withdrawn_on))
    )
    processed = seeded.desk.receive(raw)
    assert processed.outcome is Outcome.REJECTED, processed.submission.reasons
    assert "DATE_INVALID" in processed.codes
    assert not processed.erases
    seeded.assert_untouched(before)


def test_a_withdrawal_naming_the_child_in_lookalike_digits_erases_nothing(seeded: Seeded) -> None:
    before = seeded.case()
    number = _written_with(LOOKALIKE_DIGITS["arabic-indic"], IDENTITY["child_nhs_number"])
    raw = raw_email(
        (from_line(COORDINATOR),), body=message(body=typed_withdrawal(child_nhs_number=number))
    )
    processed = seeded.desk.receive(raw)
    assert processed.outcome is Outcome.REJECTED
    assert not processed.erases
    seeded.assert_untouched(before)


# ----- two children, one crafted to break something: the other is still decided -----
GOOD = child(3)  # Maya Shah
CRAFTED: dict[str, tuple[dict[str, str], str | None]] = {  # the forms, the crafted one's outcome
    "a name of 100 KB": ({"child_given_name": "Leo" * 34_000}, "rejected"),
    "born in 9999": ({"child_date_of_birth": "31/12/9999"}, "rejected"),
    "born in 0001": ({"child_date_of_birth": "01/01/0001"}, "rejected"),
    "an Arabic-Indic NHS number": ({"child_nhs_number": "\u0669\u0664\u0663\u0664\u0667\u0666\u0665\u0669\u0661\u0669"}, "rejected"),
    # A name that is only lone surrogates: rejected, or read as U+FFFD and accepted.
    "a name of lone surrogates": ({"child_given_name": "\ud83d\ud83d"}, None),
    "a referrer email of line breaks": ({"referrer_email": "a@b.c\nBcc: someone@gmail.com"},
                                        "rejected"),
}  # fmt: skip


@pytest.mark.parametrize(("crafted", "expected"), CRAFTED.values(), ids=CRAFTED.keys())
def test_one_childs_crafted_forms_never_stop_the_others(
    desk: Desk, crafted: dict[str, str], expected: str | None
) -> None:
    other = {**child(2), **crafted}
    consent_other = {**child(2), **{k: v for k, v in crafted.items() if k != "referrer_email"}}
    try:
        other_forms = [(referral_pdf(**other), PDF), (consent_pdf(**consent_other), PDF)]
    except UnicodeEncodeError:  # a PDF cannot even hold lone surrogates: a typed text file
        typed = typed_referral(**other) + typed_consent(**consent_other)
        other_forms = [(typed.encode("utf-8", "surrogatepass"), "text/plain")]
    raw = raw_email(
        (from_line(REFERRER),),
        body=message(
            subject="DSR referrals",
            attachments=[(referral_pdf(**GOOD), PDF), (consent_pdf(**GOOD), PDF), *other_forms],
        ),
    )
    processed = desk.receive(raw)
    parts = [desk.register.submission(part) for part in processed.submission.parts]
    assert len(parts) == 2, processed.submission
    good = [p for p in parts if p and p.case_id and _nhs_number_of(desk, p.case_id) == GOOD_NHS]
    assert [p.outcome for p in good] == [Outcome.ACCEPTED], parts
    if expected is not None:
        assert sorted(p.outcome.value for p in parts if p) == sorted(["accepted", expected])
        assert processed.outcome.value == expected


GOOD_NHS = GOOD["child_nhs_number"]


def _nhs_number_of(desk: Desk, case_id: str) -> str | None:
    case = desk.register.case(case_id)
    return case.child.nhs_number if case and case.child else None


@pytest.mark.parametrize(
    "others",
    [
        [(b"referral", "referral")],
        [(b"withdrawal", "withdrawal")],
        [(b"review", "review")],
    ],
    ids=["with a referral", "two withdrawals", "with a review"],
)
def test_a_withdrawal_smuggled_beside_other_forms_erases_nothing(
    seeded: Seeded, others: list[tuple[bytes, str]]
) -> None:
    """Review and withdrawal forms come one to an email, alone."""
    from tests.hostile.builders import referral_form, withdrawal_form

    files = {
        "referral": referral_form(**child(2)),
        "withdrawal": withdrawal_form(),
        "review": review_form(),
    }
    before = seeded.case()
    attachments = [(withdrawal_form(), PDF), *((files[kind], PDF) for _, kind in others)]
    raw = raw_email((from_line(COORDINATOR),), body=message(attachments=attachments))
    processed = seeded.desk.receive(raw)
    assert processed.outcome is Outcome.REJECTED, processed.submission.reasons
    assert not processed.erases
    seeded.assert_untouched(before)
