"""Forms as text: `Label: value` lines typed into an email body, the rows of a Word table, or
the text layer of a printed (flattened) PDF, where label and value sit in two columns.

Labels go through the same alias table as PDF field names, so `NHS No.: 943 476 5919`,
`Child's D.O.B. - 03/04/2012` and `Forename(s)    Amira` all land on their canonical field.
Lines whose label is not a known field are ignored (greetings, signatures, printed guidance).
Checkboxes read Yes/No words and tick marks, before or after the label (`☒ Autism`,
`[x] Autism`, `Autism: Yes`). Indented lines continue the value above them, as a printed
long answer wraps. A text holding several forms is split at each form's heading.

Labels are read in their section's context, not by where our own form prints them: a
heading line ("Child/young person details", "Parent/carer", "Section B: referrer") starts a
section named by its words, a numbered heading naming none ("3. Risk of admission") ends it,
and a generic label under it (`Name:`, `Email:`, `Tel/Mobile No:`) means that section's
field (see `field_in_section` in fields.py and `_by_section` in aliases.json).

The text is the sender's, so the work is bounded whatever it holds: only its first
MAX_TEXT_CHARS characters are read, only the first MAX_LINE_CHARS of a line, labels are
looked for in a line's first MAX_LABEL_CHARS characters only, and every pattern here runs in
time linear in the line it reads. The values read are valid Unicode (a lone surrogate, as a
UTF-7 body can hold, becomes U+FFFD), so they can be stored and sent.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from shared.forms.fields import (
    ISOLATED,
    FormKind,
    RawForm,
    alias_table,
    detect_kinds,
    field_in_section,
    generic_labels,
    label_key,
    printed_labels_in_order,
    section_named,
)
from shared.forms.reader import choice_key, marked_option
from templates.forms.layout import LAYOUTS

# A typed form is a few kilobytes and a printed one's text layer a few hundred: text past
# the first MAX_TEXT_CHARS characters is not read, nor the last line before it when the
# limit may have cut that short.
MAX_TEXT_CHARS = 2_000_000
# A line past MAX_LINE_CHARS characters (a long answer typed as one paragraph is a few
# thousand) is read up to there: the rest of it is not part of the value.
MAX_LINE_CHARS = 20_000
# The longest label read. The longest printed label is 56 characters.
MAX_LABEL_CHARS = 80
# Separators are looked for in a line's first characters only: one that follows a label of
# MAX_LABEL_CHARS starts at that column, and its first three characters (`\s-\s`) decide it.
_LABEL_WINDOW = MAX_LABEL_CHARS + 3
# A form's heading is short (`Dynamic Support Register - Form id: DSR-WITHDRAWAL-1`).
_MAX_HEADING_CHARS = 120

# "Label: value", "Label - value", a tab, or the gap between a printed form's two columns.
_SEPARATOR = re.compile(r"\s*(?::|\s-\s|\t)\s*|\s{2,}")
_BULLETS = "-*\u2022"
# A tick box printed before its label: "☒ Autism", "[x] Autism", "X  Autism". (Each space
# run is matched one way only, so a long one is not tried every way it can be split.)
_MARK = re.compile(r"^(\[\s*(?:[xX✓✔]\s*)?\]|\(\s*(?:[xX]\s*)?\)|[☒☑☐□■✓✔✗xX])\s+")
_UNTICKED = {
    "", "no", "n", "false", "none", "n/a", "na", "off", "/off", "-",
    "☐", "□", "[ ]", "[]", "( )", "()", "not ticked", "unticked",
}  # fmt: skip
# Matched against a heading line with its spaces collapsed to single ones (see _heading).
_FORM_HEADING = re.compile(
    r"(?:(?:dynamic support register|dsr) ?[-:\u2013]? ?)?(?:form ?id ?:? ?)?"
    r"(?:(?P<id>DSR-(?:REFERRAL|CONSENT|REVIEW|WITHDRAWAL)-\d)"
    r"|(?P<name>referral|consent|review outcome|withdrawal)(?: form| of consent)?) ?:?",
    re.IGNORECASE,
)
_NAMED = {
    "referral": FormKind.REFERRAL,
    "consent": FormKind.CONSENT,
    "review outcome": FormKind.REVIEW,
    "withdrawal": FormKind.WITHDRAWAL,
}
_SURROGATE = re.compile("[\ud800-\udfff]")
# A section heading is short: a few words on a line of its own, not a sentence.
_MAX_SECTION_HEADING_CHARS = 60
_MAX_SECTION_HEADING_WORDS = 8
# "3. Risk of admission", "Section B: referrer", "Part 2 - Diagnosis", "B) Needs".
_NUMBERED_HEADING = re.compile(
    r"(?:(?i:section|part)\s+[0-9A-Za-z]{1,2}\b\s*[.:)\-\u2013]?|[0-9]{1,2}[.)]|[A-Z][.)])\s*\S"
)
_NO_SECTION = "-"  # a numbered heading that names no section: generic labels read as usual


@cache
def _checkboxes() -> frozenset[str]:
    return frozenset(
        field.name
        for layout in LAYOUTS
        for section in layout.sections
        for field in section.fields
        if field.type == "check"
    )


@cache
def _known_labels(kind: FormKind | None) -> frozenset[str]:
    form_id = kind.value if kind else None
    return (
        frozenset(alias_table(form_id))
        | frozenset(printed_labels_in_order(form_id))
        | generic_labels()
    )


@cache
def _any_form_labels() -> frozenset[str]:
    """The labels known to any form, or to none in particular."""
    return frozenset().union(*(_known_labels(kind) for kind in (None, *FormKind)))


@cache
def _options() -> dict[str, dict[str, str]]:
    """Our drop-downs and radio groups: each option's text and stored value (normalised) ->
    the stored value."""
    options: dict[str, dict[str, str]] = {}
    for layout in LAYOUTS:
        for form_field in layout.fields():
            for value, shown in form_field.options:
                table = options.setdefault(form_field.name, {})
                table[choice_key(value)] = table[choice_key(shown)] = value
    return options


def _stored(name: str, value: str) -> str:
    """A printed choice as the form stores it: an option's text (`Parental responsibility`)
    or the option ticked among those printed (`X Signature  Verbal`) as its value; any other
    answer as it is (the form's rules read other words for it)."""
    options = _options().get(name)
    if not options:
        return value
    return options.get(choice_key(value)) or marked_option(value, options) or value


# The same few labels come again and again (in every pass, on every form).
_key = lru_cache(maxsize=4096)(label_key)


@dataclass
class _Line:
    label: str
    key: str  # label_key(label)
    value: str
    ticks_only: bool  # a tick box or a bare label: nothing continues it
    column: int = 0  # where the value starts: a line indented to it continues the value
    wrapped: list[str] = field(default_factory=list)  # the lines that continue the value
    section: str | None = None  # the section it is printed in (`child`, `referrer` ...)


@dataclass(frozen=True)
class _Labelled:
    """A line that starts with a label some form knows, read once for every form: which
    label it is depends on the form (`known`), see `entry`."""

    line: str
    text: str  # without its bullet and surrounding spaces
    indent: int
    # (label key, where its separator starts), from the rightmost separator: the longest
    # label wins (`Diagnosis: Autism (ASC): Yes` is the field `Diagnosis: Autism (ASC)`).
    separated: tuple[tuple[str, int], ...]
    bare: str  # the key of the whole line as a label alone (a checkbox)
    bare_label: str
    ticked: bool  # marked by a tick box before the label

    def entry(self, known: frozenset[str]) -> _Line | None:
        """The label and value of the line when it starts with a label in `known`."""
        for key, start in self.separated:
            if key in known:
                label = self.text[:start].strip()
                separator = _SEPARATOR.match(self.text, start)  # in the whole line
                assert separator is not None
                value = self.text[separator.end() :].strip()
                line = self.line
                column = line.find(value, line.find(label) + len(label)) if value else 0
                return _Line(label, key, value, ticks_only=False, column=column)
        if self.bare in known:
            # A label alone, or after its tick box: a checkbox, ticked when marked.
            return _Line(self.bare_label, self.bare, "Yes" if self.ticked else "", True)
        return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _read_line(line: str) -> _Labelled | str:
    """The line read for every form at once: a _Labelled when it starts with a label any form
    knows, else the line itself (a greeting, guidance, the wrapped part of a long answer)."""
    text = line.strip()
    if text and text[0] in _BULLETS:
        text = text[1:].lstrip()  # "- NHS number: ...", "• NHS number: ..."
    known = _any_form_labels()
    separated = []
    # Only a separator within the window can follow a label short enough to be one.
    for separator in reversed(list(_SEPARATOR.finditer(text[:_LABEL_WINDOW]))):
        label = text[: separator.start()].strip()
        if 0 < len(label) <= MAX_LABEL_CHARS:
            key = _key(label)
            if key in known:
                separated.append((key, separator.start()))
    mark = _MARK.match(text)
    bare_label = text[mark.end() :] if mark else text
    # (A label alone may be longer: a printed form's dot leaders, `Actions agreed......:`.)
    bare = _key(bare_label) if len(bare_label) <= MAX_LABEL_CHARS else label_key(bare_label)
    if not separated and bare not in known:
        return line
    ticked = mark is not None and mark.group(1).strip("[]() ") not in ("", "☐", "□")
    return _Labelled(line, text, _indent(line), tuple(separated), bare, bare_label, ticked=ticked)


@lru_cache(maxsize=1024)
def _section_heading(line: str) -> str | None:
    """The section a heading line starts (`child`, `parent_carer`, `referrer`, `other`),
    _NO_SECTION for a numbered heading naming none, or None when the line is no heading: a
    heading is a few words on a line of their own (no tab or column gap), not a sentence, and
    does not start with a label."""
    text = line.strip().lstrip(_BULLETS).strip().rstrip(":").strip()
    if (
        not text
        or len(text) > _MAX_SECTION_HEADING_CHARS
        or len(text.split()) > _MAX_SECTION_HEADING_WORDS
        or "\t" in text
        or "  " in text
        or text[-1] in ".?!,;"
    ):
        return None
    words = text.split()
    known = _any_form_labels()
    if any(_key(" ".join(words[:count])) in known for count in range(1, len(words))):
        return None  # a label and its value after one space (`Family name Adeyemi`)
    named = section_named(text)
    if named is not None:
        return named
    return _NO_SECTION if _NUMBERED_HEADING.match(text) else None


def _lines(section: list[_Labelled | str], kind: FormKind | None) -> list[_Line]:
    known = _known_labels(kind)
    read: list[_Line] = []
    open_value: _Line | None = None  # the value an indented line would continue
    current: str | None = None  # the section the lines are in
    for item in section:  # blank lines are left out: they neither continue nor end a value
        if isinstance(item, str):
            entry, indent = None, None
        else:
            entry, indent = item.entry(known), item.indent
        bare = entry is None or (entry.ticks_only and not entry.value)
        if open_value is not None and bare:
            line = item if isinstance(item, str) else item.line
            indent = _indent(line) if indent is None else indent
            # A printed long answer wraps to the column its first line started in.
            if indent > 1 and abs(indent - open_value.column) <= 2:
                open_value.wrapped.append(line.strip())  # even "Social care" under "Services"
                continue
        if entry is not None:
            entry.section = None if current == _NO_SECTION else current
            read.append(entry)
            open_value = None if entry.ticks_only or not entry.value else entry
        else:
            open_value = None
            if isinstance(item, str):
                heading = _section_heading(item)
                current = current if heading is None else heading
    for entry in read:
        if entry.wrapped:
            entry.value = "\n".join([entry.value, *entry.wrapped])
    return read


def _fields(lines: list[_Line], kind: FormKind | None) -> dict[str, str]:
    form_id = kind.value if kind else None
    aliases = alias_table(form_id)
    in_order = printed_labels_in_order(form_id)
    checkboxes = _checkboxes()
    seen: Counter[str] = Counter()
    fields: dict[str, str] = {}
    for line in lines:
        key = line.key
        in_section = field_in_section(key, line.section, form_id)
        if in_section == ISOLATED:
            continue  # a generic label its section has no field for (a parent's address)
        if in_section is not None:
            name = in_section
        elif key in in_order:
            # A label the form prints more than once ("Name" of the parent, then of the
            # referrer) means its fields in the order the form prints them.
            names = in_order[key]
            if seen[key] >= len(names):
                continue
            name = names[seen[key]]
            seen[key] += 1
        elif key in aliases:
            name = aliases[key]
        else:
            continue  # a generic label outside any section that no form prints (`Agency`)
        if name in checkboxes:
            ticked = line.value.strip().lower() not in _UNTICKED
            if ticked or name not in fields:
                fields[name] = "/Yes" if ticked else "/Off"
        elif not fields.get(name):
            fields[name] = _stored(name, line.value)
    return fields


def _heading(text: str) -> FormKind | None:
    """The form a heading line (`Referral form`, `Form id: DSR-CONSENT-1`, ...) starts."""
    if len(text) > _MAX_HEADING_CHARS:
        return None
    heading = _FORM_HEADING.fullmatch(" ".join(text.split()))
    if heading is None:
        return None
    if heading.group("id"):
        return FormKind(heading.group("id").upper())
    return _NAMED[heading.group("name").lower()]


def _sections(lines: Iterable[str]) -> list[tuple[FormKind | None, list[_Labelled | str]]]:
    """The text's lines, read, and cut at each form heading. Blank lines are left out: they
    neither continue a value nor end one."""
    sections: list[tuple[FormKind | None, list[_Labelled | str]]] = [(None, [])]
    # A line repeated is read once: what it is (a heading, a labelled line, another line),
    # or None when it is blank.
    read: dict[str, _Labelled | str | FormKind | None] = {}
    for line in lines:
        if len(line) > MAX_LINE_CHARS:
            line = line[:MAX_LINE_CHARS]
        if line in read:
            item = read[line]
        else:
            stripped = line.strip()
            item = read[line] = (_heading(stripped) or _read_line(line)) if stripped else None
        if isinstance(item, FormKind):
            sections.append((item, []))
        elif item is not None:
            sections[-1][1].append(item)
    return [(kind, items) for kind, items in sections if items or kind]


def _readable_lines(text: str) -> list[str]:
    """The lines of the text that are read, as valid Unicode: those in its first
    MAX_TEXT_CHARS characters, without the last one when the limit may have cut it short."""
    cut = len(text) > MAX_TEXT_CHARS
    if cut:
        text = text[:MAX_TEXT_CHARS]
    if _SURROGATE.search(text):
        # A surrogate pair is joined into its character; a lone surrogate becomes U+FFFD.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    lines = text.splitlines()
    if cut and lines and len(lines[-1]) < MAX_LINE_CHARS:
        lines.pop()  # (a line read to MAX_LINE_CHARS lost nothing that would be read)
    return lines


def read_text_forms(text: str, source: str) -> list[RawForm]:
    """Every DSR form in the text (none when it holds no form)."""
    forms = []
    for heading_kind, section in _sections(_readable_lines(text)):
        # Which form it is decides what a printed label means, so: read, detect, read again.
        # Without a heading, one text may hold a referral and a consent together.
        kinds = (
            [heading_kind] if heading_kind else detect_kinds(_fields(_lines(section, None), None))
        )
        for kind in kinds:
            fields = _fields(_lines(section, kind), kind)
            if fields:
                forms.append(RawForm(kind=kind, fields=fields, source=source))
    return forms
