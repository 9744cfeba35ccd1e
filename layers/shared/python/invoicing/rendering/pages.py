"""The invoice's pages, laid out in two passes and drawn with fpdf2 as positioned text.

Pass one measures every block (header, each item row, totals, terms) and assigns it a page and a
position, so the page count is known before anything is drawn ("Page n of N" needs no
placeholder). Pass two draws. Text is placed with `FPDF.text()` at computed coordinates: no
`table()`/`cell()` machinery, which costs far more per cell than the drawing itself.

Units are millimetres on A4 portrait; font sizes are points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from fpdf import FPDF

from invoicing.rendering import typeface as typefaces
from invoicing.rendering.presentation import InvoiceView, ItemRow
from invoicing.rendering.text import ellipsize, wrap
from invoicing.rendering.typeface import Typeface

MM_PER_PT = 25.4 / 72
LEFT, RIGHT = 16.0, 194.0
CONTENT_WIDTH = RIGHT - LEFT
PAGE_TOP = 16.0
CONTENT_BOTTOM = 276.0
"""Nothing but the footer below this line."""
FOOTER_RULE = 282.0
CONTINUATION_TOP = 30.0

Color = tuple[int, int, int]
INK: Color = (33, 37, 41)
MUTED: Color = (104, 112, 120)
ACCENT: Color = (28, 61, 102)
RULE: Color = (214, 219, 224)
BAND: Color = (240, 243, 246)

FAMILY = "invoice"
FONT_KEYS = {False: FAMILY, True: FAMILY + "B"}
"""fpdf2 font keys: family name, plus "B" for bold."""


@dataclass(frozen=True)
class Style:
    bold: bool
    size: float
    color: Color = INK


BODY = Style(False, 8.5)
BODY_BOLD = Style(True, 8.5)
BODY_MUTED = Style(False, 8.5, MUTED)
SMALL = Style(False, 7.5, MUTED)
SMALL_INK = Style(False, 7.5)
CAPTION = Style(True, 7, MUTED)
TABLE_HEAD = Style(True, 7.5)
TITLE = Style(True, 20, ACCENT)
SELLER = Style(True, 14, ACCENT)
TOTAL = Style(True, 10)


class Canvas:
    """Positioned text, rules and bands on one fpdf2 document, in mm.

    Font and colour are switched only when they change. Text is drawn with the fill colour set to
    the text colour, which saves fpdf2 wrapping every string in its own colour state.
    """

    def __init__(self, pdf: FPDF, regular: Typeface, bold: Typeface) -> None:
        self.pdf = pdf
        self._faces = {False: regular, True: bold}
        self._font: tuple[bool, float] | None = None
        self._color: Color | None = None

    def width(self, text: str, style: Style) -> float:
        return self._faces[style.bold].text_width(text, style.size) * MM_PER_PT

    def measure(self, style: Style) -> Callable[[str], float]:
        face, size = self._faces[style.bold], style.size * MM_PER_PT
        return lambda text: face.text_width(text, size)

    def text(self, x: float, y: float, text: str, style: Style, align: str = "L") -> None:
        """Draw `text` with its baseline at `y`; `x` is its left, right or centre edge per `align`."""
        if not text:
            return
        pdf = self.pdf
        if self._font != (style.bold, style.size):
            pdf.set_font(FAMILY, "B" if style.bold else "", style.size)
            self._font = (style.bold, style.size)
        if self._color != style.color:
            pdf.set_text_color(*style.color)
            pdf.set_fill_color(*style.color)
            self._color = style.color
        if align == "R":
            x -= self.width(text, style)
        elif align == "C":
            x -= self.width(text, style) / 2
        pdf.text(x, y, text)

    def rule(self, x1: float, y: float, x2: float, color: Color = RULE, width: float = 0.2) -> None:
        self.pdf.set_draw_color(*color)
        self.pdf.set_line_width(width)
        self.pdf.line(x1, y, x2, y)

    def band(self, x: float, y: float, w: float, h: float, color: Color = BAND) -> None:
        self.pdf.set_fill_color(*color)
        self._color = None  # the fill colour is no longer the text colour
        self.pdf.rect(x, y, w, h, style="F")

    def new_page(self) -> None:
        self.pdf.add_page()
        self._font = self._color = None


class Block(Protocol):
    height: float

    def draw(self, canvas: Canvas, top: float) -> None:
        """Draw with the block's top edge at `top` (mm from the top of the page)."""


