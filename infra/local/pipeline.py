"""Every function of the stack, wired locally the way the cloud wires them.

Orders stream -> invoice generator; Invoices stream (new OUTBOX# items) -> outbox publisher -> the
bus; InvoiceIssued (customer) and CreditNoteIssued (a customer credit note on its own) -> vendor
invoicer; InvoiceIssued (any) and CreditNoteIssued (a
credit note on its own) -> dispatcher.
`run_until_quiet` keeps delivering until no stage has anything left, so one call takes a batch of
storefront writes all the way to sent emails and texts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.local.event_runner import EventRunner
from infra.local.runtime import LambdaHandler, load_handler
from infra.local.stream_runner import StreamRunner
from infra.resources import OUTBOX_SORT_KEY_PREFIX


def is_new_outbox_entry(record: dict[str, Any]) -> bool:
    """The outbox publisher's event filter: INSERTs whose sort key starts with OUTBOX#."""
    sort_key = record["dynamodb"].get("Keys", {}).get("sk", {}).get("S", "")
    return record["eventName"] == "INSERT" and sort_key.startswith(OUTBOX_SORT_KEY_PREFIX)


def outbox_runner(names: dict[str, str], handler: LambdaHandler | None = None) -> StreamRunner:
    return StreamRunner(
        names["INVOICES_TABLE_NAME"],
        handler or load_handler("outbox_publisher"),
        function_name="outbox-publisher",
        record_filter=is_new_outbox_entry,
    )


@dataclass
class LocalPipeline:
    generator: StreamRunner
    outbox: StreamRunner
    event_stages: list[EventRunner] = field(default_factory=list)

    @classmethod
    def start(cls, names: dict[str, str]) -> LocalPipeline:
        generator = StreamRunner(
            names["ORDERS_TABLE_NAME"],
            load_handler("invoice_generator"),
            on_failure_queue_url=names["GENERATOR_ON_FAILURE_QUEUE_URL"],
        )
        stages = [
            EventRunner(
                names["VENDOR_INVOICER_QUEUE_URL"], load_handler("vendor_invoicer"), "vendor-invoicer"
            ),
            EventRunner(names["DISPATCHER_QUEUE_URL"], load_handler("invoice_dispatcher"), "dispatcher"),
            EventRunner(names["PAYMENT_EVENTS_QUEUE_URL"], load_handler("payment_events"), "payment-events"),
            EventRunner(
                names["RENDITIONS_QUEUE_URL"], load_handler("payment_renditions"), "payment-renditions"
            ),
            EventRunner(names["REPORT_COUNTING_QUEUE_URL"], load_handler("report_counter"), "report-counter"),
        ]
        return cls(generator=generator, outbox=outbox_runner(names), event_stages=stages)

    def run_until_quiet(self, max_rounds: int = 20) -> int:
        """Deliver stream records and events until every stage is idle; returns how many moved."""
        total = 0
        for _ in range(max_rounds):
            moved = self.generator.run_until_quiescent()
            moved += self.outbox.run_until_quiescent()
            for stage in self.event_stages:
                moved += stage.drain()
                moved += self.outbox.run_until_quiescent()
            total += moved
            if not moved:
                break
        return total

    @property
    def dead_letters(self) -> list[str]:
        lost = [f"stream record {s}" for s in self.generator.stats.sent_to_on_failure]
        lost += [f"outbox record {s}" for s in self.outbox.stats.sent_to_on_failure]
        for stage in self.event_stages:
            lost += [
                f"{stage.function_name}: {e.get('detail-type')} {e.get('id')}" for e in stage.dead_letters
            ]
        return lost
