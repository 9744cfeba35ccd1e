"""Puts invoicing events on the EventBridge bus; a rejected entry raises so the caller retries."""

from __future__ import annotations

from typing import Any

import boto3
from pydantic import BaseModel

from invoicing.domain.events import DetailType

EVENT_SOURCE = "saypro.invoicing"


class EventPublishError(RuntimeError):
    pass


class EventPublisher:
    def __init__(self, bus_name: str, client: Any | None = None) -> None:
        self._bus = bus_name
        self._client = client or boto3.client("events")

    def publish(self, detail_type: DetailType, detail: BaseModel, resources: list[str] | None = None) -> None:
        self.publish_raw(detail_type.value, detail, resources)

    def publish_raw(self, detail_type: str, detail: BaseModel, resources: list[str] | None = None) -> None:
        self.publish_json(detail_type, detail.model_dump_json(), resources)

    def publish_json(self, detail_type: str, detail: str, resources: list[str] | None = None) -> None:
        """A detail already serialized (an outbox entry's), published byte for byte."""
        response = self._client.put_events(
            Entries=[
                {
                    "EventBusName": self._bus,
                    "Source": EVENT_SOURCE,
                    "DetailType": detail_type,
                    "Detail": detail,
                    "Resources": resources or [],
                }
            ]
        )
        if response.get("FailedEntryCount"):
            entry = response["Entries"][0]
            raise EventPublishError(
                f"{detail_type} rejected: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
            )
