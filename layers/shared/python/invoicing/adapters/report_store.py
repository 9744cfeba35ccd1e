"""Reports in the documents bucket, next to the invoices and under the same protection (its KMS
key, versioning, the lifecycle):

    reports/reconciliation/<RECON-yyyy-mm-dd>/findings.csv | ageing.csv
    reports/vendor-statements/<vendor_id>/<STMT-...>.pdf
    reports/operations/<OPS-2026-W48 | OPS-2026-11 | OPS-2026-Q4 | OPS-<start>_<end>>/
        report.pdf | figures.csv | daily.csv | report.json (the report itself, for the console)

A report made again (on demand, or a retried tick) overwrites its key: a new version, same link.
"""

from __future__ import annotations

from typing import Any

import boto3

REPORTS_PREFIX = "reports/"
RECONCILIATION_PREFIX = f"{REPORTS_PREFIX}reconciliation/"
OPERATIONS_PREFIX = f"{REPORTS_PREFIX}operations/"
CSV = "text/csv; charset=utf-8"
PDF = "application/pdf"
JSON = "application/json"


def reconciliation_key(report_id: str, file_name: str) -> str:
    return f"{RECONCILIATION_PREFIX}{report_id}/{file_name}"


def operations_key(report_id: str, file_name: str) -> str:
    return f"{OPERATIONS_PREFIX}{report_id}/{file_name}"


class ReportStore:
    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self._bucket = bucket
        self._client = client or boto3.client("s3")

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            ServerSideEncryption="aws:kms",
        )

    def get(self, key: str) -> bytes | None:
        try:
            body: bytes = self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except self._client.exceptions.NoSuchKey:
            return None
        return body

    def operations_report_ids(self, year: int) -> list[str]:
        """The ids of the operations reports of a year (weeks by ISO year), as stored: one
        delimited listing of a bounded prefix (about 70 reports a year, plus any on demand)."""
        ids: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(
            Bucket=self._bucket, Prefix=f"{OPERATIONS_PREFIX}OPS-{year:04d}", Delimiter="/"
        ):
            ids += [
                entry["Prefix"][len(OPERATIONS_PREFIX) :].rstrip("/")
                for entry in page.get("CommonPrefixes", [])
            ]
        return ids