# --- item table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    label: str
    left: float
    right: float
    align: str

    @property
    def anchor(self) -> float:
        return self.right - 1.5 if self.align == "R" else self.left + 1.5


COLUMNS = (
    Column("#", LEFT, LEFT + 8, "L"),
    Column("Description", LEFT + 8, 102, "L"),
    Column("Qty", 102, 113, "R"),
    Column("Unit price", 113, 138, "R"),
    Column("Tax", 138, 151, "R"),
    Column("Discount", 151, 170, "R"),
    Column("Line total", 170, RIGHT, "R"),
)
_NUMBER, _DESCRIPTION, _QTY, _UNIT, _TAX, _DISCOUNT, _TOTAL = COLUMNS
DESCRIPTION_WIDTH = _DESCRIPTION.right - _DESCRIPTION.left - 3
LINE = 3.7  # baseline to baseline in the table body
SKU_LINE = 3.2
ROW_PADDING = 1.6
META_LINE = 4.2
TOTALS_LINE = 4.3


class TableHeader:
    height = 7.0

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels = labels

    def draw(self, canvas: Canvas, top: float) -> None:
        canvas.band(LEFT, top, CONTENT_WIDTH, self.height)
        for column, label in zip(COLUMNS, self.labels, strict=True):
            canvas.text(column.anchor, top + 4.6, label, TABLE_HEAD, column.align)


class ItemBlock:
    """One item: description (wrapped) over its SKU, the figures on the first line."""

    def __init__(self, row: ItemRow, canvas: Canvas) -> None:
        self.row = row
        self.lines = wrap(row.description, DESCRIPTION_WIDTH, canvas.measure(BODY))
        caption = row.caption if row.caption is not None else f"SKU {row.sku}"
        self.sku = ellipsize(caption, DESCRIPTION_WIDTH, canvas.measure(SMALL))
        self.height = ROW_PADDING + 2.9 + LINE * (len(self.lines) - 1) + SKU_LINE + ROW_PADDING

    def draw(self, canvas: Canvas, top: float) -> None:
        # Drawn in reading order, grouped so the font changes only twice per row.
        row = self.row
        baseline = top + ROW_PADDING + 2.9
        canvas.text(_NUMBER.anchor, baseline, row.number, BODY_MUTED)
        for index, line in enumerate(self.lines):
            canvas.text(_DESCRIPTION.anchor, baseline + index * LINE, line, BODY)
        for column, value in (
            (_QTY, row.quantity),
            (_UNIT, row.unit_price),
            (_TAX, row.tax_rate),
            (_DISCOUNT, row.discount),
            (_TOTAL, row.line_total),
        ):
            fitted = _fit(canvas, value, BODY, column.right - column.left - 2)
            canvas.text(column.anchor, baseline, value, fitted, "R")
        canvas.text(_DESCRIPTION.anchor, baseline + (len(self.lines) - 1) * LINE + SKU_LINE, self.sku, SMALL)
        canvas.rule(LEFT, top + self.height, RIGHT, width=0.15)


def _fit(canvas: Canvas, text: str, style: Style, width: float) -> Style:
    """`style`, made smaller if `text` would not fit `width` (a very large amount)."""
    actual = canvas.width(text, style)
    if actual <= width:
        return style
    return Style(style.bold, max(5.0, style.size * width / actual), style.color)


# --- first page header --------------------------------------------------------------------------


LABEL_WIDTH = 17.0


