"""Draw the fillable DSR forms as PDFs with AcroForm fields named as in docs/forms.md.

Run `make forms` (needs the `forms` extra: reportlab); the PDFs are committed beside this file.
Every form prints where to send it: the inbox (Settings' default, or `--inbox`) and where
blank forms come from (`--blank-forms`):

    python -m templates.forms.generate [folder] [--inbox dsr@area.nhs.uk] [--blank-forms TEXT]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from reportlab.lib.colors import HexColor, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from shared.settings import Settings
from templates.forms.layout import LAYOUTS, REQUIRED_LEGEND, FormField, FormLayout

MARGIN = 40
LABEL_WIDTH = 210
WIDTH, HEIGHT = A4
FIELD_WIDTH = WIDTH - 2 * MARGIN - LABEL_WIDTH
SHADE = HexColor("#E8EEF7")
RADIO_SPACING = 110  # points from one radio button to the next


def send_to(inbox: str) -> str:
    """The line every form prints about where it goes."""
    return f"Email the completed form to {inbox} from a secure (nhs.net) address."


def blank_forms_from(inbox: str) -> str:
    """Where blank forms come from, unless the generator is told otherwise."""
    return f"Blank forms: from your area's DSR web page, or ask the DSR team at {inbox}."


class _Page:
    def __init__(self, canvas: Canvas, layout: FormLayout) -> None:
        self.canvas = canvas
        self.layout = layout
        self.y = HEIGHT - MARGIN
        self.number = 1

    def need(self, height: float) -> None:
        if self.y - height < MARGIN + 20:
            self.footer()
            self.canvas.showPage()
            self.number += 1
            self.y = HEIGHT - MARGIN

    def footer(self) -> None:
        self.canvas.setFont("Helvetica", 8)
        self.canvas.drawString(MARGIN, MARGIN - 10, f"{self.layout.form_id}  -  page {self.number}")

    def paragraph(self, text: str, font: str = "Helvetica", size: float = 9) -> None:
        lines = simpleSplit(text, font, size, WIDTH - 2 * MARGIN)
        self.need(len(lines) * (size + 3))
        self.canvas.setFont(font, size)
        for line in lines:
            self.canvas.drawString(MARGIN, self.y - size, line)
            self.y -= size + 3


def _choice(page: _Page, field: FormField, top: float) -> None:
    """A drop-down (combo box): the options' values stored, their texts shown; a blank first
    option (reportlab needs an initial value, and it lets the choice be cleared) reads as none."""
    page.canvas.acroForm.choice(
        name=field.name,
        value=" ",
        options=[(" ", " "), *((shown, value) for value, shown in field.options)],
        x=MARGIN + LABEL_WIDTH,
        y=top - 16,
        width=FIELD_WIDTH / 2,
        height=16,
        fontSize=9,
        borderWidth=1,
        fieldFlags="combo required" if field.required else "combo",
        tooltip=f"{field.label}: {' / '.join(shown for _, shown in field.options)}",
    )


def _radio(page: _Page, field: FormField, top: float) -> None:
    """A group of round buttons in one row, each followed by its option's text."""
    for index, (value, shown) in enumerate(field.options):
        x = MARGIN + LABEL_WIDTH + index * RADIO_SPACING
        page.canvas.acroForm.radio(
            name=field.name,
            value=value,
            selected=False,
            x=x,
            y=top - 14,
            size=12,
            buttonStyle="circle",
            shape="circle",
            borderWidth=1,
            fieldFlags="noToggleToOff radio required" if field.required else "noToggleToOff radio",
            tooltip=f"{field.label}: {shown}",
        )
        page.canvas.setFont("Helvetica", 9)
        page.canvas.drawString(x + 16, top - 11, shown)


