"""All benchmarks in one run, as a readable table of medians. Offline; about a minute on 2 cores.

    .venv/bin/python -m bench.run            (from the repository root; `make bench` does this)

1. Warm rendering of a 10-line and a 300-line invoice: ours (fpdf2) and the ReportLab
   equivalent in `bench/reportlab_invoice.py`, interleaved in the same process, and the ratio.
   WeasyPrint too when it can be imported.
2. Cold start: importing `functions/invoice_generator/handler.py` in fresh processes, and the
   first render in that process (which loads fpdf2 and the fonts; see `rendering/pdf.py`).
3. The whole handler per invoice on in-process moto.
4. The bounce webhook's signature verification, and one SLA sweep tick as the backlog grows.
5. One correction on in-process moto: the customer's credit note and revised invoice, then the
   vendor reconciliation it calls for (one vendor of three corrected).
6. Payments: a webhook event, a match by amount, the day's reconciliation report.
7. The operations report's data path: counting one announcement, and a month's report as the
   month's invoices grow tenfold, against reading one item per invoice.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from pypdf import PdfReader

from bench.cold_start import ROOT, handler_environment
from bench.documents import invoice_document
from invoicing.domain.invoice import InvoiceDocument

Renderer = Callable[[InvoiceDocument], bytes]


@dataclass(frozen=True)
class RenderResult:
    name: str
    median_ms: float
    pages: int
    size: int


def _time_once(render: Renderer, document: InvoiceDocument) -> float:
    gc.collect()
    started = time.perf_counter()
    render(document)
    return time.perf_counter() - started


def bench_rendering(renderers: dict[str, Renderer], lines: int, rounds: int) -> list[RenderResult]:
    """Median per renderer; one round renders once with each, so drift affects all alike."""
    document = invoice_document(lines)
    outputs = {}
    for name, render in renderers.items():  # warm: fonts registered/parsed, code paths hot
        for _ in range(3):
            outputs[name] = render(document)
    samples: dict[str, list[float]] = {name: [] for name in renderers}
    for _ in range(rounds):
        for name, render in renderers.items():
            samples[name].append(_time_once(render, document))
    return [
        RenderResult(
            name=name,
            median_ms=statistics.median(samples[name]) * 1000,
            pages=len(PdfReader(io.BytesIO(outputs[name])).pages),
            size=len(outputs[name]),
        )
        for name in renderers
    ]


def _renderers() -> tuple[dict[str, Renderer], str]:
    from bench.reportlab_invoice import render_reportlab
    from invoicing.rendering.pdf import render_invoice_pdf

    renderers: dict[str, Renderer] = {"ours (fpdf2)": render_invoice_pdf, "ReportLab": render_reportlab}
    try:
        import weasyprint  # type: ignore[import-not-found]  # noqa: F401
    except Exception as error:
        return renderers, f"WeasyPrint skipped: `import weasyprint` failed ({type(error).__name__}: {error})"
    return renderers, "WeasyPrint is importable, but no WeasyPrint equivalent is written yet: skipped"


def bench_cold_start(runs: int) -> tuple[list[float], list[float], list[tuple[str, float]]]:
    env = handler_environment()
    imports, first_renders = [], []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-m", "bench.cold_start"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        imports.append(figures["import_ms"])
        first_renders.append(figures["first_render_ms"])
    return imports, first_renders, _largest_imports(env)


def _largest_imports(env: dict[str, str], top: int = 6) -> list[tuple[str, float]]:
    """Where the import time goes: each module's own time, summed by top-level package.

    From one `-X importtime` run (which itself slows imports down a little); the figures do
    not overlap, so they add up to the whole import.
    """
    script = (
        "import importlib.util, sys\n"
        "from bench.cold_start import HANDLER_PATH\n"
        "spec = importlib.util.spec_from_file_location('h', HANDLER_PATH)\n"
        "module = importlib.util.module_from_spec(spec); sys.modules['h'] = module\n"
        "spec.loader.exec_module(module)\n"
    )
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    packages: dict[str, float] = {}
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s+([\w.]+)$", line)
        if match:
            package = match.group(2).split(".")[0]
            packages[package] = packages.get(package, 0.0) + int(match.group(1)) / 1000
    return sorted(packages.items(), key=lambda item: -item[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description="Rendering, cold-start and handler benchmarks.")
    parser.add_argument(
        "--rounds", type=int, default=40, help="renders of the 10-line invoice (the 300-line one: half)"
    )
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh processes for the import time")
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--skip-handler", action="store_true")
    parser.add_argument("--skip-sla", action="store_true", help="skip the webhook and sweep benchmarks")
    parser.add_argument("--skip-corrections", action="store_true", help="skip the corrections benchmark")
    parser.add_argument("--skip-reports", action="store_true", help="skip the operations report benchmark")
    args = parser.parse_args()
    started = time.perf_counter()

    renderers, weasy_note = _renderers()
    print(f"Invoice rendering, warm process (median of interleaved runs; Python {sys.version.split()[0]})")
    print(f"  {'':18}{'renderer':<16}{'median':>10}{'ours/other':>12}{'pages':>7}{'size':>10}")
    for lines, rounds in ((10, args.rounds), (300, max(5, args.rounds // 2))):
        results = bench_rendering(renderers, lines, rounds)
        ours = results[0]
        for result in results:
            ratio = "" if result is ours else f"{ours.median_ms / result.median_ms:.2f}"
            label = f"{lines}-line ({rounds}x)" if result is ours else ""
            print(
                f"  {label:<18}{result.name:<16}{result.median_ms:>8.1f} ms{ratio:>12}"
                f"{result.pages:>7}{result.size / 1024:>7.0f} KB"
            )
    print(f"  {weasy_note}")

    if not args.skip_cold:
        imports, first, largest = bench_cold_start(args.cold_runs)
        print(f"\nCold start, fresh process (median of {args.cold_runs}; target import <= 800 ms)")
        print(f"  import functions/invoice_generator/handler.py   {statistics.median(imports):>7.0f} ms")
        print(f"  then the first render (fpdf2 + fonts + render)  {statistics.median(first):>7.0f} ms")
        heaviest = ", ".join(f"{name} {ms:.0f} ms" for name, ms in largest)
        print(f"  import time by package (own time of its modules): {heaviest}")

    if not args.skip_handler:
        from bench.handler_on_moto import measure

        timing = measure()
        print(
            f"\nGenerator handler on in-process moto ({timing.batch_size}-record stream batches of "
            f"10-line orders, median of {timing.batches} batches after a warm-up batch)"
        )
        print(f"  per invoice   {timing.per_invoice_ms:>7.1f} ms   ({timing.invoices_stored} PDFs stored)")

    if not args.skip_sla:
        from bench.sla_on_moto import sweep_timing, verify_timing

        verify = verify_timing()
        print("\nBounce webhook: verifying one SNS message (RSA-2048, certificate cached; median)")
        print(f"  SignatureVersion 1 (SHA1)   {verify['1']:>7.0f} us")
        print(f"  SignatureVersion 2 (SHA256) {verify['2']:>7.0f} us")
        ticks = sweep_timing()
        print(
            f"\nSLA sweep, one tick on in-process moto, {ticks[0].orders_in_table} orders in the Orders "
            "table (each undelivered invoice re-driven once)"
        )
        print(f"  {'backlog':>9}{'tick':>11}{'DynamoDB requests':>20}{'Orders table requests':>24}")
        for tick in ticks:
            print(
                f"  {tick.backlog:>9}{tick.tick_ms:>8.0f} ms{tick.dynamodb_requests:>20}"
                f"{tick.orders_requests:>24}"
            )

    if not args.skip_corrections:
        from bench.corrections_on_moto import measure as measure_corrections

        corrections = measure_corrections()
        print(
            f"\nA price correction on in-process moto (median of {corrections.orders} orders of three "
            "vendors, one vendor's line repriced; PDFs rendered and stored)"
        )
        print(f"  customer: credit note + revised invoice       {corrections.customer_ms:>7.0f} ms")
        print(
            f"  vendors: reconciled, one credited and revised  {corrections.vendors_ms:>7.0f} ms   "
            f"({corrections.vendor_requests} DynamoDB requests)"
        )

    from bench.payments_on_moto import measure as measure_payments

    payments = measure_payments()
    print(f"\nPayments on in-process moto (median of {payments.invoices} bank-transfer invoices)")
    print(
        f"  webhook: signature, match by invoice number, apply   {payments.webhook_ms:>6.1f} ms   "
        f"({payments.requests_per_event} DynamoDB requests)"
    )
    print(f"  payment service: match by amount among open invoices {payments.by_amount_ms:>6.1f} ms")
    print(
        f"  the day's reconciliation report ({payments.report_events} events)     "
        f"{payments.report_ms:>6.0f} ms   ({payments.report_requests} DynamoDB requests)"
    )

    if not args.skip_reports:
        from bench.reports_on_moto import measure as measure_reports

        scales = measure_reports()
        print(
            "\nOperations report on in-process moto: a 30-day month of invoices (issued, sent, "
            "delivered), 8 counter shards"
        )
        print(
            f"  {'invoices':>9}{'count one event':>17}{'requests':>10}{'month report':>14}{'requests':>10}"
            f"{'one read per invoice':>22}{'requests':>10}"
        )
        for scale in scales:
            print(
                f"  {scale.invoices:>9}{scale.count_ms:>14.1f} ms{scale.count_requests:>10.1f}"
                f"{scale.report_ms:>11.0f} ms{scale.report_requests:>10}"
                f"{scale.per_invoice_ms:>19.0f} ms{scale.per_invoice_requests:>10}"
            )

    print(f"\n(bench took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
