"""The credit note PDF (read back with pypdf), and the revised invoice that names the one it replaces."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import pytest
from pypdf import PdfReader

from invoicing.domain.credit_note import REASON_WORDS, CreditNoteDocument, CreditReason, full_credit
from invoicing.domain.invoice import InvoiceDocument
from invoicing.domain.money import format_amount, format_money
from invoicing.rendering.credit_note_view import build_credit_note_view
from invoicing.rendering.fpdf_renderer import charset
from invoicing.rendering.pdf import render_credit_note_pdf, render_document_pdf, render_invoice_pdf
from invoicing.rendering.presentation import format_rate
from tests.conftest import make_order
from tests.documents import invoice_document

CREDITED_AT = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)


def lines_of(pdf: bytes) -> list[str]:
    return [
        line.strip() for page in PdfReader(io.BytesIO(pdf)).pages for line in page.extract_text().splitlines()
    ]


def credit(invoice: InvoiceDocument, **overrides: Any) -> CreditNoteDocument:
    arguments: dict[str, Any] = {
        "credit_note_number": "CN-2026-000007",
        "issued_at": CREDITED_AT,
        "reason": CreditReason.CANCELLED,
        **overrides,
    }
    return full_credit(invoice, **arguments)


@pytest.fixture(scope="module")
def invoice() -> InvoiceDocument:
    return invoice_document("INV-2026-000042")


@pytest.fixture(scope="module")
def credit_note_lines(invoice: InvoiceDocument) -> list[str]:
    return lines_of(render_document_pdf(credit(invoice)))


def test_the_header_names_the_credit_note_and_the_invoice_it_credits(credit_note_lines: list[str]) -> None:
    lines = credit_note_lines
    assert "CREDIT NOTE" in lines
    assert "Credit note number CN-2026-000007" in lines
    assert "Date 3 Dec 2026" in lines
    assert "Credits invoice INV-2026-000042" in lines
    assert "Invoice date 21 Nov 2026" in lines
    assert "Order number ORD-1001" in lines
    assert "CN-2026-000007 · Page 1 of 1" in " ".join(lines)
    assert not any(line.startswith(("Invoice number", "Payment status")) for line in lines)


def test_the_reason_is_printed_whole_even_when_it_wraps(credit_note_lines: list[str]) -> None:
    text = " ".join(credit_note_lines)
    assert f"Reason {REASON_WORDS[CreditReason.CANCELLED]}" in text


def test_the_customer_is_billed_as_on_the_invoice(credit_note_lines: list[str]) -> None:
    lines = credit_note_lines
    assert "BILL TO CREDITED INVOICE CREDIT" in lines
    for line in ("Zoë Łukasiewicz", "ul. Długa 1", "31-147 Kraków", "PL"):
        assert line in lines


def test_the_credited_lines_tax_per_rate_and_totals_add_up_to_the_invoice(
    invoice: InvoiceDocument, credit_note_lines: list[str]
) -> None:
    lines = credit_note_lines
    # Line totals after every discount (line and share of the order's): 18.00 + 22.50 + 5.00 shipping.
    assert "1 Pan Tadeusz (hardcover) 2 10.00 5% -2.00 18.00" in lines
    assert "2 Desk lamp 1 30.00 23% -7.50 22.50" in lines
    assert "Shipping (Courier) 5.00" in lines
    currency = invoice.currency
    for tax in invoice.tax_lines:
        row = " ".join(format_amount(value, currency) for value in (tax.net, tax.tax, tax.gross))
        assert f"{format_rate(tax.rate)} {row}" in lines
    assert "5% 18.00 0.90 18.90" in lines
    assert "23% 27.50 6.33 33.83" in lines
    assert f"Net credited {format_money(invoice.totals.net_total, currency)}" in lines
    assert f"Tax credited {format_money(invoice.totals.tax_total, currency)}" in lines
    # Formatted exactly as the invoice prints its grand total.
    grand_total = format_money(invoice.totals.grand_total, currency)
    assert f"Grand total {grand_total}" in lines_of(render_invoice_pdf(invoice))
    assert f"Total credited {grand_total}" in lines
    assert "Total credited 52.73 EUR" in lines
    assert not any("-52.73" in line or "-7.23" in line for line in lines)


def test_a_credit_without_a_revised_invoice_cancels_the_invoice_in_full(credit_note_lines: list[str]) -> None:
    text = " ".join(credit_note_lines)
    assert "This credit note cancels invoice INV-2026-000042 in full." in text
    assert "replaced by" not in text


def test_a_credit_with_a_revised_invoice_says_which_invoice_replaces_it(invoice: InvoiceDocument) -> None:
    note = credit(invoice, reason=CreditReason.ORDER_CHANGED, replaced_by="INV-2026-000043")
    lines = lines_of(render_credit_note_pdf(note))
    text = " ".join(lines)
    assert (
        "This credit note cancels invoice INV-2026-000042; it is replaced by invoice INV-2026-000043." in text
    )
    assert "in full" not in text
    assert f"Reason {REASON_WORDS[CreditReason.ORDER_CHANGED]}" in text
    assert "Revised by INV-2026-000043" in lines


def test_the_remainder_of_a_partly_credited_invoice_is_a_credit_in_part(invoice: InvoiceDocument) -> None:
    first = invoice.tax_lines[0]
    note = credit(invoice, credited_before=[first], reason_text="Goodwill after a late delivery")
    lines = lines_of(render_credit_note_pdf(note))
    text = " ".join(lines)
    assert "This credit note cancels invoice INV-2026-000042 in part." in text
    assert "Reason Goodwill after a late delivery" in lines
    assert "Total credited 33.83 EUR" in lines  # what was left: the 23 % rate
    assert not any(line.startswith("5% ") for line in lines)


def test_a_yen_credit_note_has_no_decimals() -> None:
    invoice = invoice_document(
        currency="JPY",
        items=[
            {
                "sku": "TEA-1",
                "description": "Sencha",
                "quantity": 3,
                "unit_price": D(1500),
                "tax_rate": D("0.08"),
                "vendor_id": "V1",
            }
        ],
        order_discounts=[],
        shipping=None,
        payment={**make_order()["payment"], "amount_captured": D(4860)},
    )
    lines = lines_of(render_credit_note_pdf(credit(invoice)))
    assert "8% 4,500 360 4,860" in lines
    assert "Total credited 4,860 JPY" in lines
    assert "Shipping Not credited" in lines


@pytest.mark.parametrize(
    "name",
    ["Αλέξανδρος Παπαδόπουλος", "Пётр Чайковский", "Nguyễn Thị Minh Khai"],
    ids=["greek", "cyrillic", "vi"],
)
def test_a_non_latin_customer_name_prints_on_the_credit_note(name: str) -> None:
    invoice = invoice_document(customer={**make_order()["customer"], "name": name})
    note = credit(invoice)
    assert build_credit_note_view(note, charset()).missing_characters == set()
    assert name in lines_of(render_credit_note_pdf(note))


def test_a_character_without_a_glyph_prints_as_a_replacement_on_the_credit_note() -> None:
    invoice = invoice_document(customer={**make_order()["customer"], "name": "山田太郎 (Yamada)"})
    note = credit(invoice)
    assert build_credit_note_view(note, charset()).missing_characters == set("山田太郎")
    assert "\ufffd\ufffd\ufffd\ufffd (Yamada)" in lines_of(render_credit_note_pdf(note))


def test_rendering_a_credit_note_twice_gives_the_same_bytes(invoice: InvoiceDocument) -> None:
    assert render_credit_note_pdf(credit(invoice)) == render_credit_note_pdf(credit(invoice))


# --- the revised invoice ------------------------------------------------------------------------


def test_a_revised_invoice_names_the_invoice_it_replaces_and_stays_an_invoice() -> None:
    revised = invoice_document("INV-2026-000043").model_copy(update={"replaces": "INV-2026-000042"})
    lines = lines_of(render_document_pdf(revised))
    assert "INVOICE" in lines
    assert "Invoice number INV-2026-000043" in lines
    assert "Replaces invoice INV-2026-000042" in lines
    assert lines.index("Invoice number INV-2026-000043") < lines.index("Replaces invoice INV-2026-000042")


def test_an_invoice_replacing_none_says_nothing_about_it(invoice: InvoiceDocument) -> None:
    assert invoice.replaces is None
    assert not any("Replaces" in line for line in lines_of(render_invoice_pdf(invoice)))
