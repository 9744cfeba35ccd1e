"""The fpdf2 side of `render_invoice_pdf`: one `FPDF` per invoice, fonts shared by all of them.

Imported on first use by `pdf.py` (fpdf2 takes most of a second to import), or at init through
`pdf.warm_up()`.
"""

from __future__ import annotations

from datetime import datetime

from fpdf import FPDF

from invoicing.domain.credit_note import CreditNoteDocument
from invoicing.domain.invoice import InvoiceDocument
from invoicing.domain.receivables import PaymentStanding
from invoicing.domain.vendor_accounts import VendorStatementDocument
from invoicing.domain.vendor_credit_note import VendorCreditNoteDocument
from invoicing.domain.vendor_invoice import VendorInvoiceDocument
from invoicing.observability import logger
from invoicing.rendering import typeface as typefaces
from invoicing.rendering.credit_note_view import build_credit_note_view
from invoicing.rendering.pages import FONT_KEYS, render_pages
from invoicing.rendering.presentation import InvoiceView, build_view
from invoicing.rendering.vendor_credit_note_view import build_vendor_credit_note_view
from invoicing.rendering.vendor_statement_view import build_vendor_statement_view
from invoicing.rendering.vendor_view import build_vendor_view


def charset() -> frozenset[str]:
    """Characters both invoice faces can print (they are cut to the same coverage)."""
    return typefaces.regular().charset & typefaces.bold().charset


_CHARSET: frozenset[str] | None = None


def _charset() -> frozenset[str]:
    global _CHARSET  # noqa: PLW0603 - computed once per process
    if _CHARSET is None:
        _CHARSET = charset()
    return _CHARSET


def render(document: InvoiceDocument, standing: PaymentStanding | None = None) -> bytes:
    return render_view(build_view(document, _charset(), standing), document.issued_at)


def render_vendor(document: VendorInvoiceDocument) -> bytes:
    return render_view(build_vendor_view(document, _charset()), document.issued_at)


def render_vendor_credit_note(document: VendorCreditNoteDocument) -> bytes:
    return render_view(build_vendor_credit_note_view(document, _charset()), document.issued_at)


def render_credit_note(document: CreditNoteDocument) -> bytes:
    return render_view(build_credit_note_view(document, _charset()), document.issued_at)


def render_vendor_statement(document: VendorStatementDocument) -> bytes:
    return render_view(build_vendor_statement_view(document, _charset()), document.issued_at)


def render_view(view: InvoiceView, issued_at: datetime) -> bytes:
    if view.missing_characters:
        # Code points only: the text they come from (names, addresses) is personal data.
        logger.warning(
            "characters without a glyph printed as U+FFFD",
            invoice_number=view.invoice_number,
            code_points=sorted(f"U+{ord(c):04X}" for c in view.missing_characters),
        )

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.alias_nb_pages("")  # no "{nb}" substitution: the page count is known before drawing
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(f"{view.title} {view.invoice_number}")
    pdf.set_author(view.seller_name)
    pdf.set_creator("SayPro invoicing")
    pdf.set_lang("en")
    # The issue time, not the render time: re-rendering an invoice gives the same bytes.
    pdf.set_creation_date(issued_at)
    typefaces.use_typefaces(pdf, {FONT_KEYS[False]: typefaces.regular(), FONT_KEYS[True]: typefaces.bold()})
    render_pages(pdf, view)
    return bytes(pdf.output(output_producer_class=typefaces.InvoiceOutputProducer))
