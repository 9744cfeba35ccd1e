"""The operations digest: one message per sweep tick saying what needs a person.

It is built to stay far below SNS's 256 KB message limit whatever the backlog: at most
`MAX_LISTED` items are listed one per line (the urgent ones first, then the oldest), everything
else is summarized per kind. The sweep marks as reminded (or warned) only the items the published
digest listed, so the rest are listed by the next ticks: nothing is skipped, nothing repeated early.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

MAX_LISTED = 100
MAX_LINE = 300
"""Characters of one listed item; a longer description is cut."""


class DigestItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    text: str
    urgent: bool = False
    """About to miss the 24-hour target (warned once), rather than a reminder."""


class Digest(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    text: str
    listed: list[int]
    """Indices (into the items given) of what the message lists one by one."""


def build_digest(
    items: Sequence[DigestItem], backlog: dict[str, int], max_listed: int = MAX_LISTED
) -> Digest | None:
    """None when nothing needs a person. `backlog` is the open count per kind, for the summary."""
    if not items:
        return None
    order = sorted(range(len(items)), key=lambda i: (not items[i].urgent, i))
    listed = order[:max_listed]
    unlisted = Counter(items[i].kind for i in order[max_listed:])
    lines: list[str] = []
    urgent = [i for i in listed if items[i].urgent]
    people = [i for i in listed if not items[i].urgent]
    if urgent:
        lines += ["About to miss the 24-hour target:", *(_line(items[i]) for i in urgent), ""]
    if people:
        lines += ["Needs a person:", *(_line(items[i]) for i in people), ""]
    if unlisted:
        lines.append("Not listed in this message (the next ones list them):")
        lines += [f"  - {count} more {kind}" for kind, count in sorted(unlisted.items())]
        lines.append("")
    open_kinds = {kind: count for kind, count in backlog.items() if count}
    if open_kinds:
        lines.append(
            "Open now: " + ", ".join(f"{kind} {count}" for kind, count in sorted(open_kinds.items()))
        )
    lines.append("Runbook: README, 'Operate' and 'The SLA sweep'.")
    warned = sum(1 for item in items if item.urgent)
    subject = f"SayPro invoicing: {len(items)} item(s) need attention"
    if warned:
        subject += f", {warned} about to miss 24 h"
    return Digest(subject=subject[:100], text="\n".join(lines), listed=sorted(listed))


def _line(item: DigestItem) -> str:
    text = item.text if len(item.text) <= MAX_LINE else item.text[: MAX_LINE - 1] + "…"
    return f"  - {text}"
