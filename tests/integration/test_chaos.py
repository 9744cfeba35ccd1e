"""Chaos on embedded AWS: faults at every AWS call that matters, crashes right after side effects,
redelivered batches and events, then sweeps until quiet. Every guarantee of issue 8 must hold.

`CHAOS_ORDERS` sets the size (default 60 here; `make chaos` runs 10,000 as a benchmark).
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from infra.local.pipeline import LocalPipeline
from tests.chaos_harness import ChaosRun, check_invariants, plan_orders, print_figures

ORDERS = int(os.environ.get("CHAOS_ORDERS", "60"))


@pytest.mark.parametrize("seed", [8])
def test_nothing_is_lost_duplicated_or_stranded_under_faults_crashes_and_redelivery(
    aws: dict[str, str], pipeline: LocalPipeline, seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    del pipeline  # its fixture wrote the vendors and loaded the settings; the run wires its own
    run = ChaosRun(aws, seed=seed)
    plan = plan_orders(run.rng, ORDERS)
    run.run(plan)
    figures: dict[str, Any] = check_invariants(aws, plan, run)
    assert sum(figures["crashes after side effects"].values()) > 0  # the chaos really happened
    assert sum(figures["faults injected before calls"].values()) > 0
    with capsys.disabled():
        print(f"\nchaos run, {ORDERS} orders, seed {seed}:")
        print_figures(figures)
