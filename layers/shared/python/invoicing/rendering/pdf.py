"""`render_document_pdf`: an invoice, vendor invoice or credit note as a PDF (A4, embedded fonts).

One renderer for every document of record (`render_invoice_pdf`, `render_vendor_invoice_pdf`,
`render_credit_note_pdf`, and vendor credit notes), multi-page.

fpdf2 and the fonts are loaded on the first render, not at import, so importing the function
stays cheap. A Lambda that would rather pay this during init (or snapshot it with SnapStart)
calls `warm_up()` at module level.
"""

from __future__ import annotations

from invoicing.domain.credit_note import CreditNoteDocument
from invoicing.domain.documents import Document
from invoicing.domain.invoice import InvoiceDocument
from invoicing.domain.receivables import PaymentStanding
from invoicing.domain.vendor_accounts import VendorStatementDocument
from invoicing.domain.vendor_credit_note import VendorCreditNoteDocument
from invoicing.domain.vendor_invoice import VendorInvoiceDocument


def render_invoice_pdf(document: InvoiceDocument, standing: PaymentStanding | None = None) -> bytes:
    """The invoice as issued; with a `standing`, a later rendition saying what has been paid."""
    from invoicing.rendering.fpdf_renderer import render

    return render(document, standing)


def render_vendor_invoice_pdf(document: VendorInvoiceDocument) -> bytes:
    from invoicing.rendering.fpdf_renderer import render_vendor

    return render_vendor(document)


def render_credit_note_pdf(document: CreditNoteDocument) -> bytes:
    from invoicing.rendering.fpdf_renderer import render_credit_note

    return render_credit_note(document)


def render_vendor_statement_pdf(document: VendorStatementDocument) -> bytes:
    from invoicing.rendering.fpdf_renderer import render_vendor_statement

    return render_vendor_statement(document)


def render_document_pdf(document: Document) -> bytes:
    """Any document of record, by its kind."""
    if isinstance(document, InvoiceDocument):
        return render_invoice_pdf(document)
    if isinstance(document, CreditNoteDocument):
        return render_credit_note_pdf(document)
    if isinstance(document, VendorCreditNoteDocument):
        from invoicing.rendering.fpdf_renderer import render_vendor_credit_note

        return render_vendor_credit_note(document)
    return render_vendor_invoice_pdf(document)


def warm_up() -> None:
    """Import fpdf2 and parse both font faces now (~1 s once per process)."""
    from invoicing.rendering.fpdf_renderer import charset

    charset()
