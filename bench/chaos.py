"""The chaos run at scale: `make chaos` (10,000 orders) or `.venv/bin/python -m bench.chaos --orders N`.

The same harness as `tests/integration/test_chaos.py` (tests/chaos_harness.py): faults before AWS
calls, crashes right after side effects, redelivered batches and events, sweeps until quiet, then
every invariant checked. `--workers` splits the orders across processes, each with its own embedded
AWS (so each has its own number series, checked on its own); the figures are added up.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from collections import Counter
from typing import Any

ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "chaos",
    "AWS_SECRET_ACCESS_KEY": "chaos",
    "AWS_SESSION_TOKEN": "chaos",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_LOG_LEVEL": "CRITICAL",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "invoicing",
    "POWERTOOLS_METRICS_NAMESPACE": "SayProInvoicing",
    "DOWNLOAD_BASE_URL": "https://invoices.saypro.example",
    "INVOICE_SERIES": "INV",
}


def _world(orders: int, seed: int, worker: int) -> dict[str, Any]:
    """One embedded AWS, provisioned as the stack, and one chaos run over it."""
    import logging

    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(ENVIRONMENT)
    logging.disable(logging.CRITICAL)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the functions' EMF lines; progress goes to stderr
    from moto import mock_aws

    from infra.local import ROOT, moto_patches
    from infra.local.provisioning import provision
    from infra.local.vendors import load_vendors, put_vendors
    from invoicing import settings
    from tests.chaos_harness import ChaosRun, check_invariants, plan_orders

    moto_patches.apply()
    with mock_aws():
        names = provision(prefix=f"chaos{worker}")
        os.environ.update(names)
        for loader in (
            settings.generator_settings,
            settings.dispatcher_settings,
            settings.vendor_invoicer_settings,
            settings.outbox_publisher_settings,
            settings.sweeper_settings,
            settings.webhook_settings,
        ):
            loader.cache_clear()
        put_vendors(names["VENDORS_TABLE_NAME"], load_vendors(ROOT / "events" / "vendors" / "vendors.json"))
        run = ChaosRun(names, seed=seed + worker)
        plan = plan_orders(run.rng, orders)

        def progress(line: str) -> None:
            print(f"[worker {worker}] {line}", file=sys.stderr, flush=True)

        run.run(plan, progress=progress)
        progress("checking every invariant")
        return check_invariants(names, plan, run)


def _add(total: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    for key, value in part.items():
        if isinstance(value, int):
            total[key] = total.get(key, 0) + value
        elif isinstance(value, dict):
            total[key] = dict(Counter(total.get(key, {})) + Counter(value)) if key != "seconds" else value
        else:
            total.setdefault(key, []).append(value)
    return total


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--seed", type=int, default=10_000)
    args = parser.parse_args()
    started = time.perf_counter()
    share = [
        args.orders // args.workers + (1 if i < args.orders % args.workers else 0)
        for i in range(args.workers)
    ]
    print(f"chaos: {args.orders} orders over {args.workers} worker(s), seed {args.seed}", flush=True)
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        results = pool.starmap(_world, [(n, args.seed, i) for i, n in enumerate(share)])
    totals: dict[str, Any] = {}
    for result in results:
        _add(totals, result)
    totals["seconds"] = {"wall clock": round(time.perf_counter() - started, 1)}
    totals["orders per second"] = round(args.orders / (time.perf_counter() - started), 2)
    from tests.chaos_harness import print_figures

    print("every invariant held:")
    print_figures(totals)
    print(json.dumps({"orders": args.orders, "workers": args.workers, "seconds": totals["seconds"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
