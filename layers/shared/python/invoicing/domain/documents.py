"""The bytes of a document of record, their SHA-256, and reading them back.

A document is serialized once, when its number is allocated; those exact bytes are what is kept
(in the ledger until stored, then in S3 beside the PDF) and hashed. Amounts are JSON strings
("52.73"), never floats, so reading the bytes back gives the very same Decimals.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from invoicing.domain.credit_note import CreditNoteDocument
from invoicing.domain.invoice import InvoiceDocument
from invoicing.domain.vendor_credit_note import VendorCreditNoteDocument
from invoicing.domain.vendor_invoice import VendorInvoiceDocument

Document = InvoiceDocument | VendorInvoiceDocument | CreditNoteDocument | VendorCreditNoteDocument
_ANY_DOCUMENT: TypeAdapter[Document] = TypeAdapter(
    Annotated[
        InvoiceDocument | VendorInvoiceDocument | CreditNoteDocument | VendorCreditNoteDocument,
        Field(discriminator="kind"),
    ]
)


class DocumentIntegrityError(RuntimeError):
    """Stored bytes that do not hash to the recorded SHA-256: never use them."""


def encode_document(document: Document) -> bytes:
    return document.model_dump_json().encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_document(data: bytes, expected_sha256: str | None = None) -> Document:
    """The document these bytes are; checked against the recorded hash when one is given."""
    if expected_sha256 is not None and sha256_hex(data) != expected_sha256:
        raise DocumentIntegrityError("document bytes do not match their recorded SHA-256")
    return _ANY_DOCUMENT.validate_json(data)


def parse_vendor_invoice(data: bytes, expected_sha256: str | None = None) -> VendorInvoiceDocument:
    document = parse_document(data, expected_sha256)
    if not isinstance(document, VendorInvoiceDocument):
        raise TypeError(f"{document.invoice_number} is not a vendor invoice")
    return document


def parse_invoice(data: bytes, expected_sha256: str | None = None) -> InvoiceDocument:
    document = parse_document(data, expected_sha256)
    if not isinstance(document, InvoiceDocument):
        raise TypeError(f"{document.invoice_number} is not a customer invoice")
    return document


def _plain(value: Any) -> Any:
    """DynamoDB's other types as JSON: numbers as their text, sets sorted, binary as base64."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) if not isinstance(v, str) else v for v in value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if hasattr(value, "value") and isinstance(value.value, (bytes, bytearray)):  # boto3's Binary
        return base64.b64encode(bytes(value.value)).decode()
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


def order_fingerprint(item: Mapping[str, Any]) -> str:
    """SHA-256 of an order item as canonical JSON (sorted keys, numbers as their decimal text).

    The same item always gives the same fingerprint, whichever order DynamoDB returned its map
    keys in; any change to any field gives another.
    """
    canonical = json.dumps(item, default=_plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sha256_hex(canonical.encode())
