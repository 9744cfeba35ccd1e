"""The same invoice rendered with ReportLab (Platypus), as the benchmark's point of comparison.

Written as one would for speed in ReportLab: the same TTF files registered once as TTFonts,
plain strings in `Table` cells (wrapped with `simpleSplit`, no Paragraph parsing), the item
table with `repeatRows=1`, totals in a `KeepTogether`, a continuation frame on later pages and
"Page n of N" through the usual deferred-page canvas. The content comes from the same
`build_view` as ours, so both print the same strings.
"""

from __future__ import annotations

import io
from functools import cache
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, KeepTogether, PageTemplate, Spacer, Table, TableStyle

from invoicing.domain.invoice import InvoiceDocument
from invoicing.rendering.presentation import InvoiceView, build_view
from invoicing.rendering.typeface import BOLD_FILE, REGULAR_FILE

REGULAR, BOLD = "InvoiceSans", "InvoiceSans-Bold"
INK = colors.Color(33 / 255, 37 / 255, 41 / 255)
MUTED = colors.Color(104 / 255, 112 / 255, 120 / 255)
ACCENT = colors.Color(28 / 255, 61 / 255, 102 / 255)
RULE = colors.Color(214 / 255, 219 / 255, 224 / 255)
BAND = colors.Color(240 / 255, 243 / 255, 246 / 255)
WIDTH, HEIGHT = A4
LEFT = 16 * mm
CONTENT = WIDTH - 32 * mm
COLUMN_WIDTHS = [w * mm for w in (8, 78, 11, 25, 13, 19, 24)]


@cache
def register_fonts() -> frozenset[str]:
    """Register both faces once per process (as one would in a warm Lambda); their characters."""
    regular = TTFont(REGULAR, str(REGULAR_FILE))
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(TTFont(BOLD, str(BOLD_FILE)))
    return frozenset(chr(code) for code in regular.face.charToGlyph)


class _NumberedCanvas(Canvas):
    """Defers each page until the end so its footer can say "Page n of N"."""

    footer = ""
    invoice_number = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        count = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setStrokeColor(RULE)
            self.setLineWidth(0.4)
            self.line(LEFT, 15 * mm, WIDTH - LEFT, 15 * mm)
            self.setFont(REGULAR, 7.5)
            self.setFillColor(MUTED)
            self.drawString(LEFT, 10.5 * mm, self.footer)
            self.drawRightString(WIDTH - LEFT, 10.5 * mm, f"{self.invoice_number} · Page {number} of {count}")
            super().showPage()
        super().save()


def _continuation(view: InvoiceView) -> Any:
    def draw(canvas: Canvas, _doc: Any) -> None:
        canvas.setFont(BOLD, 8.5)
        canvas.setFillColor(INK)
        canvas.drawString(LEFT, HEIGHT - 21 * mm, view.seller_name)
        canvas.setFont(REGULAR, 8.5)
        canvas.drawRightString(
            WIDTH - LEFT, HEIGHT - 21 * mm, f"{view.title} {view.invoice_number} (continued)"
        )
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(1.1)
        canvas.line(LEFT, HEIGHT - 24 * mm, WIDTH - LEFT, HEIGHT - 24 * mm)

    return draw


def _header(view: InvoiceView) -> list[Any]:
    seller = Table(
        [[view.seller_name], *([line] for line in view.seller_lines)],
        colWidths=[100 * mm],
        style=[
            ("FONT", (0, 0), (0, 0), BOLD, 14),
            ("TEXTCOLOR", (0, 0), (0, 0), ACCENT),
            ("FONT", (0, 1), (0, -1), REGULAR, 7.5),
            ("TEXTCOLOR", (0, 1), (0, -1), MUTED),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0.4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 0.4),
            ("BOTTOMPADDING", (0, 0), (0, 0), 5),
        ],
    )
    meta = Table(
        [[view.title.upper(), ""], *([label, value] for label, value in view.meta)],
        colWidths=[36 * mm, 36 * mm],
        style=[
            ("SPAN", (0, 0), (1, 0)),
            ("FONT", (0, 0), (0, 0), BOLD, 20),
            ("TEXTCOLOR", (0, 0), (0, 0), ACCENT),
            ("ALIGN", (0, 0), (-1, 0), "RIGHT"),
            ("BOTTOMPADDING", (0, 0), (-1, 0), 8),
            ("FONT", (0, 1), (0, -1), REGULAR, 7.5),
            ("TEXTCOLOR", (0, 1), (0, -1), MUTED),
            ("FONT", (1, 1), (1, -1), REGULAR, 8.5),
            ("FONT", (1, 1), (1, 1), BOLD, 8.5),
            ("ALIGN", (1, 1), (1, -1), "RIGHT"),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0.8),
            ("BOTTOMPADDING", (0, 1), (-1, -1), 0.8),
        ],
    )
    top = Table(
        [[seller, meta]], colWidths=[CONTENT - 72 * mm, 72 * mm], style=[("VALIGN", (0, 0), (-1, -1), "TOP")]
    )

    def pairs(lines: list[tuple[str, str]]) -> str:
        return "\n".join(f"{label}:  {value}" for label, value in lines)

    customer = "\n".join([view.customer_name, *view.customer_lines])
    parties = Table(
        [
            ["BILL TO", "PAYMENT", "SHIPPING"],
            [customer, pairs(view.payment_lines), pairs(view.shipping_lines)],
        ],
        colWidths=[62 * mm, 62 * mm, CONTENT - 124 * mm],
        style=[
            ("FONT", (0, 0), (-1, 0), BOLD, 7),
            ("TEXTCOLOR", (0, 0), (-1, 0), MUTED),
            ("FONT", (0, 1), (-1, 1), REGULAR, 8.5),
            ("LEADING", (0, 1), (-1, 1), 11.3),
            ("LINEABOVE", (0, 0), (-1, 0), 1.1, ACCENT),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, 0), 8),
        ],
    )
    note = Table(
        [[view.tax_basis_note]],
        colWidths=[CONTENT],
        style=[
            ("FONT", (0, 0), (-1, -1), REGULAR, 7.5),
            ("TEXTCOLOR", (0, 0), (-1, -1), MUTED),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ],
    )
    return [top, parties, note]


