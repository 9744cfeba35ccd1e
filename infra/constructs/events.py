"""The invoicing event bus, with an archive so any event can be replayed to a new consumer."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.resources import EVENT_SOURCE


class InvoicingBus(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=f"{config.resource_prefix}-bus")
        self.bus.archive(
            "Archive",
            archive_name=f"{config.resource_prefix}-events",
            description="Every invoicing event, for replay to new or repaired consumers",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE]),
            retention=Duration.days(365),
        )
