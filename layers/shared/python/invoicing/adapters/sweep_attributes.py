"""The attributes that put an item in the sparse `sweep` index, and take it out again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from invoicing.domain.sla import SweepKind

SWEEP_ATTRIBUTES = "sweep_kind, sweep_due_at, sweep_since, sweep_attempts, reminded_at, warned_at"
"""Removed together when an item leaves the sparse `sweep` index (see domain/sla.py)."""


def sweep_attributes(kind: SweepKind, since: datetime) -> dict[str, Any]:
    """An item enters the sweep index: its kind, since when, and due at once (plus the grace)."""
    return {
        "sweep_kind": {"S": kind.value},
        "sweep_since": {"S": since.isoformat()},
        "sweep_due_at": {"S": since.isoformat()},
    }
