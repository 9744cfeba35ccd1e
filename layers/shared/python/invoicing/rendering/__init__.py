"""Invoice documents as PDF: `pdf.render_invoice_pdf` (fpdf2, embedded DejaVu Sans subset)."""
