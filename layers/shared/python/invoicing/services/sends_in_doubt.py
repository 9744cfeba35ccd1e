"""Settling a send in doubt by hand: the provider never confirmed it, a person checked.

A send is in doubt when the dispatcher claimed it (SENDING) and never recorded the outcome: the
message may or may not have reached the provider, so nothing sends it again on its own. Emails
settle themselves when SES's Send or Delivery event arrives with the message's tags (see
`delivery_notifications.py`); what is left (an SMS, an email SES never reported) is listed in the
operations digest with the command to run once someone has checked the provider's records:

* `--sent`: it did go out. Recorded SENT (`settled_by = operator`) and announced `InvoiceSent`.
* `--not-sent`: it did not. The claim is released and the invoice is due for the sweep at once,
  whose re-drive sends it (the dispatcher's claim keeps that to one message).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum

from invoicing.adapters.delivery_log import DeliveryLog
from invoicing.adapters.invoice_ledger import InvoiceLedger


class Settlement(StrEnum):
    SENT = "sent"
    NOT_SENT = "not-sent"


class NotInDoubt(LookupError):
    """There is no claim in doubt under that invoice and delivery key (settled already?)."""


def settle_send(
    ledger: InvoiceLedger,
    deliveries: DeliveryLog,
    invoice_number: str,
    delivery_sort_key: str,
    settlement: Settlement,
    *,
    note: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    issued = ledger.issued_announcement(invoice_number)
    if issued is None:
        raise NotInDoubt(f"{invoice_number} is not an issued invoice")
    now = clock()
    if settlement is Settlement.SENT:
        settled = deliveries.settle_as_sent(invoice_number, delivery_sort_key, issued, now, note)
    else:
        settled = deliveries.settle_as_not_sent(invoice_number, delivery_sort_key, now, note)
    if not settled:
        raise NotInDoubt(f"{invoice_number} has no send in doubt under {delivery_sort_key}")
