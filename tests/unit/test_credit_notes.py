"""Credit notes as figures: never more than what is left, and credits that add up exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from invoicing.domain.credit_note import (
    Creditable,
    CreditReason,
    CreditScope,
    OverCredit,
    credit_tax_lines,
    full_credit,
)
from invoicing.domain.documents import encode_document, parse_document
from invoicing.domain.pricing import TaxLine
from tests.documents import invoice_document

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_a_full_credit_takes_exactly_the_invoice_rate_by_rate() -> None:
    invoice = invoice_document()
    note = full_credit(
        invoice, credit_note_number="CN-2026-000001", issued_at=NOW, reason=CreditReason.CANCELLED
    )
    assert note.scope is CreditScope.FULL
    assert note.totals.grand_total == invoice.totals.grand_total
    assert note.totals.tax_total == invoice.totals.tax_total
    assert [(t.rate, t.net, t.tax) for t in note.tax_lines] == [
        (t.rate, t.net, t.tax) for t in invoice.tax_lines
    ]
    assert note.credits.invoice_number == invoice.invoice_number
    assert note.reason_text == "the order was cancelled after the invoice was issued"
    assert parse_document(encode_document(note)) == note  # a document of record like the others


def test_partial_credits_then_the_rest_add_up_to_the_invoice_to_the_minor_unit() -> None:
    invoice = invoice_document()
    rate = invoice.tax_lines[0].rate
    left = Creditable.of(invoice)
    # Three awkward thirds of one rate's net, each rounded on its own ...
    third = (invoice.tax_lines[0].net / 3).quantize(D("0.01"))
    credited: list[TaxLine] = []
    for _ in range(2):
        credited += credit_tax_lines(invoice.currency, {rate: third}, Creditable.of(invoice, credited))
    rest = full_credit(
        invoice,
        credit_note_number="CN-2026-000003",
        issued_at=NOW,
        reason=CreditReason.REFUNDED,
        credited_before=credited,
    )
    total = sum((t.gross for t in credited), D(0)) + rest.totals.grand_total
    assert total == invoice.totals.grand_total
    tax = sum((t.tax for t in credited), D(0)) + rest.totals.tax_total
    assert tax == invoice.totals.tax_total
    assert left.gross == sum((t.gross for t in invoice.tax_lines), D(0)) == invoice.totals.grand_total
    assert Creditable.of(invoice, [*credited, *rest.tax_lines]).is_exhausted


def test_a_credit_beyond_what_is_left_is_refused() -> None:
    invoice = invoice_document()
    line = invoice.tax_lines[0]
    with pytest.raises(OverCredit):
        credit_tax_lines(invoice.currency, {line.rate: line.net + D("0.01")}, Creditable.of(invoice))
    everything = full_credit(
        invoice, credit_note_number="CN-2026-000001", issued_at=NOW, reason=CreditReason.REFUNDED
    )
    with pytest.raises(OverCredit):
        full_credit(
            invoice,
            credit_note_number="CN-2026-000002",
            issued_at=NOW,
            reason=CreditReason.REFUNDED,
            credited_before=everything.tax_lines,
        )


def test_tax_on_a_part_is_rounded_once_and_never_more_than_is_left() -> None:
    invoice = invoice_document()
    line = invoice.tax_lines[-1]
    [part] = credit_tax_lines(invoice.currency, {line.rate: D("1.00")}, Creditable.of(invoice))
    assert part.tax == (D("1.00") * line.rate).quantize(D("0.01"))
    assert part.tax <= line.tax and part.gross == part.net + part.tax


def test_what_was_credited_is_matched_to_its_rate_however_the_ledger_writes_the_number() -> None:
    """DynamoDB gives 0.20 back as 0.2: the credit must still count against the 0.20 rate, or the
    invoice could be credited twice."""
    invoice = invoice_document()
    everything = full_credit(
        invoice, credit_note_number="CN-2026-000001", issued_at=NOW, reason=CreditReason.REFUNDED
    )
    as_stored = [line.model_copy(update={"rate": line.rate.normalize() + 0}) for line in everything.tax_lines]
    padded = [
        line.model_copy(update={"rate": line.rate.quantize(D("0.0001"))}) for line in everything.tax_lines
    ]
    assert Creditable.of(invoice, as_stored).is_exhausted
    assert Creditable.of(invoice, padded).is_exhausted