def _items(view: InvoiceView) -> Table:
    width = COLUMN_WIDTHS[1] - 3 * mm
    rows: list[list[str]] = [["#", "Description", "Qty", "Unit price", "Tax", "Discount", "Line total"]]
    for item in view.items:
        description = "\n".join([*simpleSplit(item.description, REGULAR, 8.5, width), f"SKU {item.sku}"])
        rows.append(
            [
                item.number,
                description,
                item.quantity,
                item.unit_price,
                item.tax_rate,
                item.discount,
                item.line_total,
            ]
        )
    return Table(
        rows,
        colWidths=COLUMN_WIDTHS,
        repeatRows=1,
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), BOLD, 7.5),
                ("BACKGROUND", (0, 0), (-1, 0), BAND),
                ("FONT", (0, 1), (-1, -1), REGULAR, 8.5),
                ("LEADING", (0, 1), (-1, -1), 10.5),
                ("TEXTCOLOR", (0, 1), (0, -1), MUTED),
                ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ]
        ),
    )


def _closing(view: InvoiceView) -> list[Any]:
    tax = Table(
        [
            ["TAX SUMMARY", "", "", ""],
            ["Tax rate", "Net", "Tax", "Gross"],
            *([t.rate, t.net, t.tax, t.gross] for t in view.tax_rows),
        ],
        colWidths=[24 * mm, 20 * mm, 18 * mm, 20 * mm],
        style=[
            ("FONT", (0, 0), (-1, 0), BOLD, 7),
            ("FONT", (0, 1), (-1, -1), REGULAR, 7.5),
            ("TEXTCOLOR", (0, 0), (-1, 1), MUTED),
            ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ("LINEBELOW", (0, 1), (-1, 1), 0.4, RULE),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ],
    )
    emphasis = [index for index, row in enumerate(view.totals) if row.emphasis]
    totals = Table(
        [[row.label, row.amount] for row in view.totals],
        colWidths=[52 * mm, CONTENT - 96 * mm - 52 * mm],
        style=[
            ("FONT", (0, 0), (0, -1), REGULAR, 7.5),
            ("FONT", (1, 0), (1, -1), REGULAR, 8.5),
            ("ALIGN", (1, 0), (1, -1), "RIGHT"),
            *(
                style
                for i in emphasis
                for style in (("FONT", (0, i), (-1, i), BOLD, 10), ("BACKGROUND", (0, i), (-1, i), BAND))
            ),
        ],
    )
    together = KeepTogether(
        [
            Spacer(1, 4 * mm),
            Table(
                [[tax, totals]],
                colWidths=[96 * mm, CONTENT - 96 * mm],
                style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)],
            ),
        ]
    )
    half = (CONTENT - 8 * mm) / 2
    terms = "\n".join(simpleSplit(view.terms, REGULAR, 7.5, half))
    returns = "\n".join(simpleSplit(view.return_policy, REGULAR, 7.5, half))
    notes = Table(
        [["TERMS", "RETURNS"], [terms, returns]],
        colWidths=[half + 8 * mm, half],
        style=[
            ("FONT", (0, 0), (-1, 0), BOLD, 7),
            ("FONT", (0, 1), (-1, 1), REGULAR, 7.5),
            ("TEXTCOLOR", (0, 0), (-1, -1), MUTED),
            ("LINEABOVE", (0, 0), (-1, 0), 0.4, RULE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, 0), 6),
        ],
    )
    return [together, KeepTogether([Spacer(1, 4 * mm), notes])]


def render_reportlab(document: InvoiceDocument) -> bytes:
    charset = register_fonts()
    view = build_view(document, charset)
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        title=f"{view.title} {view.invoice_number}",
        author=view.seller_name,
        leftMargin=LEFT,
        rightMargin=LEFT,
        topMargin=16 * mm,
        bottomMargin=21 * mm,
    )
    first = Frame(LEFT, 21 * mm, CONTENT, HEIGHT - 37 * mm, id="first", leftPadding=0, rightPadding=0)
    later = Frame(LEFT, 21 * mm, CONTENT, HEIGHT - 51 * mm, id="later", leftPadding=0, rightPadding=0)
    doc.addPageTemplates(
        [
            PageTemplate(id="First", frames=[first], autoNextPageTemplate="Later"),
            PageTemplate(id="Later", frames=[later], onPage=_continuation(view)),
        ]
    )

    class NumberedCanvas(_NumberedCanvas):
        footer = view.footer
        invoice_number = view.invoice_number

    doc.build([*_header(view), _items(view), *_closing(view)], canvasmaker=NumberedCanvas)
    return buffer.getvalue()