def draw(layout: FormLayout, path: Path, inbox: str, blank_forms: str) -> None:
    canvas = Canvas(str(path), pagesize=A4)
    canvas.setTitle(layout.title)
    canvas.setAuthor("DSR Intake")
    canvas.setSubject(layout.form_id)
    page = _Page(canvas, layout)
    form = canvas.acroForm

    page.paragraph(layout.title, "Helvetica-Bold", 16)
    page.y -= 4
    canvas.setFont("Helvetica", 8)
    canvas.drawString(MARGIN, page.y - 10, "Form id:")
    form.textfield(
        name="form_id",
        value=layout.form_id,
        x=MARGIN + 40,
        y=page.y - 14,
        width=120,
        height=14,
        fontSize=8,
        borderWidth=0,
        fillColor=white,
        fieldFlags="readOnly",
        tooltip="Do not change: identifies this form",
    )
    page.y -= 22
    page.paragraph(layout.introduction)
    page.y -= 2
    page.paragraph(send_to(inbox), "Helvetica-Bold", 9)
    page.paragraph(blank_forms)
    page.paragraph(REQUIRED_LEGEND, "Helvetica-Bold", 9)

    for section in layout.sections:
        page.y -= 8
        page.need(60)
        canvas.setFillColor(SHADE)
        canvas.rect(MARGIN, page.y - 16, WIDTH - 2 * MARGIN, 18, stroke=0, fill=1)
        canvas.setFillColor(black)
        canvas.setFont("Helvetica-Bold", 11)
        canvas.drawString(MARGIN + 4, page.y - 12, section.title)
        page.y -= 22
        page.paragraph(section.guidance, "Helvetica-Oblique", 8)
        page.y -= 2
        for field in section.fields:
            height = 42 if field.type == "long" else 16
            page.need(height + 6)
            top = page.y
            canvas.setFont("Helvetica", 9)
            if field.type in ("choice", "radio"):
                canvas.drawString(MARGIN, top - 11, field.printed)
                (_choice if field.type == "choice" else _radio)(page, field, top)
                if field.hint and field.type == "choice":
                    canvas.setFont("Helvetica-Oblique", 7)
                    canvas.drawString(MARGIN, top - 21, field.hint)
                    height += 6
            elif field.type == "check":
                form.checkbox(
                    name=field.name,
                    x=MARGIN + LABEL_WIDTH,
                    y=top - 14,
                    size=12,
                    buttonStyle="check",
                    borderWidth=1,
                    checked=False,
                    # reportlab marks every checkbox required unless told: none is.
                    fieldFlags="",
                    tooltip=field.label,
                )
                canvas.drawString(MARGIN + LABEL_WIDTH + 18, top - 11, field.label)
            else:
                for offset, line in enumerate(
                    simpleSplit(field.printed, "Helvetica", 9, LABEL_WIDTH - 8)[:2]
                ):
                    canvas.drawString(MARGIN, top - 11 - offset * 10, line)
                form.textfield(
                    name=field.name,
                    x=MARGIN + LABEL_WIDTH,
                    y=top - height,
                    width=FIELD_WIDTH,
                    height=height,
                    fontSize=9,
                    borderWidth=1,
                    # The PDF's own Required flag matches the printed `*`.
                    fieldFlags=" ".join(
                        flag
                        for flag, wanted in (
                            ("multiline", field.type == "long"),
                            ("required", field.required),
                        )
                        if wanted
                    ),
                    tooltip=f"{field.label}{' - ' + field.hint if field.hint else ''}",
                )
                if field.hint:
                    canvas.setFont("Helvetica-Oblique", 7)
                    canvas.drawString(
                        MARGIN, top - height + 1 if field.type == "long" else top - 21, field.hint
                    )
                    if field.type != "long":
                        height += 6
            page.y -= height + 6
    page.footer()
    canvas.save()


def main(
    target: str | None = None, inbox: str | None = None, blank_forms: str | None = None
) -> None:
    folder = Path(target) if target else Path(__file__).parent
    folder.mkdir(parents=True, exist_ok=True)
    inbox = inbox or Settings().inbox_address
    for layout in LAYOUTS:
        draw(layout, folder / layout.filename, inbox, blank_forms or blank_forms_from(inbox))
        print(f"wrote {folder / layout.filename}")


def _arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Draw the fillable DSR forms.")
    parser.add_argument("folder", nargs="?", help="where to write them (default: beside this)")
    parser.add_argument("--inbox", help="the DSR inbox printed on every form")
    parser.add_argument("--blank-forms", help="where blank forms come from, as printed")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = _arguments()
    main(arguments.folder, arguments.inbox, arguments.blank_forms)
