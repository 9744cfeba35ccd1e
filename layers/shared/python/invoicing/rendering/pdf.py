"""`render_invoice_pdf`: an invoice document as a PDF (A4, embedded Unicode font, multi-page).

fpdf2 and the fonts are loaded on the first render, not at import, so importing the function
stays cheap. A Lambda that would rather pay this during init (or snapshot it with SnapStart)
calls `warm_up()` at module level.
"""

from __future__ import annotations

from invoicing.domain.documents import Document
from invoicing.domain.invoice import InvoiceDocument
from invoicing.domain.vendor_invoice import VendorInvoiceDocument


def render_invoice_pdf(document: InvoiceDocument) -> bytes:
    from invoicing.rendering.fpdf_renderer import render

    return render(document)


def render_vendor_invoice_pdf(document: VendorInvoiceDocument) -> bytes:
    from invoicing.rendering.fpdf_renderer import render_vendor

    return render_vendor(document)


def render_document_pdf(document: Document) -> bytes:
    """Either kind of document, by its kind."""
    if isinstance(document, InvoiceDocument):
        return render_invoice_pdf(document)
    if isinstance(document, VendorInvoiceDocument):
        return render_vendor_invoice_pdf(document)
    raise NotImplementedError("credit note PDFs")


def warm_up() -> None:
    """Import fpdf2 and parse both font faces now (~1 s once per process)."""
    from invoicing.rendering.fpdf_renderer import charset

    charset()
