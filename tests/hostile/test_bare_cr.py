"""High: lines ended by a bare CR slip past every pre-parse limit, so an email can make
the intake quadratic (a hang) or hold hundreds of MB.

The standard library's parser ends a line at CR, LF or CRLF, but the limits counted in the
raw bytes before parsing look for LF only: `_has_long_mime_header` finds a Content-Type or
Content-Disposition with `^` (after an LF), `MAX_MIME_PARTS` counts `b"\\n--"`, and
`_CONTAINER` is similar. So:

- a Content-Type that starts after a bare CR is never measured, and the standard library's
  `_parseparam` (run by `get_content_charset`, `get_filename`, `get_boundary`) is quadratic
  in it: 80,000 quoted semicolons take 11 s on this machine, a 40 MB email hours;
- 400,000 parts separated by bare CRs (10 MB) are parsed: 7 s and 300 MB resident; the
  largest email SES takes holds four times as many.

Fix: before the pre-parse counts, treat a bare CR as a line end the way the parser does
(e.g. scan with `(?:\\r\\n|\\r|\\n)` boundaries: `rb"(?:^|[\\r\\n])content-(?:type|disposition)"`,
count `rb"[\\r\\n]--"`), or simply refuse (quarantine as EMAIL_UNREADABLE) any email with a
bare CR outside a base64 body; and cap the length of every header line, not only the two.
"""

from __future__ import annotations

import time

from shared.mail.message import parse_mail
from shared.outcome import Outcome
from tests.hostile.builders import REFERRER, from_line, raw_email
from tests.hostile.desk import Desk


def _long_content_type(semicolons: int, *, end: bytes = b"\r") -> bytes:
    content_type = b'Content-Type: text/plain; charset=utf-8; x="' + b";" * semicolons + b'"'
    body = b"Subject: DSR\nMIME-Version: 1.0\nX-Note: a" + end + content_type + b"\n\nhello\n"
    return raw_email((from_line(REFERRER),), body=body)


def test_control_a_long_content_type_on_its_own_line_is_refused_before_parsing() -> None:
    mail = parse_mail(_long_content_type(20_000, end=b"\n"))
    assert [p.code.value for p in mail.problems] == ["EMAIL_UNREADABLE"]


def test_a_long_content_type_after_a_bare_cr_is_refused_before_parsing() -> None:
    mail = parse_mail(_long_content_type(20_000))
    assert [p.code.value for p in mail.problems] == ["EMAIL_UNREADABLE"], (
        "a 20,000-character Content-Type after a bare CR was parsed"
    )


def test_reading_a_content_type_after_a_bare_cr_is_not_quadratic() -> None:
    def seconds(semicolons: int) -> float:
        start = time.perf_counter()
        parse_mail(_long_content_type(semicolons))
        return time.perf_counter() - start

    small, large = seconds(10_000), seconds(40_000)  # four times the input
    assert large < 8 * small + 0.1, f"4x the input took {large / small:.0f}x the time ({large:.1f} s)"


def test_more_than_max_mime_parts_separated_by_bare_crs_are_refused(desk: Desk) -> None:
    parts = "".join("--b\rContent-Type: text/plain\r\rx\r" for _ in range(5_000))
    body = (
        "To: bromley.dsr@nhs.net\rSubject: DSR\rMIME-Version: 1.0\r"
        'Content-Type: multipart/mixed; boundary="b"\r\r' + parts + "--b--\r"
    )
    processed = desk.receive(raw_email((from_line(REFERRER),), body=body.encode()))
    assert processed.outcome is Outcome.QUARANTINED, processed.codes
    assert processed.codes == {"EMAIL_UNREADABLE"}
