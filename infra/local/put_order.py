"""Write one order item to the local Orders table, as the storefront would.

    .venv/bin/python -m infra.local.put_order events/orders/jpy-zero-decimals.json \\
        --endpoint http://127.0.0.1:4566 --order-id ORD-MINE-1 [--complete]

--order-id writes the sample under a new id (a sample id is invoiced only once);
--complete then updates it to COMPLETED, the MODIFY path.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from botocore.exceptions import ClientError, EndpointConnectionError

from infra.local.orders import complete_order, load_order, put_order
from infra.local.runtime import REGION
from infra.local.serve import DEFAULT_PORT, PREFIX


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("order_file", type=Path)
    parser.add_argument("--endpoint", default=f"http://127.0.0.1:{DEFAULT_PORT}")
    parser.add_argument("--order-id", help="write under this order id instead of the file's")
    parser.add_argument("--complete", action="store_true", help="then mark it COMPLETED (a MODIFY)")
    args = parser.parse_args()
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": args.endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
        }
    )
    table = f"{PREFIX}-orders"
    order = load_order(args.order_file)
    if args.order_id:
        order["order_id"] = args.order_id
    if not _answers(args.endpoint):
        _stop(_not_running(args.endpoint))
    try:
        put_order(table, order)
        print(f"wrote {order['order_id']} ({order.get('status')}) to {table}")
        if args.complete:
            complete_order(table, order["order_id"])
            print(f"updated {order['order_id']} to COMPLETED")
    except EndpointConnectionError:
        _stop(_not_running(args.endpoint))
    except ClientError as refused:
        if refused.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        _stop(f"{args.endpoint} answers but has no table {table}: is it `make local`'s stack?")


def _not_running(endpoint: str) -> str:
    return f"the local stack is not running on {endpoint}: start it with `make local` in another terminal"


def _answers(endpoint: str) -> bool:
    """Whether anything accepts a connection at the endpoint (botocore would retry for a while)."""
    address = urlsplit(endpoint)
    try:
        with socket.create_connection((address.hostname or "127.0.0.1", address.port or 80), timeout=2):
            return True
    except OSError:
        return False


def _stop(problem: str) -> NoReturn:
    print(f"put_order: {problem}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    main()
