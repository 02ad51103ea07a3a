"""Bounded work: inputs sized to make a careless reader quadratic, or make it decode or hold
far more than it needs. Each comes to an outcome within the bounds (`Desk.receive`: under
10 s and 300 MB of traced memory, measured in this process), whatever the machine's load."""

from __future__ import annotations

import base64
import io
import os
import zipfile
from functools import cache

import pytest

from shared.outcome import Outcome
from tests.hostile.builders import (
    ATTACKER,
    COORDINATOR,
    FORWARDER,
    PDF,
    REFERRER,
    from_line,
    inline_forward,
    inline_forward_block,
    message,
    pair_message,
    raw_email,
    ses_results,
    typed_consent,
    typed_referral,
)
from tests.hostile.desk import Desk

MB = 1024 * 1024
TYPED_PAIR = typed_referral() + "\n" + typed_consent()


def _attached(*files: tuple[bytes, str], sender: str = REFERRER, body: str = "Forms.") -> bytes:
    return raw_email((from_line(sender),), body=message(body=body, attachments=files))


def test_a_nine_megabyte_text_attachment(desk: Desk) -> None:
    """Under the 10 MB limit, so it is read: a form's labels, over and over."""
    line = "NHS No.: 943 476 5919\tDate of birth - 01/02/2011  Services involved:  CAMHS\n"
    text = (TYPED_PAIR + line * (9 * MB // len(line)))[: 9 * MB]
    processed = desk.receive(_attached((text.encode(), "text/plain")))
    assert processed.outcome in (Outcome.ACCEPTED, Outcome.REJECTED)


def test_a_three_megabyte_body_line_of_separators(desk: Desk) -> None:
    processed = desk.receive(_attached(body="x: " * (3 * MB // 3)))
    assert processed.outcome is Outcome.REJECTED
    assert processed.codes == {"NO_FORM_FOUND"}


@pytest.mark.parametrize(
    "line",
    [
        " " * (3 * MB),
        "\t" * (3 * MB),
        "[" * (3 * MB),
        "[ " * (3 * MB // 2),
        "- " * (3 * MB // 2),
        "NHS number" + " " * (3 * MB) + "x",
        "Form id: " + "DSR-" * (3 * MB // 4),
    ],
    ids=["spaces", "tabs", "brackets", "open tick boxes", "bullets", "label then spaces", "ids"],
)
def test_other_pathological_body_lines(desk: Desk, line: str) -> None:
    desk.receive(_attached(body="Referral form\n" + line + "\n" + TYPED_PAIR))


def test_three_hundred_thousand_short_lines(desk: Desk) -> None:
    desk.receive(_attached(body=TYPED_PAIR + "Name:\n" * 300_000))


@pytest.mark.parametrize("dots", [200_000, 450_000])
def test_a_from_address_of_a_few_hundred_thousand_dots(desk: Desk, dots: int) -> None:
    """450,000 dots: even the quarantine alert naming the sender must fit a 400 KB item."""
    raw = raw_email(
        ("From: a@" + "." * dots + "nhs.net",), auth=(ses_results(),), body=pair_message()
    )
    processed = desk.receive(raw)
    assert processed.outcome is Outcome.QUARANTINED


def test_a_from_address_of_many_mailboxes(desk: Desk) -> None:
    raw = raw_email(
        ("From: " + ", ".join(f"a{n}@nhs.net" for n in range(50_000)),), body=pair_message()
    )
    processed = desk.receive(raw)
    assert processed.outcome is Outcome.QUARANTINED


def test_a_display_name_of_200_kilobytes_in_an_inline_forward(desk: Desk) -> None:
    name = "Sam " * (200 * 1024 // 4)
    text = inline_forward_block("sam.patel@nhs.net", TYPED_PAIR, name=name)
    processed = desk.receive(inline_forward(text))
    assert "sam.patel@nhs.net" in processed.recipients or processed.outcome is Outcome.QUARANTINED


def test_a_forwarded_from_line_of_200_kilobytes_without_an_address(desk: Desk) -> None:
    """No `@` anywhere in it: a greedy address pattern would try every start and every end."""
    text = (
        "\n\n________________________________\nFrom: " + "a." * (100 * 1024) + "\n\n" + TYPED_PAIR
    )
    processed = desk.receive(inline_forward(text))
    assert processed.outcome is Outcome.QUARANTINED


def test_a_forward_with_a_hundred_thousand_markers(desk: Desk) -> None:
    marker = "-----Original Message-----\nFrom: Someone <someone@gmail.com>\n\n"
    text = inline_forward_block(REFERRER, marker * 100_000 + TYPED_PAIR)
    desk.receive(inline_forward(text))


@cache
def _forty_megabyte_email() -> bytes:
    """One attachment of 39 MB in base64 (29 MB decoded), over the 10 MB limit."""
    content = base64.encodebytes(os.urandom(29 * MB))
    head = message(body="A large scan attached.")
    head.make_mixed()
    raw = bytes(head)
    boundary = head.get_boundary()
    assert boundary is not None
    closing = f"--{boundary}--".encode()
    part = (
        f"--{boundary}\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
        'Content-Disposition: attachment; filename="scan.pdf"\n\n'
    ).encode()
    body = raw.replace(closing, part + content + b"\n" + closing)
    return raw_email((from_line(REFERRER),), body=body)


def test_a_forty_megabyte_email_is_refused_without_decoding_it(desk: Desk) -> None:
    raw = _forty_megabyte_email()
    assert len(raw) > 39 * MB
    processed = desk.receive(raw, seconds=20, megabytes=400)
    assert processed.outcome is Outcome.REJECTED
    assert processed.codes == {"ATTACHMENT_TOO_LARGE"}
    # Decoding the file alone would take 29 MB; parsing holds the email itself (40 MB) at
    # most a few times over.
    assert processed.measured.peak_mb < 400


def test_a_thousand_tiny_attachments(desk: Desk) -> None:
    files = [(b"%PDF-1.4\n%%EOF\n", PDF) for _ in range(1000)]
    processed = desk.receive(_attached(*files))
    assert processed.outcome is Outcome.REJECTED
    assert "ATTACHMENT_TOO_LARGE" in processed.codes


def test_a_hundred_thousand_headers(desk: Desk) -> None:
    headers = [f"X-Header-{n}: value {n}" for n in range(100_000)]
    processed = desk.receive(raw_email((from_line(REFERRER), *headers), body=pair_message()))
    assert processed.outcome in (Outcome.ACCEPTED, Outcome.QUARANTINED)


def test_a_thousand_authentication_results(desk: Desk) -> None:
    lower = ["Authentication-Results: x; dmarc=pass header.from=nhs.net"] * 1000
    raw = raw_email(
        (from_line(COORDINATOR),), auth=(ses_results(dmarc="fail"), *lower), body=pair_message()
    )
    processed = desk.receive(raw)
    assert processed.outcome is Outcome.QUARANTINED


def test_messages_nested_a_thousand_deep_by_the_trusted_mailbox(desk: Desk) -> None:
    inner = ("To: x@nhs.net\nSubject: s\nFrom: someone@gmail.com\n\n" + TYPED_PAIR).encode()
    for _ in range(1000):
        inner = (
            b"From: dsr.coordinator@nhs.net\nSubject: FW\nMIME-Version: 1.0\n"
            b"Content-Type: message/rfc822\n\n" + inner
        )
    raw = raw_email(
        (from_line(FORWARDER),),
        body=b"To: bromley.dsr@nhs.net\nSubject: FW\nMIME-Version: 1.0\n"
        b"Content-Type: message/rfc822\n\n" + inner,
    )
    processed = desk.receive(raw)
    assert processed.outcome is Outcome.QUARANTINED
    assert ATTACKER not in processed.recipients


def test_a_hundred_thousand_parts_in_one_multipart(desk: Desk) -> None:
    parts = "".join("--b\nContent-Type: text/plain\n\nx\n" for _ in range(100_000))
    body = (
        "To: bromley.dsr@nhs.net\nSubject: DSR\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n' + parts + "--b--\n"
    )
    processed = desk.receive(raw_email((from_line(REFERRER),), body=body.encode()))
    assert processed.outcome in (Outcome.REJECTED, Outcome.QUARANTINED)


# ----- compressed documents that inflate far beyond their size -----
def _zip_bomb(*, declared_honestly: bool) -> bytes:
    """A .docx whose word/document.xml inflates to 200 MB (of a few hundred KB zipped)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(b'<?xml version="1.0"?><w:document xmlns:w="x"><w:body>')
            chunk = b"<w:p>" + b" " * MB + b"</w:p>"
            for _ in range(200):
                member.write(chunk)
            member.write(b"</w:body></w:document>")
    raw = out.getvalue()
    if not declared_honestly:
        # The central directory and local header claim a tiny file; the data says otherwise.
        size = (200 * (MB + 11) + 79).to_bytes(8, "little")
        raw = raw.replace(size, (1000).to_bytes(8, "little"))
    return raw


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize("honest", [True, False], ids=["declared size", "lying size"])
def test_a_word_zip_bomb(desk: Desk, honest: bool) -> None:
    processed = desk.receive(_attached((_zip_bomb(declared_honestly=honest), DOCX)))
    assert processed.outcome is Outcome.REJECTED
    assert processed.codes <= {"FORM_UNREADABLE", "NO_FORM_FOUND"}


def _pdf_bomb(inflated_mb: int) -> bytes:
    """A one-page PDF, no form fields, whose content stream inflates to `inflated_mb` MB of
    text-showing operators: a "printed form" whose text layer is read."""
    import zlib

    line = b"BT /F1 9 Tf 72 700 Td (Name: x) Tj ET\n"
    stream = zlib.compress(line * (inflated_mb * MB // len(line)), 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def test_a_pdf_whose_text_layer_inflates_to_60_megabytes(desk: Desk) -> None:
    """Well under the 10 MB attachment limit when it arrives; pypdf itself would inflate up
    to 75 MB a stream. Reading its text layer must stay within the bounds."""
    bomb = _pdf_bomb(60)
    assert len(bomb) < MB
    processed = desk.receive(_attached((bomb, PDF)))
    assert processed.outcome is Outcome.REJECTED


def test_four_hundred_children_in_one_email(desk: Desk) -> None:
    """Typed forms for 400 children (half a megabyte of text): each child is decided and
    recorded on its own, so the work must still be bounded."""
    from infrastructure.samples import child, valid_nhs_number

    numbers: dict[str, None] = {}
    seed = 5000
    while len(numbers) < 400:
        numbers[valid_nhs_number(seed)] = None
        seed += 1
    texts = [
        typed_referral(**{**child(2), "child_nhs_number": number})
        + typed_consent(**{**child(2), "child_nhs_number": number})
        for number in numbers
    ]
    processed = desk.receive(_attached(body="\n".join(texts)))
    assert processed.outcome in (Outcome.ACCEPTED, Outcome.REJECTED)