def _labelled_lines(canvas: Canvas, pairs: Sequence[tuple[str, str]], width: float) -> list[tuple[str, str]]:
    """'Label  value' pairs of a column, the values wrapped: one (label or '', text) per line."""
    measure = canvas.measure(BODY)
    lines: list[tuple[str, str]] = []
    for label, value in pairs:
        for index, line in enumerate(wrap(value, width - LABEL_WIDTH - 2, measure)):
            lines.append((label if index == 0 else "", line))
    return lines


META_MAX_LINES = 3
BOLD_META = frozenset({"Invoice number", "Credit note number", "Payment status"})


def _meta_lines(
    canvas: Canvas, pairs: Sequence[tuple[str, str]], column: float, width: float
) -> list[tuple[str, str]]:
    """The facts beside the title, each value wrapped to `width` and clear of its label in a
    `column` that wide (at most three lines, the last shortened with '…'): one (label or '',
    text) per line. Measured bold, the widest it prints."""
    measure = canvas.measure(BODY_BOLD)
    lines: list[tuple[str, str]] = []
    for label, value in pairs:
        room = min(width, column - canvas.width(label, SMALL) - 3)
        parts = wrap(value, room, measure)
        if len(parts) > META_MAX_LINES:
            rest = " ".join(parts[META_MAX_LINES - 1 :])
            parts = [*parts[: META_MAX_LINES - 1], ellipsize(rest, room, measure)]
        lines += [(label if index == 0 else "", part) for index, part in enumerate(parts)]
    return lines


class FirstPageHeader:
    """Seller and title, invoice facts, then bill-to, payment and shipping side by side."""

    COLUMN_WIDTHS = (62.0, 62.0, 54.0)
    META_LEFT = RIGHT - 76

    def __init__(self, view: InvoiceView, canvas: Canvas) -> None:
        self.view = view
        customer_width = self.COLUMN_WIDTHS[0] - 4
        self.seller_name = ellipsize(view.seller_name, self.META_LEFT - LEFT - 4, canvas.measure(SELLER))
        small = canvas.measure(SMALL)
        self.seller_lines = [ellipsize(line, self.META_LEFT - LEFT - 4, small) for line in view.seller_lines]
        self.meta = _meta_lines(canvas, view.meta, RIGHT - self.META_LEFT, RIGHT - self.META_LEFT - 24)
        self.customer_name = wrap(view.customer_name, customer_width, canvas.measure(BODY_BOLD))
        body = canvas.measure(BODY)
        self.customer_lines = [
            part for line in view.customer_lines for part in wrap(line, customer_width, body)
        ]
        self.payment = _labelled_lines(canvas, view.payment_lines, self.COLUMN_WIDTHS[1])
        self.shipping = _labelled_lines(canvas, view.shipping_lines, self.COLUMN_WIDTHS[2])

        seller_height = 9.0 + 3.6 * len(self.seller_lines)
        meta_height = 14.0 + META_LINE * len(self.meta)
        self.parties_offset = max(seller_height, meta_height) + 5.0
        lines = max(len(self.customer_name) + len(self.customer_lines), len(self.payment), len(self.shipping))
        self.height = self.parties_offset + 7.0 + 4.0 * lines + 8.0

    def draw(self, canvas: Canvas, top: float) -> None:
        view = self.view
        canvas.text(LEFT, top + 6.0, self.seller_name, SELLER)
        y = top + 12.0
        for line in self.seller_lines:
            canvas.text(LEFT, y, line, SMALL)
            y += 3.6

        canvas.text(RIGHT, top + 7.0, view.title.upper(), TITLE, "R")
        y = top + 15.0
        for label, value in self.meta:
            canvas.text(self.META_LEFT, y, label, SMALL)
            style = BODY_BOLD if label in BOLD_META else BODY
            canvas.text(RIGHT, y, value, style, "R")
            y += META_LINE

        parties = top + self.parties_offset
        canvas.rule(LEFT, parties - 2.5, RIGHT, ACCENT, 0.4)
        x_payment = LEFT + self.COLUMN_WIDTHS[0]
        x_shipping = x_payment + self.COLUMN_WIDTHS[1]
        caption = parties + 4.0
        for x, title in zip((LEFT, x_payment, x_shipping), self.view.block_captions, strict=True):
            canvas.text(x, caption, title, CAPTION)
        y = caption + 5.0
        for line in self.customer_name:
            canvas.text(LEFT, y, line, BODY_BOLD)
            y += 4.0
        for line in self.customer_lines:
            canvas.text(LEFT, y, line, BODY)
            y += 4.0
        for x, lines in ((x_payment, self.payment), (x_shipping, self.shipping)):
            y = caption + 5.0
            for label, value in lines:
                canvas.text(x, y, label, SMALL)
                canvas.text(x + LABEL_WIDTH, y, value, BODY)
                y += 4.0
        canvas.text(LEFT, top + self.height - 2.2, view.tax_basis_note, SMALL)


