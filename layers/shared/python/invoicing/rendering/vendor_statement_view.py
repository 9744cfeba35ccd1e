"""What a vendor statement prints: the month's entries with the running balance, and the totals."""

from __future__ import annotations

from decimal import Decimal

from invoicing.domain.money import format_amount, format_money
from invoicing.domain.vendor_accounts import EntryKind, StatementLine, VendorStatementDocument
from invoicing.rendering.presentation import InvoiceView, ItemRow, TotalRow, _Cleaner, format_date
from invoicing.rendering.vendor_view import vendor_parties

_ENTRY_WORDS = {
    EntryKind.VENDOR_INVOICE: "Vendor invoice",
    EntryKind.VENDOR_CREDIT_NOTE: "Vendor credit note",
    EntryKind.PAYOUT: "Payout",
}


def _row(index: int, line: StatementLine, currency: str, clean: _Cleaner) -> ItemRow:
    entry = line.entry

    def amount(value: Decimal) -> str:
        return format_amount(value, currency)

    what = f"{_ENTRY_WORDS[entry.kind]} {entry.reference}"
    if entry.order_id:
        what += f", order {entry.order_id}"
    if entry.note:
        what += f" ({entry.note})"
    return ItemRow(
        number=str(index),
        description=clean(what),
        sku="",
        quantity="",
        unit_price=amount(entry.amount) if entry.amount > 0 else "",
        tax_rate="",
        discount=amount(entry.amount) if entry.amount < 0 else "",
        line_total=amount(line.balance),
        caption=format_date(entry.at),
    )


def build_vendor_statement_view(document: VendorStatementDocument, charset: frozenset[str]) -> InvoiceView:
    clean = _Cleaner(charset)
    vendor, seller, currency = document.vendor, document.seller, document.currency

    def money(value: Decimal) -> str:
        return format_money(value, currency)

    period = f"{format_date(document.period_start)} to {format_date(document.period_end)}"
    owed = document.closing_balance
    closing_words = "Owed to you" if owed >= 0 else "Owed by you (paid beyond what was owed)"
    return InvoiceView(
        title="Vendor statement",
        invoice_number=clean(document.statement_id),
        currency=currency,
        meta=[
            ("Statement", clean(document.statement_id)),
            ("Period", period),
            ("Issue date", format_date(document.issued_at)),
            ("Vendor", clean(vendor.vendor_id)),
            ("Currency", currency),
        ],
        **vendor_parties(seller, vendor, clean),
        payment_lines=[("Terms", clean(vendor.payment_terms)), ("Balance", money(owed))],
        shipping_lines=[
            ("From", format_date(document.period_start)),
            ("To", format_date(document.period_end)),
            ("Entries", str(len(document.lines))),
        ],
        tax_basis_note=f"All amounts in {currency}. Each vendor invoice adds what it owes you (gross "
        "sales less commission); each credit note and payout takes off what it says.",
        items=[_row(i, line, currency, clean) for i, line in enumerate(document.lines, start=1)],
        tax_rows=[],
        totals=[
            TotalRow("Opening balance", format_amount(document.opening_balance, currency)),
            TotalRow("Vendor invoices", format_amount(document.invoiced, currency)),
            TotalRow("Credit notes", format_amount(-document.credited, currency)),
            TotalRow("Payouts", format_amount(-document.paid_out, currency)),
            TotalRow(closing_words, money(owed), True),
        ],
        terms=clean(
            f"Payment terms: {vendor.payment_terms} Payouts are made to the bank account on file; "
            f"questions to {seller.email}, quoting {document.statement_id}."
        ),
        return_policy=clean(
            "This statement lists every vendor invoice, vendor credit note and payout of the period "
            "on your account with the marketplace, from the documents of record; the opening balance "
            "is everything before it."
        ),
        footer=clean(f"{seller.name} · {seller.tax_id} · {seller.website}"),
        missing_characters=clean.missing,
        block_captions=("VENDOR", "YOUR ACCOUNT", "PERIOD"),
        note_captions=("TERMS", "ABOUT THIS STATEMENT"),
        item_columns=("#", "Entry", "", "Owed to you", "", "Taken off", "Balance"),
        tax_caption=None,
    )
