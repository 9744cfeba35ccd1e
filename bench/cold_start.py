"""Runs in a fresh process: import the generator handler, then render a first invoice.

Prints one JSON line: {"import_ms": ..., "first_render_ms": ...}. `bench.run` starts it with the
environment the handler reads at import (see `handler_environment`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HANDLER_PATH = ROOT / "functions" / "invoice_generator" / "handler.py"


def handler_environment() -> dict[str, str]:
    """What a deployed function has: its resource names, region, service name, credentials."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "POWERTOOLS_")) and key not in ("PYTHONPATH",)
    }
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT / "layers" / "shared" / "python"), str(ROOT)]),
        INVOICES_TABLE_NAME="bench-invoices",
        INVOICE_BUCKET_NAME="bench-invoice-documents",
        AWS_DEFAULT_REGION="eu-west-1",
        POWERTOOLS_SERVICE_NAME="invoicing",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
    )
    return env


def main() -> None:
    started = time.perf_counter()
    spec = importlib.util.spec_from_file_location("invoice_generator_handler", HANDLER_PATH)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {HANDLER_PATH}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    imported = time.perf_counter()

    from bench.documents import invoice_document

    document = invoice_document(10)
    before_render = time.perf_counter()
    module.render_document_pdf(document)
    rendered = time.perf_counter()
    print(
        json.dumps(
            {"import_ms": (imported - started) * 1000, "first_render_ms": (rendered - before_render) * 1000}
        )
    )


if __name__ == "__main__":
    main()
