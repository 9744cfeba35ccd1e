"""The operations report as a PDF people read: the deviations first, every figure against its
target, and the charts (daily volume, time to first send, rejections by code, inquiries by
category). Drawn with fpdf2 as positioned text and filled rectangles, in the invoice typeface."""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF

from invoicing.domain.operations_report import Figure, OperationsReport, Status
from invoicing.rendering import typeface as typefaces
from invoicing.rendering.pages import (
    ACCENT,
    BODY,
    BODY_BOLD,
    CAPTION,
    CONTENT_BOTTOM,
    CONTENT_WIDTH,
    FONT_KEYS,
    LEFT,
    MUTED,
    PAGE_TOP,
    RIGHT,
    SMALL,
    TITLE,
    Canvas,
    Color,
    Style,
)
from invoicing.rendering.text import ellipsize

DEVIATION: Color = (176, 32, 32)
OK: Color = (28, 112, 60)
BAR: Color = (62, 110, 170)
BAR_SECOND: Color = (214, 120, 52)
ROW = 4.6
HEADING = Style(True, 11, ACCENT)
STATUS_STYLES = {
    Status.DEVIATION: Style(True, 8.5, DEVIATION),
    Status.OK: Style(False, 8.5, OK),
    Status.NO_DATA: Style(False, 8.5, MUTED),
    Status.NONE: Style(False, 8.5, MUTED),
}


class _Flow:
    """A cursor down the page that starts a new page when the next block would not fit."""

    def __init__(self, canvas: Canvas, report: OperationsReport) -> None:
        self.canvas = canvas
        self.report = report
        self.y = PAGE_TOP
        self.page = 0

    def need(self, height: float) -> None:
        if self.page == 0 or self.y + height > CONTENT_BOTTOM:
            self.canvas.new_page()
            self.page += 1
            self.y = PAGE_TOP
            if self.page > 1:
                self.canvas.text(LEFT, self.y + 4, f"Operations report {self.report.report_id}", SMALL)
                self.canvas.text(RIGHT, self.y + 4, f"page {self.page}", SMALL, align="R")
                self.y += 10

    def heading(self, text: str) -> None:
        self.need(14)
        self.y += 4
        self.canvas.text(LEFT, self.y + 4, text, HEADING)
        self.y += 7


def _header(flow: _Flow) -> None:
    report, canvas = flow.report, flow.canvas
    flow.need(40)
    canvas.text(LEFT, flow.y + 8, "Operations report", TITLE)
    canvas.text(RIGHT, flow.y + 8, report.report_id, BODY_BOLD, align="R")
    canvas.text(LEFT, flow.y + 16, report.period.title, BODY_BOLD)
    canvas.text(
        LEFT,
        flow.y + 21,
        f"Generated {report.generated_at:%d %b %Y %H:%M} UTC from the invoices issued in the period "
        "and the activity of its days (UTC).",
        SMALL,
    )
    flow.y += 27
    deviations = report.deviations
    flow.heading(f"Deviations from target ({len(deviations)})" if deviations else "All figures on target")
    if not deviations:
        canvas.text(LEFT, flow.y + 3, "Every figure with a target met it in this period.", BODY)
        flow.y += ROW
    for figure in deviations:
        flow.need(ROW)
        canvas.text(LEFT, flow.y + 3, f"{figure.label}: {figure.shown}", STATUS_STYLES[Status.DEVIATION])
        canvas.text(LEFT + 95, flow.y + 3, f"target {figure.target}", BODY)
        flow.y += ROW


def _figures(flow: _Flow, figures: Sequence[Figure]) -> None:
    canvas = flow.canvas
    section = None
    for figure in figures:
        if figure.section != section:
            section = figure.section
            flow.heading(section.capitalize())
            flow.need(ROW)
            for x, label, align in (
                (LEFT, "FIGURE", "L"),
                (LEFT + 120, "VALUE", "R"),
                (LEFT + 150, "TARGET", "R"),
            ):
                canvas.text(x, flow.y + 3, label, CAPTION, align=align)
            canvas.text(RIGHT, flow.y + 3, "STATUS", CAPTION, align="R")
            flow.y += ROW
        flow.need(ROW)
        if len(flow.report.figures) and figures.index(figure) % 2 == 0:
            canvas.band(LEFT - 1, flow.y - 0.2, CONTENT_WIDTH + 2, ROW)
        canvas.text(LEFT, flow.y + 3.2, ellipsize(figure.label, 95, canvas.measure(BODY)), BODY)
        canvas.text(LEFT + 120, flow.y + 3.2, figure.shown, BODY_BOLD, align="R")
        canvas.text(LEFT + 150, flow.y + 3.2, figure.target, BODY, align="R")
        canvas.text(RIGHT, flow.y + 3.2, figure.status.value, STATUS_STYLES[figure.status], align="R")
        flow.y += ROW


