"""Opening an invoice from a link: the party a token must be for is read from the record."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from invoicing.adapters.invoice_ledger import InvoiceRecord
from invoicing.domain.invoice import InvoiceKind, InvoiceStatus
from invoicing.domain.links import Keyring, sign_link, sign_link_v1
from invoicing.services.invoice_access import AccessDenied, InvoiceAccess, owner

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
RING = Keyring(current="k1", keys={"k1": base64.b64encode(b"k" * 32).decode()})


def record(kind: InvoiceKind, **overrides: Any) -> InvoiceRecord:
    fields: dict[str, Any] = {
        "kind": kind,
        "order_id": "ORD-1",
        "customer_name": "Zoë",
        "currency": "EUR",
        "net_total": Decimal("10"),
        "tax_total": Decimal("2"),
        "grand_total": Decimal("12"),
        "payment_status": "CAPTURED",
        "invoice_number": "INV-2026-000001",
        "status": InvoiceStatus.ISSUED,
        "issued_at": NOW,
        "document_sha256": "0" * 64,
        "s3_key": "invoices/INV-2026-000001.pdf",
        "s3_version_id": "v",
    }
    if kind is InvoiceKind.VENDOR:
        fields["vendor_id"] = "VEND-1"
    else:
        fields["customer_id"] = "CUST-1"
    fields.update(overrides)
    return InvoiceRecord(**fields)


class Fakes:
    def __init__(self, rec: InvoiceRecord | None) -> None:
        self.rec = rec
        self.reads = 0
        self.downloads: list[tuple[str, str]] = []

    def get_invoice(self, number: str) -> InvoiceRecord | None:
        self.reads += 1
        return self.rec if self.rec and self.rec.invoice_number == number else None

    def keyring(self) -> Keyring:
        return RING

    def presigned_pdf(self, key: str, version: str | None, name: str) -> str:
        return f"https://s3.example/{key}?versionId={version}"

    def access(self) -> InvoiceAccess:
        return InvoiceAccess(
            ledger=self,  # type: ignore[arg-type]
            keys=self,  # type: ignore[arg-type]
            links=self,  # type: ignore[arg-type]
            record_download=lambda number, party, when: self.downloads.append((number, party)),
            clock=lambda: NOW,
        )


@pytest.mark.parametrize("sign", [sign_link, sign_link_v1])
@pytest.mark.parametrize(
    ("kind", "party", "other"),
    [(InvoiceKind.CUSTOMER, "CUST-1", "VEND-1"), (InvoiceKind.VENDOR, "VEND-1", "CUST-1")],
)
def test_a_link_opens_the_invoice_for_its_own_party_only(
    sign: Any, kind: InvoiceKind, party: str, other: str
) -> None:
    fakes = Fakes(record(kind, customer_id="CUST-1", vendor_id="VEND-1"))
    assert owner(fakes.rec) == party  # type: ignore[arg-type]
    url = fakes.access().open_with_token(
        "INV-2026-000001", sign(RING, "INV-2026-000001", party, NOW, timedelta(days=1))
    )
    assert url.startswith("https://s3.example/invoices/")
    assert fakes.downloads == [("INV-2026-000001", party)]
    with pytest.raises(AccessDenied):  # the record's other id is not the invoice's party
        fakes.access().open_with_token(
            "INV-2026-000001", sign(RING, "INV-2026-000001", other, NOW, timedelta(days=1))
        )


@pytest.mark.parametrize(
    "rec",
    [
        None,
        record(InvoiceKind.CUSTOMER, status=InvoiceStatus.STORED),
        record(InvoiceKind.CUSTOMER, customer_id=None),
        record(InvoiceKind.VENDOR, vendor_id=None, customer_id="CUST-1"),
        record(InvoiceKind.CUSTOMER, s3_key=None),
    ],
)
def test_no_issued_invoice_with_its_party_and_pdf_no_download(rec: InvoiceRecord | None) -> None:
    fakes = Fakes(rec)
    token = sign_link(RING, "INV-2026-000001", "CUST-1", NOW, timedelta(days=1))
    with pytest.raises(AccessDenied):
        fakes.access().open_with_token("INV-2026-000001", token)
    assert fakes.downloads == []


@pytest.mark.parametrize("token", ["", "garbage", "v2.k1.tv8q0w.é", "v2.k9.tv8q0w." + "A" * 22, "x" * 5000])
def test_a_token_not_shaped_like_ours_is_refused_before_the_record_is_read(token: str) -> None:
    fakes = Fakes(record(InvoiceKind.CUSTOMER))
    with pytest.raises(AccessDenied):
        fakes.access().open_with_token("INV-2026-000001", token)
    assert fakes.reads == 0


@pytest.mark.parametrize(
    "number",
    ["", "INV-2026-000001\n", "INV-2026-" + "0" * 3000, "INV-2026-00000١", "inv-2026-000001", "INV.2026"],
)
def test_a_path_that_is_no_invoice_number_is_refused_before_the_record_is_read(number: str) -> None:
    fakes = Fakes(record(InvoiceKind.CUSTOMER))
    token = sign_link_v1(RING, number, "CUST-1", NOW, timedelta(days=1))
    with pytest.raises(AccessDenied):
        fakes.access().open_with_token(number, token)
    assert fakes.reads == 0
