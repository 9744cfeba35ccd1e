"""Writes docs/openapi.json, the invoices API's description generated from its code.

.venv/bin/python -m infra.openapi        (a test fails when the committed file is stale)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "openapi.json"


def generate() -> str:
    from infra.local import SHARED_PACKAGE_PATH  # puts the shared package on the path
    from infra.local.runtime import load_handler

    assert SHARED_PACKAGE_PATH.exists()
    # The handler reads its configuration at import; describing it touches no AWS resource.
    for name, value in {
        "INVOICES_TABLE_NAME": "invoices",
        "INVOICE_BUCKET_NAME": "invoice-documents",
        "ORDERS_TABLE_NAME": "orders",
        "LINK_KEYS_SECRET_ID": "link-keys",
        "DOWNLOAD_BASE_URL": "https://invoices.saypro.example",
        "REPORT_COUNTERS_TABLE_NAME": "report-counters",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        os.environ.setdefault(name, value)
    load_handler("invoices_api")
    app = sys.modules["invoices_api_handler"].app
    schema: str = app.get_openapi_json_schema(
        title="SayPro invoices API",
        version="1.0.0",
        description="A customer's or vendor's own invoices, and support's corrections. Identity comes "
        "from the JWT (sub, role: customer, vendor or support).",
    )
    return schema + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(generate(), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
