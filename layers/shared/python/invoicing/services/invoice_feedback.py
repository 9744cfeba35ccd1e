"""The one-click "was this invoice clear and correct?" in the invoice email: signed, single-use.

The link is signed for the invoice's own party over `feedback/<number>` (so it never opens the PDF,
and a download link never answers); the first answer is kept (`INVOICE#<n>` / `FEEDBACK`, on
condition there is none) and announced (`InvoiceFeedbackGiven`) for the reports; a second click
is thanked and changes nothing. The page says so in plain HTML, no script.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.link_keys import LinkKeySource
from invoicing.adapters.outbox import outbox_put
from invoicing.domain.events import DetailType, InvoiceFeedbackGiven
from invoicing.domain.invoice import InvoiceStatus
from invoicing.domain.links import InvalidLinkToken, check_link_shape, verify_link
from invoicing.services.download_links import feedback_subject
from invoicing.services.invoice_access import AccessDenied, owner

ANSWERS = ("yes", "no")
_NUMBER = re.compile(r"[A-Z]{2,8}-[0-9]{4}-[0-9]{6,12}")


class InvoiceFeedback:
    def __init__(
        self,
        *,
        table_name: str,
        ledger: InvoiceLedger,
        keys: LinkKeySource,
        client: Any | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._table = table_name
        self._ledger = ledger
        self._keys = keys
        self._client = client or boto3.client("dynamodb")
        self._clock = clock

    def answer(self, invoice_number: str, token: str, answer: str) -> bool:
        """True when this click recorded the answer, False when one was given before;
        AccessDenied for a link that is not this invoice's, or an answer that is not yes or no."""
        now = self._clock()
        keyring = self._keys.keyring()
        try:
            check_link_shape(keyring, token)
            if answer not in ANSWERS or not _NUMBER.fullmatch(invoice_number):
                raise InvalidLinkToken
            record = self._ledger.get_invoice(invoice_number)
            party = owner(record) if record is not None else None
            if record is None or record.status is not InvoiceStatus.ISSUED or party is None:
                raise InvalidLinkToken
            verify_link(keyring, token, feedback_subject(invoice_number), now, party_id=party)
        except InvalidLinkToken:
            raise AccessDenied from None
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                "pk": {"S": f"INVOICE#{invoice_number}"},
                                "sk": {"S": "FEEDBACK"},
                                "answer": {"S": answer},
                                "answered_at": {"S": now.isoformat()},
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    outbox_put(
                        self._table,
                        f"INVOICE#{invoice_number}",
                        DetailType.INVOICE_FEEDBACK_GIVEN,
                        InvoiceFeedbackGiven(
                            invoice_number=invoice_number,
                            order_id=record.order_id,
                            answer=answer,
                            answered_at=now,
                        ),
                        resources=[f"invoice/{invoice_number}", f"order/{record.order_id}"],
                        now=now,
                    ),
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            return False
        return True


def feedback_page(title: str, message: str) -> str:
    """A small accessible page, readable on a phone, no script."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family: Arial, Helvetica, sans-serif; max-width: 36rem; margin: 2rem auto; '
        'padding: 0 1rem; color: #222;">'
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )
