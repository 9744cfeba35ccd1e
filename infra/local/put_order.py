"""Write one order item to the local Orders table, as the storefront would.

    .venv/bin/python -m infra.local.put_order events/orders/jpy-zero-decimals.json \\
        --endpoint http://127.0.0.1:4566 --order-id ORD-MINE-1 [--complete]

--order-id writes the sample under a new id (a sample id is invoiced only once);
--complete then updates it to COMPLETED, the MODIFY path.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

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
    put_order(table, order)
    print(f"wrote {order['order_id']} ({order.get('status')}) to {table}")
    if args.complete:
        complete_order(table, order["order_id"])
        print(f"updated {order['order_id']} to COMPLETED")


if __name__ == "__main__":
    main()
