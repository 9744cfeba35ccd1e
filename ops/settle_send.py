"""Settle a send in doubt once you have checked the provider (SES sending logs, SNS SMS logs).

    .venv/bin/python -m ops.settle_send INV-2026-000042 'DELIVERY#SMS#0a1b2c3d4e5f6a7b' --not-sent \\
        --note "no SMS in the SNS delivery log around 14:02" --table saypro-invoicing-prod-invoices

The invoice number and the delivery key are in the operations digest's DELIVERY_IN_DOUBT line.
`--sent` records it sent (and announces InvoiceSent); `--not-sent` releases it for the next sweep,
which sends it once. See README, "Sends in doubt".
"""

from __future__ import annotations

import argparse
import os
import sys

from invoicing.adapters.delivery_log import DeliveryLog
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.services.sends_in_doubt import NotInDoubt, Settlement, settle_send


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("invoice_number")
    parser.add_argument("delivery_key", help="DELIVERY#<CHANNEL>#<hash>, as the digest names it")
    outcome = parser.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--sent", action="store_const", const=Settlement.SENT, dest="settlement")
    outcome.add_argument("--not-sent", action="store_const", const=Settlement.NOT_SENT, dest="settlement")
    parser.add_argument("--note", required=True, help="what you checked, kept with the settlement")
    parser.add_argument("--table", default=os.environ.get("INVOICES_TABLE_NAME"), help="the Invoices table")
    args = parser.parse_args(argv)
    if not args.table:
        parser.error("--table (or INVOICES_TABLE_NAME) is required: the stack's InvoicesTableName output")
    try:
        settle_send(
            InvoiceLedger(args.table),
            DeliveryLog(args.table),
            args.invoice_number,
            args.delivery_key,
            args.settlement,
            note=args.note,
        )
    except NotInDoubt as error:
        print(f"nothing settled: {error}", file=sys.stderr)
        return 1
    print(f"{args.invoice_number} {args.delivery_key}: settled as {args.settlement.value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
