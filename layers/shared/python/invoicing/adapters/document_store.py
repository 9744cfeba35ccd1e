"""Invoice PDFs in S3: a stable key per invoice, with metadata to check them by.

Encryption is the bucket's default (its KMS key), so no request can store a PDF unencrypted.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import boto3
from pydantic import BaseModel, ConfigDict

from invoicing.domain.invoice import InvoiceKind
from invoicing.domain.numbering import InvoiceNumber

PDF_PREFIX = "invoices/"


class StoredDocument(BaseModel):
    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str
    version_id: str | None
    sha256: str
    size: int


def invoice_key(number: str, kind: InvoiceKind = InvoiceKind.CUSTOMER) -> str:
    """invoices/customer/2026/INV-2026-000042.pdf: stable, so a retry overwrites, never adds."""
    year = InvoiceNumber.parse(number).year
    return f"{PDF_PREFIX}{kind.value.lower()}/{year}/{number}.pdf"


class DocumentStore:
    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self._bucket = bucket
        self._client = client or boto3.client("s3")

    @property
    def bucket(self) -> str:
        return self._bucket

    def put_invoice_pdf(
        self, number: str, order_id: str, pdf: bytes, kind: InvoiceKind = InvoiceKind.CUSTOMER
    ) -> StoredDocument:
        digest = hashlib.sha256(pdf)
        key = invoice_key(number, kind)
        response = self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=pdf,
            ContentType="application/pdf",
            ContentDisposition=f'inline; filename="{number}.pdf"',
            # S3 verifies the upload against this checksum and rejects a corrupted body.
            ChecksumSHA256=base64.b64encode(digest.digest()).decode(),
            Metadata={
                "invoice-number": number,
                "order-id": order_id,
                "sha256": digest.hexdigest(),
                "kind": kind.value,
            },
        )
        return StoredDocument(
            bucket=self._bucket,
            key=key,
            version_id=response.get("VersionId"),
            sha256=digest.hexdigest(),
            size=len(pdf),
        )

    def get_pdf(self, key: str, version_id: str | None = None) -> bytes:
        extra = {"VersionId": version_id} if version_id else {}
        body: bytes = self._client.get_object(Bucket=self._bucket, Key=key, **extra)["Body"].read()
        return body
