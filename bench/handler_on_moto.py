"""The whole generator handler per invoice, on in-process moto: parse, validate, number, render,
store, announce. Times include moto's emulation of DynamoDB, S3 and EventBridge, which is not
AWS latency; they are for comparing versions of our code, not for predicting production."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import statistics
import sys
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3

from bench.cold_start import HANDLER_PATH, handler_environment
from bench.documents import order_item


@dataclass
class FakeLambdaContext:
    function_name: str = "invoice-generator"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:invoice-generator"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass(frozen=True)
class HandlerTiming:
    per_invoice_ms: float
    batches: int
    batch_size: int
    invoices_stored: int


def _load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("invoice_generator_handler_bench", HANDLER_PATH)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {HANDLER_PATH}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def measure(batches: int = 5, batch_size: int = 10, lines: int = 10) -> HandlerTiming:
    from moto import mock_aws

    from infra.local import moto_patches

    moto_patches.apply()  # moto's TransactWriteItems copies whole tables (see its docstring)

    from infra.local.provisioning import provision
    from tests.stream_events import stream_event, stream_record

    saved = dict(os.environ)
    os.environ.update(handler_environment())
    os.environ.update(POWERTOOLS_LOG_LEVEL="WARNING", POWERTOOLS_TRACE_DISABLED="true")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
    try:
        with mock_aws():
            names = provision(prefix="bench")
            os.environ.update(names)
            from invoicing.settings import generator_settings

            generator_settings.cache_clear()
            handler = _load_handler()
            from invoicing.observability import logger

            logger.setLevel("WARNING")  # created before this environment was set (same process)
            template = order_item(lines)

            def batch(number: int) -> dict[str, Any]:
                records = []
                for index in range(batch_size):
                    item = dict(template, order_id=f"ORD-BENCH-{number:03d}-{index:03d}")
                    records.append(stream_record("INSERT", item))
                return stream_event(*records)

            events = [batch(number) for number in range(batches + 1)]
            timings = []
            for number, event in enumerate(events):
                started = time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()):  # the metrics' EMF lines
                    response = handler.lambda_handler(event, FakeLambdaContext())
                elapsed = time.perf_counter() - started
                if response["batchItemFailures"]:
                    raise RuntimeError(f"the handler reported failures: {response['batchItemFailures']}")
                if number:  # the first batch warms the process (fonts, clients, moto)
                    timings.append(elapsed / batch_size)
            listing = boto3.client("s3").list_objects_v2(Bucket=names["INVOICE_BUCKET_NAME"])
            stored = listing.get("KeyCount", 0)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return HandlerTiming(
        per_invoice_ms=statistics.median(timings) * 1000,
        batches=batches,
        batch_size=batch_size,
        invoices_stored=stored,
    )
