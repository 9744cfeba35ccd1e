"""Every function of the stack, wired locally the way the cloud wires them.

Orders stream -> invoice generator; InvoiceIssued (customer) -> vendor invoicer; InvoiceIssued
(any) -> dispatcher. `run_until_quiet` keeps delivering until no stage has anything left, so one
call takes a batch of storefront writes all the way to sent emails and texts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.local import ROOT
from infra.local.event_runner import EventRunner
from infra.local.runtime import load_handler
from infra.local.stream_runner import StreamRunner


@dataclass
class LocalPipeline:
    generator: StreamRunner
    event_stages: list[EventRunner] = field(default_factory=list)

    @classmethod
    def start(cls, names: dict[str, str]) -> LocalPipeline:
        generator = StreamRunner(
            names["ORDERS_TABLE_NAME"],
            load_handler("invoice_generator"),
            on_failure_queue_url=names["GENERATOR_ON_FAILURE_QUEUE_URL"],
        )
        stages = []
        if (ROOT / "functions" / "vendor_invoicer" / "handler.py").exists():
            stages.append(
                EventRunner(
                    names["VENDOR_INVOICER_QUEUE_URL"], load_handler("vendor_invoicer"), "vendor-invoicer"
                )
            )
        stages.append(
            EventRunner(names["DISPATCHER_QUEUE_URL"], load_handler("invoice_dispatcher"), "dispatcher")
        )
        return cls(generator=generator, event_stages=stages)

    def run_until_quiet(self, max_rounds: int = 10) -> int:
        """Deliver stream records and events until every stage is idle; returns how many moved."""
        total = 0
        for _ in range(max_rounds):
            moved = self.generator.run_until_quiescent()
            for stage in self.event_stages:
                moved += stage.drain()
            total += moved
            if not moved:
                break
        return total

    @property
    def dead_letters(self) -> list[str]:
        lost = [f"stream record {s}" for s in self.generator.stats.sent_to_on_failure]
        for stage in self.event_stages:
            lost += [
                f"{stage.function_name}: {e.get('detail-type')} {e.get('id')}" for e in stage.dead_letters
            ]
        return lost