class ContinuationHeader:
    height = CONTINUATION_TOP - PAGE_TOP

    def __init__(self, view: InvoiceView) -> None:
        self.view = view

    def draw(self, canvas: Canvas, top: float) -> None:
        canvas.text(LEFT, top + 5.0, self.view.seller_name, BODY_BOLD)
        canvas.text(RIGHT, top + 5.0, f"{self.view.title} {self.view.invoice_number} (continued)", BODY, "R")
        canvas.rule(LEFT, top + 8.0, RIGHT, ACCENT, 0.4)


# --- totals and terms ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _TotalLine:
    label: str
    label_style: Style
    amount: str
    amount_style: Style
    emphasis: bool


class TotalsBlock:
    """Tax summary (left) and totals (right), kept together on one page."""

    TAX_COLUMNS: tuple[tuple[float, float, str, str], ...] = (
        (LEFT, LEFT + 14, "Tax rate", "L"),
        (LEFT + 14, LEFT + 36, "Net", "R"),
        (LEFT + 36, LEFT + 57, "Tax", "R"),
        (LEFT + 57, LEFT + 80, "Gross", "R"),
    )
    TOTALS_LEFT = 112.0
    AMOUNT_RIGHT = RIGHT - 1.5

    def __init__(self, view: InvoiceView, canvas: Canvas) -> None:
        self.view = view
        self.tax_rows = [
            [
                (value, _fit(canvas, value, SMALL_INK, right - left - 1.5))
                for (left, right, _, _), value in zip(
                    self.TAX_COLUMNS, (tax.rate, tax.net, tax.tax, tax.gross), strict=True
                )
            ]
            for tax in view.tax_rows
        ]
        self.totals: list[_TotalLine] = []
        space = self.AMOUNT_RIGHT - self.TOTALS_LEFT
        for row in view.totals:
            label_style, amount_style = (TOTAL, TOTAL) if row.emphasis else (SMALL_INK, BODY)
            amount_style = _fit(canvas, row.amount, amount_style, space * 0.6)
            label_space = space - canvas.width(row.amount, amount_style) - 3
            label = ellipsize(row.label, label_space, canvas.measure(label_style))
            self.totals.append(_TotalLine(label, label_style, row.amount, amount_style, row.emphasis))
        tax_height = 11.0 + 4.2 * len(view.tax_rows)
        totals_height = 4.0 + sum(8.0 if line.emphasis else TOTALS_LINE for line in self.totals)
        self.height = 5.0 + max(tax_height, totals_height) + 2.0

    def draw(self, canvas: Canvas, top: float) -> None:
        if self.view.tax_caption is not None:
            self._draw_tax_summary(canvas, top, self.view.tax_caption)
        y = top + 8.0
        for line in self.totals:
            if line.emphasis:  # the grand total, on a band
                canvas.band(self.TOTALS_LEFT - 2, y - 3.4, RIGHT - self.TOTALS_LEFT + 2, 7.6)
            baseline = y + 1.3 if line.emphasis else y
            canvas.text(self.TOTALS_LEFT, baseline, line.label, line.label_style)
            canvas.text(self.AMOUNT_RIGHT, baseline, line.amount, line.amount_style, "R")
            y += 8.0 if line.emphasis else TOTALS_LINE

    def _draw_tax_summary(self, canvas: Canvas, top: float, caption: str) -> None:
        y = top + 8.0
        canvas.text(LEFT, y, caption, CAPTION)
        y += 5.0
        for left, right, label, align in self.TAX_COLUMNS:
            canvas.text(left if align == "L" else right, y, label, SMALL, align)
        canvas.rule(LEFT, y + 1.4, LEFT + 80, width=0.15)
        y += 5.2
        for cells in self.tax_rows:
            for (left, right, _, align), (value, style) in zip(self.TAX_COLUMNS, cells, strict=True):
                canvas.text(left if align == "L" else right, y, value, style, align)
            y += 4.2


