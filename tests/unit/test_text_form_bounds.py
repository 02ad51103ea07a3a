"""The text-form reader does bounded work whatever the sender typed (#9): huge lines, huge
texts, millions of lines, long runs of spaces, deep quoting; and what it reads is valid
Unicode. Each test measures its own run: the time and the peak memory (tracemalloc, which
slows the run about threefold: the time bound allows for it). The bounds are generous, so a
loaded machine does not fail them; a reader that is quadratic somewhere takes minutes on
these inputs, not seconds."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.forms.fields import FormKind, RawForm
from shared.forms.text_form import (
    MAX_LABEL_CHARS,
    MAX_LINE_CHARS,
    MAX_TEXT_CHARS,
    read_text_forms,
)

SECONDS = 15.0  # a hang guard, generous for a loaded machine (tracemalloc slows reading 5x); speed is benched
MEGABYTES = 200

CONSENT = (
    "Consent form\n"
    "Basis of consent: parental_responsibility\n"
    "Name of the person consenting: Pat Lee\n"
    "Date of consent: 01/02/2026\n"
    "DSR fact sheet given: Yes\n"
)
REFERRAL = "Referral form\nNHS number: 943 476 5919\nReason for referral: placement at risk\n"


def bounded(text: str) -> list[RawForm]:
    """read_text_forms(text), asserting it took under SECONDS and MEGABYTES."""

    def read() -> list[RawForm]:
        return read_text_forms(text, "the email body")

    return _bounded(read)


def _bounded(read: Callable[[], list[RawForm]]) -> list[RawForm]:
    tracemalloc.start()
    try:
        started = time.perf_counter()
        forms = read()
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < SECONDS, f"took {elapsed:.1f} s"
    assert peak < MEGABYTES * 2**20, f"peak {peak / 2**20:.0f} MB"
    _assert_storable(forms)
    return forms


def _assert_storable(forms: list[RawForm]) -> None:
    for form in forms:
        assert isinstance(form, RawForm)
        for name, value in form.fields.items():
            name.encode("utf-8")
            value.encode("utf-8")  # no lone surrogate: DynamoDB and SES need valid UTF-8
            assert len(value) <= MAX_TEXT_CHARS


def only(forms: list[RawForm], kind: FormKind) -> dict[str, str]:
    [form] = [form for form in forms if form.kind is kind]
    return form.fields


# --- one huge line ---------------------------------------------------------------------


def test_a_3_mb_line_of_separators_is_no_form() -> None:
    assert bounded("x: " * 1_000_000) == []


def test_a_3_mb_line_after_a_label_is_read_up_to_the_line_limit() -> None:
    forms = bounded("Consent form\nBasis of consent: " + "x: " * 1_000_000 + "\n")
    value = only(forms, FormKind.CONSENT)["consent_basis"]
    assert value.startswith("x: x: x")
    assert len(value) <= MAX_LINE_CHARS


def test_a_long_answer_on_one_line_is_cut_at_the_line_limit() -> None:
    forms = bounded(REFERRAL + "Mental health concern: " + "a" * 50_000 + "\n")
    value = only(forms, FormKind.REFERRAL)["mental_health_concern"]
    assert value == "a" * (MAX_LINE_CHARS - len("Mental health concern: "))


def test_a_3_mb_line_of_the_same_label_is_read_once() -> None:
    # Every prefix "Basis of consent: Basis of consent: ..." is a candidate label.
    forms = bounded("Consent form\n" + "Basis of consent: " * 170_000)
    assert only(forms, FormKind.CONSENT)["consent_basis"].startswith("Basis of consent: ")


# --- huge texts, many lines ------------------------------------------------------------


def test_a_9_mb_text_is_read_up_to_the_text_limit() -> None:
    filler = "Nothing to see on this line, just a long email.\n" * 190_000  # 9 MB
    forms = bounded(CONSENT + filler + REFERRAL)
    assert only(forms, FormKind.CONSENT)["consent_basis"] == "parental_responsibility"
    # The referral lies past MAX_TEXT_CHARS: it is not read.
    assert [form.kind for form in forms] == [FormKind.CONSENT]


def test_the_line_the_text_limit_cuts_is_not_read() -> None:
    head = ("x" * 99 + "\n") * ((MAX_TEXT_CHARS - 100) // 100)
    text = head + "Consent form\nBasis of consent: self\nDate of consent: " + "1" * 200
    assert len(text) > MAX_TEXT_CHARS
    assert only(bounded(text), FormKind.CONSENT) == {"consent_basis": "self"}


def test_three_million_short_lines() -> None:
    assert bounded("x\n" * 3_000_000) == []


def test_three_million_varied_short_lines_after_a_form() -> None:
    lines = "".join(f"line {n}\n" for n in range(1000)) * 3000  # 3 million lines
    forms = bounded(CONSENT + lines)
    assert only(forms, FormKind.CONSENT)["consenting_person_name"] == "Pat Lee"


def test_twenty_thousand_different_lines() -> None:
    assert bounded("".join(f"Note {n}: nothing\n" for n in range(20_000))) == []


def test_a_million_labelled_lines_keep_the_first_value() -> None:
    forms = bounded(
        "Consent form\n" + "".join(f"Basis of consent: {n}\n" for n in range(10)) * 100_000
    )
    assert only(forms, FormKind.CONSENT)["consent_basis"] == "0"


def test_a_value_wrapped_over_fifty_thousand_lines_is_joined_once() -> None:
    # A printed long answer wraps to the column its first line started in.
    wrapped = (" " * 23 + "and went on\n") * 50_000
    text = REFERRAL + "Mental health concern: started\n" + wrapped
    value = only(bounded(text), FormKind.REFERRAL)["mental_health_concern"]
    assert value.startswith("started\nand went on\nand went on")
    assert value.count("\n") == 50_000


def test_tens_of_thousands_of_forms() -> None:
    forms = bounded(REFERRAL * 40_000)
    assert len(forms) > 10_000
    assert {form.kind for form in forms} == {FormKind.REFERRAL}


# --- long runs of spaces and tabs ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        " \t" * 100_000,
        " " * 200_000 + "x",
        "Basis of consent" + " \t" * 100_000 + ": self",  # a line past MAX_LINE_CHARS
        "x" + " " * 200_000 + ":",
        "dsr" + " " * 200_000 + "referral x",  # almost a form heading
        "dynamic support register" + " -" * 100_000,
        "[" + " " * 200_000 + "x",  # almost a tick box
        "(" + " " * 200_000 + "X",
        "- " * 100_000,
        ("\t" * 1_000 + "\n") * 200,
    ],
    ids=[
        "spaces-and-tabs",
        "spaces",
        "label-then-spaces",
        "spaces-then-colon",
        "heading",
        "heading-dashes",
        "tick-box",
        "round-tick-box",
        "bullets",
        "tab-lines",
    ],
)
def test_200_kb_of_spaces_and_tabs(text: str) -> None:
    bounded(text)


def test_a_separator_far_along_a_line_still_follows_its_label() -> None:
    # Separators are looked for in a line's first characters, but the one found there is
    # matched in the whole line: the spaces before the colon do not hide the value.
    forms = bounded("Consent form\nBasis of consent" + " " * 15_000 + ":   \t self\n")
    assert only(forms, FormKind.CONSENT)["consent_basis"] == "self"


def test_a_label_at_the_label_limit_is_read_and_one_past_it_is_not() -> None:
    # label_key ignores dots (a printed form's dot leaders).
    at_limit = "Basis of consent" + "." * (MAX_LABEL_CHARS - len("Basis of consent"))
    past = at_limit + "."
    assert only(bounded(f"Consent form\n{at_limit}: self\n"), FormKind.CONSENT) == {
        "consent_basis": "self"
    }
    assert bounded(f"Consent form\n{past}: self\n") == []


# --- quoting ---------------------------------------------------------------------------


def test_deep_quoting() -> None:
    quoted = (">" * 100_000 + " Basis of consent: self\n") * 20
    assert bounded("Consent form\n" + quoted) == []


def test_many_quoted_lines() -> None:
    assert bounded("> > > > > > > > > > Hello, see below\n" * 200_000) == []


# --- what is read is valid Unicode -----------------------------------------------------


def test_lone_surrogates_become_replacement_characters() -> None:
    # A UTF-7 body can decode to lone surrogates, which cannot be stored or sent.
    text = (
        "Consent form\nRelationship to the child: self\ud800\n"
        "Name of the person consenting: P\udfff Lee\n"
    )
    fields = only(bounded(text), FormKind.CONSENT)
    assert fields["consenting_person_relationship"] == "self\ufffd"
    assert fields["consenting_person_name"] == "P\ufffd Lee"


def test_a_surrogate_pair_is_joined_into_its_character() -> None:
    text = "Consent form\nName of the person consenting: Pat \ud83d\ude00\n"
    assert only(bounded(text), FormKind.CONSENT)["consenting_person_name"] == "Pat \U0001f600"


def test_utf7_body_text() -> None:
    body = b"Consent form\nName of the person consenting: Pat +2D0-\n".decode("utf-7")
    assert "\ud83d" in body  # a lone high surrogate, as the codec gives it
    assert only(bounded(body), FormKind.CONSENT)["consenting_person_name"] == "Pat \ufffd"


# --- properties ------------------------------------------------------------------------

_ANY_CHARACTER = st.characters(exclude_categories=())  # surrogates and controls included
_LABELS = st.sampled_from(
    [
        "Basis of consent",
        "Date of consent",
        "NHS number",
        "NHS No.",
        "Name",
        "Reason for referral",
        "Mental health concern",
        "Diagnosis: Autism (ASC)",
        "Autism",
        "Form id",
        "Suggested RAG rating",
    ]
)
_HEADINGS = st.sampled_from(
    [
        "Referral form",
        "CONSENT FORM",
        "Form id: DSR-CONSENT-1",
        "DSR - Referral",
        "Dynamic Support Register \u2013 Review outcome form",
        "Withdrawal:",
        "dsr",
        "form id",
    ]
)
_PIECES = st.one_of(
    st.text(_ANY_CHARACTER, max_size=20),
    _LABELS,
    _HEADINGS,
    st.sampled_from(
        [":", " - ", "\t", "  ", " ", "-", "*", "\u2022", "[x]", "[ ]", "(X)", "☒", "☐", ">"]
    ),
    st.sampled_from(["\x00", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\r", "\r\n", "\n"]),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
    st.tuples(
        st.sampled_from([": ", " ", "\t", " -", ">", "x: ", "[", "\n"]), st.integers(0, 3000)
    ).map(lambda repeated: repeated[0] * repeated[1]),
)
_TEXTS = st.lists(_PIECES, max_size=40).map("".join)
_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(st.text(_ANY_CHARACTER, max_size=2000))
def test_any_text_gives_storable_forms(text: str) -> None:
    _assert_storable(read_text_forms(text, "the email body"))


@_SETTINGS
@given(_TEXTS)
def test_any_mix_of_labels_headings_and_separators_gives_storable_forms(text: str) -> None:
    forms = read_text_forms(text, "the email body")
    assert isinstance(forms, list)
    _assert_storable(forms)


@_SETTINGS
@given(
    spaces=st.text(st.sampled_from(" \t\u00a0"), max_size=300),
    separator=st.sampled_from([":", " :", "\t", " - ", "  "]),
    after=st.text(st.sampled_from(" \t"), max_size=300),
    value=st.from_regex(r"[A-Za-z0-9/][A-Za-z0-9/ ]{0,40}[A-Za-z0-9/]", fullmatch=True),
)
def test_a_label_and_its_value_are_found_however_far_apart(
    spaces: str, separator: str, after: str, value: str
) -> None:
    line = "Basis of consent" + spaces + separator + after + value
    fields = only(read_text_forms("Consent form\n" + line, "the email body"), FormKind.CONSENT)
    assert fields["consent_basis"] == value
