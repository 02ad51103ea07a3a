"""Draw the fillable DSR forms as PDFs with AcroForm fields named as in docs/forms.md.

Run `make forms` (needs the `forms` extra: reportlab); the PDFs are committed beside this file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reportlab.lib.colors import HexColor, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from templates.forms.layout import LAYOUTS, FormLayout

MARGIN = 40
LABEL_WIDTH = 210
WIDTH, HEIGHT = A4
FIELD_WIDTH = WIDTH - 2 * MARGIN - LABEL_WIDTH
SHADE = HexColor("#E8EEF7")


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


def draw(layout: FormLayout, path: Path) -> None:
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
            if field.type == "check":
                form.checkbox(
                    name=field.name,
                    x=MARGIN + LABEL_WIDTH,
                    y=top - 14,
                    size=12,
                    buttonStyle="check",
                    borderWidth=1,
                    checked=False,
                    tooltip=field.label,
                )
                canvas.drawString(MARGIN + LABEL_WIDTH + 18, top - 11, field.label)
            else:
                for offset, line in enumerate(
                    simpleSplit(field.label, "Helvetica", 9, LABEL_WIDTH - 8)[:2]
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
                    fieldFlags="multiline" if field.type == "long" else "",
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


def main(target: str | None = None) -> None:
    folder = Path(target) if target else Path(__file__).parent
    for layout in LAYOUTS:
        draw(layout, folder / layout.filename)
        print(f"wrote {folder / layout.filename}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