class NotesBlock:
    """Terms and return policy, side by side."""

    WIDTH = (CONTENT_WIDTH - 8) / 2

    def __init__(self, view: InvoiceView, canvas: Canvas) -> None:
        measure = canvas.measure(SMALL)
        self.captions = view.note_captions
        self.terms = wrap(view.terms, self.WIDTH, measure)
        self.returns = wrap(view.return_policy, self.WIDTH, measure)
        self.height = 11.0 + 3.4 * max(len(self.terms), len(self.returns)) + 2.0

    def draw(self, canvas: Canvas, top: float) -> None:
        canvas.rule(LEFT, top + 2.0, RIGHT, width=0.15)
        for x, caption, lines in (
            (LEFT, self.captions[0], self.terms),
            (LEFT + self.WIDTH + 8, self.captions[1], self.returns),
        ):
            canvas.text(x, top + 7.0, caption, CAPTION)
            y = top + 11.0
            for line in lines:
                canvas.text(x, y, line, SMALL)
                y += 3.4


# --- pagination ---------------------------------------------------------------------------------


def plan_pages(view: InvoiceView, canvas: Canvas) -> list[list[tuple[float, Block]]]:
    """Every block with its page and top edge: rows never split, totals and notes kept whole."""
    pages: list[list[tuple[float, Block]]] = [[]]
    y = PAGE_TOP
    header = TableHeader(view.item_columns)
    continuation = ContinuationHeader(view)

    def place(block: Block) -> None:
        nonlocal y
        pages[-1].append((y, block))
        y += block.height

    def new_page() -> None:
        nonlocal y
        pages.append([])
        y = PAGE_TOP
        place(continuation)

    place(FirstPageHeader(view, canvas))
    header_placed = False  # the table header goes with the first row, never alone at a page foot
    for row in view.items:
        block = ItemBlock(row, canvas)
        if y + (0 if header_placed else header.height) + block.height > CONTENT_BOTTOM:
            new_page()
            header_placed = False
        if not header_placed:
            place(header)
            header_placed = True
        place(block)
    for closing in (TotalsBlock(view, canvas), NotesBlock(view, canvas)):
        if y + closing.height > CONTENT_BOTTOM:
            new_page()
        place(closing)
    return pages


def draw_footer(canvas: Canvas, view: InvoiceView, number: int, count: int) -> None:
    canvas.rule(LEFT, FOOTER_RULE, RIGHT, width=0.15)
    canvas.text(LEFT, FOOTER_RULE + 4.5, view.footer, SMALL)
    canvas.text(RIGHT, FOOTER_RULE + 4.5, f"{view.invoice_number} · Page {number} of {count}", SMALL, "R")


def render_pages(pdf: FPDF, view: InvoiceView) -> None:
    canvas = Canvas(pdf, typefaces.regular(), typefaces.bold())
    pages = plan_pages(view, canvas)
    for number, blocks in enumerate(pages, start=1):
        canvas.new_page()
        for top, block in blocks:
            block.draw(canvas, top)
        draw_footer(canvas, view, number, len(pages))
