"""Reads typed values out of a raw form, collecting a Reason for every problem.

Messages name the field by its label and say what to do; they never repeat the value.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache

from shared.dates import DateFormatError, parse_uk_date
from shared.forms.fields import RawForm, is_ticked
from shared.identifiers import is_valid_nhs_number, normalise_nhs_number
from shared.mail.inbound import valid_text
from shared.outcome import Reason, ReasonCode
from templates.forms.layout import LAYOUTS, printed_label

# The longest answers read, so a case always fits in one DynamoDB item (400 KB) with its
# history: a one-line answer (a name, a date, an address line) and a free-text box.
MAX_ANSWER_CHARS = 200
MAX_LONG_ANSWER_CHARS = 4000


@cache
def _long_fields() -> frozenset[str]:
    return frozenset(
        field.name
        for layout in LAYOUTS
        for section in layout.sections
        for field in section.fields
        if field.type == "long"
    )


# A tick mark before a printed option ("☒ Signature ☐ Verbal", "X  Signature   Verbal", a
# printed radio group or a Word form's boxes), and an empty box; a marked option runs to the
# next box, a column gap or the end.
_TICK_MARK = r"☒|☑|✓|✔|\[\s*[xX✓✔]\s*\]|\(\s*[xX•]\s*\)|(?<![A-Za-z0-9])[xX](?![A-Za-z0-9])"
_EMPTY_BOX = r"☐|□|\[\s*\]|\(\s*\)"
_MARKED_OPTION = re.compile(
    rf"(?:{_TICK_MARK})[\s:]*(.+?)(?=\s*(?:{_TICK_MARK}|{_EMPTY_BOX})|\s{{2,}}|\t|$)"
)


def choice_key(text: str) -> str:
    return "_".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def marked_option(value: str, options: dict[str, str]) -> str | None:
    """The one option a tick marks among printed options (`X Signature  Verbal`), or None
    when none or several different ones are marked."""
    marked = set()
    for match in _MARKED_OPTION.finditer(value):
        key = choice_key(match.group(1))
        words = key.split("_")
        if key in options:
            marked.add(options[key])
        elif words and words[0] in options and len(words[0]) > 1:
            marked.add(options[words[0]])
    return marked.pop() if len(marked) == 1 else None


# Control characters, and the bidirectional controls that can make an email show text in
# another order than it holds (a different NHS number, say).
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def clean_answer(value: str) -> str:
    """Valid Unicode without control characters (a stray NUL or a lone surrogate would
    break the record or the emails made from it)."""
    return valid_text(_CONTROL.sub("", value))


def label(field: str, form_id: str | None = None) -> str:
    """A field as the form prints it ("'Date of birth' (section 1)"), else in plain words."""
    printed = printed_label(form_id, field) if form_id else None
    return printed or "'" + field.replace("_", " ") + "'"


class FieldReader:
    def __init__(self, form: RawForm, today: date) -> None:
        self.form = form
        self.today = today
        self.reasons: list[Reason] = []
        self.too_long: set[str] = set()

    def label(self, field: str) -> str:
        return label(field, self.form.kind.value)

    def problem(self, code: ReasonCode, field: str | None, message: str) -> None:
        if field in self.too_long:
            return  # an answer refused as too long is not also "missing" or "not eligible"
        self.reasons.append(
            Reason(code=code, field=field, message=message, form=self.form.kind.value)
        )

    def missing(self, field: str) -> None:
        """The field is required and blank (nothing when it was refused as too long)."""
        self.problem(
            ReasonCode.FIELD_MISSING,
            field,
            f"The {self.form.kind.display_name} has no {self.label(field)}. Please complete it and send the form again.",
        )

    def text(self, field: str, *, required: bool = False) -> str | None:
        value = clean_answer(self.form.fields.get(field, "")).strip()
        if not value:
            if required:
                self.missing(field)
            return None
        long = field in _long_fields()
        limit = MAX_LONG_ANSWER_CHARS if long else MAX_ANSWER_CHARS
        if len(value) > limit:
            self.too_long.add(field)
            self.reasons.append(
                Reason(
                    code=ReasonCode.FIELD_INVALID,
                    field=field,
                    form=self.form.kind.value,
                    message=f"The {self.label(field)} on the {self.form.kind.display_name} is "
                    f"longer than {limit} characters. Please shorten it and send the form again.",
                )
            )
            return None
        # A one-line answer stays on one line: a line break in a name cannot start a new line
        # that looks like another field in the emails we send.
        return value if long else " ".join(value.split())

    def ticked(self, field: str) -> bool:
        return is_ticked(self.form.fields.get(field, ""))

    def date_value(
        self, field: str, *, required: bool = False, not_future: bool = True
    ) -> date | None:
        value = self.text(field, required=required)
        if value is None:
            return None
        try:
            parsed = parse_uk_date(value)
        except DateFormatError as error:
            self.problem(
                ReasonCode.DATE_INVALID,
                field,
                f"The {self.label(field)} on the {self.form.kind.display_name} is {error}. "
                "Please write it day first, as DD/MM/YYYY, with the digits 0 to 9.",
            )
            return None
        if not_future and parsed > self.today:
            self.problem(
                ReasonCode.DATE_INVALID,
                field,
                f"The {self.label(field)} on the {self.form.kind.display_name} is in the future. Please check it.",
            )
            return None
        return parsed

    def quiet_date(self, field: str) -> date | None:
        """The date if it reads cleanly, adding no reason (the field's own check does that)."""
        try:
            return parse_uk_date(self.form.fields.get(field, ""))
        except DateFormatError:
            return None

    def nhs_number(self, field: str = "child_nhs_number", *, required: bool = True) -> str | None:
        value = self.text(field, required=required)
        if value is None:
            return None
        if not is_valid_nhs_number(value):
            self.problem(
                ReasonCode.NHS_NUMBER_INVALID,
                field,
                f"The NHS number on the {self.form.kind.display_name} is not a valid NHS number "
                "(10 digits that pass the NHS check). Please check it against the child's records.",
            )
            return None
        return normalise_nhs_number(value)

    def choice(
        self,
        field: str,
        options: dict[str, str],
        *,
        required: bool = True,
        leading_word: bool = False,
    ) -> str | None:
        """One of `options` (normalised text -> value), matched ignoring case and spacing.

        With `leading_word`, a first word that is an option decides when the rest is only a
        gloss ("Red (crisis)"), but never when another option is named too ("Red/Amber").
        Options printed side by side with a tick before one (a printed radio group, a Word
        form's boxes: `X Signature  Verbal`, `☐ Self ☒ Parent`) mean the one ticked.
        """
        value = self.text(field, required=required)
        if value is None:
            return None
        key = choice_key(value)
        if key in options:
            return options[key]
        ticked = marked_option(value, options)
        if ticked is not None:
            return ticked
        # A one-letter code (`A` for Amber) counts only as the whole answer, never as a word
        # in a sentence ("a worry").
        words = [word for word in re.findall(r"[a-z]+", value.lower()) if len(word) > 1]
        named = {options[word] for word in words if word in options}
        if leading_word and words and words[0] in options and len(named) == 1:
            return options[words[0]]
        self.problem(
            ReasonCode.FIELD_INVALID,
            field,
            f"The {self.label(field)} on the {self.form.kind.display_name} must be one of: "
            f"{', '.join(sorted(set(options.values())))}. Please write or choose one of them.",
        )
        return None
