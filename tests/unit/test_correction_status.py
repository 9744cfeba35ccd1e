"""Where an invoice stands in its correction chain, as the invoices API shows it."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from invoicing.domain.corrections import CorrectionStatus, correction_status
from invoicing.domain.pricing import TaxLine


def line(rate: str, net: str, tax: str) -> TaxLine:
    return TaxLine(rate=D(rate), net=D(net), tax=D(tax), gross=D(net) + D(tax))


INVOICE = [line("0.23", "100.00", "23.00"), line("0.08", "10.00", "0.80")]


@pytest.mark.parametrize(
    ("credited", "replaced_by", "expected"),
    [
        ([], None, None),
        ([line("0.23", "0.00", "0.00")], None, None),
        (INVOICE, None, CorrectionStatus.CREDITED),
        ([line("0.230", "100.00", "23.00"), line("0.08", "10.00", "0.80")], None, CorrectionStatus.CREDITED),
        (
            [line("0.23", "60.00", "13.80"), line("0.23", "40.00", "9.20"), line("0.08", "10.00", "0.80")],
            None,
            CorrectionStatus.CREDITED,
        ),
        ([line("0.23", "100.00", "23.00")], None, CorrectionStatus.PARTIALLY_CREDITED),
        (
            [line("0.23", "100.00", "22.99"), line("0.08", "10.00", "0.80")],
            None,
            CorrectionStatus.PARTIALLY_CREDITED,
        ),
        ([], "INV-2026-000002", CorrectionStatus.SUPERSEDED),
        (INVOICE, "INV-2026-000002", CorrectionStatus.SUPERSEDED),
    ],
)
def test_the_status_compares_what_was_credited_with_every_rate_of_the_invoice(
    credited: list[TaxLine], replaced_by: str | None, expected: CorrectionStatus | None
) -> None:
    assert correction_status(INVOICE, credited, replaced_by) == expected


def test_the_api_shows_the_status_in_words() -> None:
    assert [s.value for s in CorrectionStatus] == ["superseded", "credited", "partially credited"]