def _columns(flow: _Flow, title: str, bars: Sequence[tuple[str, int, int]], legend: tuple[str, str]) -> None:
    """Vertical bars (first value, second value stacked on it), one per label."""
    canvas = flow.canvas
    height, label_room = 48.0, 10.0
    flow.heading(title)
    flow.need(height + label_room + 8)
    top, bottom = flow.y + 4, flow.y + 4 + height
    peak = max([a + b for _, a, b in bars] + [1])
    if len(bars) > 16:  # too many bars to print each one's value: the scale instead
        canvas.text(RIGHT, top - 1, f"highest bar: {peak}", SMALL, align="R")
    canvas.rule(LEFT, bottom, RIGHT)
    slot = CONTENT_WIDTH / max(1, len(bars))
    width = max(0.8, min(12.0, slot * 0.7))
    step = max(1, len(bars) // 16)  # at most ~16 labels under the bars
    for index, (label, first, second) in enumerate(bars):
        x = LEFT + index * slot + (slot - width) / 2
        first_h, second_h = height * first / peak, height * second / peak
        if first_h:
            canvas.band(x, bottom - first_h, width, first_h, BAR)
        if second_h:
            canvas.band(x, bottom - first_h - second_h, width, second_h, BAR_SECOND)
        if index % step == 0:
            canvas.text(x + width / 2, bottom + 4, label, SMALL, align="C")
            if len(bars) <= 16:
                canvas.text(
                    x + width / 2, bottom - first_h - second_h - 1, str(first + second), SMALL, align="C"
                )
    canvas.band(LEFT, bottom + 7, 3, 3, BAR)
    canvas.text(LEFT + 4.5, bottom + 9.5, legend[0], SMALL)
    if legend[1]:
        canvas.band(LEFT + 40, bottom + 7, 3, 3, BAR_SECOND)
        canvas.text(LEFT + 44.5, bottom + 9.5, legend[1], SMALL)
    flow.y = bottom + label_room + 2


def _rows(flow: _Flow, title: str, counts: dict[str, int], empty: str) -> None:
    """Horizontal bars, most common first (the top 12)."""
    canvas = flow.canvas
    flow.heading(title)
    if not counts:
        flow.need(ROW)
        canvas.text(LEFT, flow.y + 3, empty, BODY)
        flow.y += ROW
        return
    peak = max(counts.values())
    for label, count in list(counts.items())[:12]:
        flow.need(ROW + 1)
        canvas.text(LEFT, flow.y + 3.2, ellipsize(label, 55, canvas.measure(BODY)), BODY)
        length = 100 * count / peak
        canvas.band(LEFT + 58, flow.y + 0.6, max(0.5, length), ROW - 1.4, BAR)
        canvas.text(LEFT + 60 + length, flow.y + 3.2, str(count), BODY_BOLD)
        flow.y += ROW + 1
    if len(counts) > 12:
        flow.need(ROW)
        canvas.text(LEFT, flow.y + 3, f"and {len(counts) - 12} more (figures.csv lists every one)", SMALL)
        flow.y += ROW


def render_operations_report_pdf(report: OperationsReport) -> bytes:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(f"Operations report {report.report_id}")
    pdf.set_author("SayPro invoicing")
    pdf.set_creator("SayPro invoicing")
    pdf.set_lang("en")
    pdf.set_creation_date(report.generated_at)
    typefaces.use_typefaces(pdf, {FONT_KEYS[False]: typefaces.regular(), FONT_KEYS[True]: typefaces.bold()})
    flow = _Flow(Canvas(pdf, typefaces.regular(), typefaces.bold()), report)
    _header(flow)
    daily = [(f"{row.day:%d/%m}", row.issued, row.rejected) for row in report.daily]
    _columns(flow, "Daily volume", daily, ("invoices issued", "orders rejected"))
    distribution = [(label, count, 0) for label, count in report.send_distribution]
    if report.not_yet_sent:
        distribution.append(("not sent", 0, report.not_yet_sent))
    _columns(flow, "Time from completion to first send", distribution, ("invoices", "not sent yet"))
    _rows(flow, "Rejections by code", report.rejections_by_code, "No order was rejected in the period.")
    _rows(flow, "Inquiries by category", report.inquiries_by_category, "No inquiry was opened in the period.")
    _figures(flow, report.figures)
    return bytes(pdf.output(output_producer_class=typefaces.InvoiceOutputProducer))
