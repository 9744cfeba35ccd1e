"""Vendors' monthly statements: for each vendor and currency with anything to say, the month's
entries with the running balance, as a PDF stored with the reports, recorded (the vendor's API
lists it) and announced (the dispatcher emails it to the vendor, once).

A vendor with no entry in the month and nothing owed either way gets no statement. The opening
balance is the balance now less everything entered since the month began, so it needs no history
older than the month, and a statement made again later says the same.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from invoicing.adapters.report_store import ReportStore
from invoicing.adapters.vendor_accounts import StatementRecord, VendorAccounts
from invoicing.domain.invoice import Seller
from invoicing.domain.vendor_accounts import VendorStatementDocument, build_statement, month_bounds
from invoicing.domain.vendors import Vendor
from invoicing.observability import logger

VENDOR_STATEMENTS_PREFIX = "reports/vendor-statements/"
PDF = "application/pdf"


def statement_key(statement_id: str) -> str:
    return f"{VENDOR_STATEMENTS_PREFIX}{statement_id}.pdf"


def previous_month(today: date) -> date:
    first = today.replace(day=1)
    return (
        first.replace(year=first.year - 1, month=12)
        if first.month == 1
        else first.replace(month=first.month - 1)
    )


class VendorStatements:
    def __init__(
        self,
        *,
        accounts: VendorAccounts,
        load_vendor: Callable[[str], Vendor | None],
        reports: ReportStore,
        seller: Seller,
        render: Callable[[VendorStatementDocument], bytes],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._accounts = accounts
        self._load_vendor = load_vendor
        self._reports = reports
        self._seller = seller
        self._render = render
        self._clock = clock

    def issue_month(self, month: date) -> list[StatementRecord]:
        issued = []
        for vendor_id, currency in self._accounts.accounts():
            vendor = self._load_vendor(vendor_id)
            if vendor is None:  # paid or invoiced, then removed from the Vendors table: people look
                logger.warning("no statement: the vendor is not in the Vendors table", vendor_id=vendor_id)
                continue
            record = self.issue(vendor, currency, month)
            if record is not None:
                issued.append(record)
        logger.info("vendor statements issued", month=f"{month:%Y-%m}", statements=len(issued))
        return issued

    def build(self, vendor: Vendor, currency: str, month: date) -> VendorStatementDocument | None:
        start, following = month_bounds(month)
        balance = self._accounts.balances(vendor.vendor_id).get(currency, Decimal(0))
        since_start = self._accounts.entries(vendor.vendor_id, currency, start)
        in_month = [e for e in since_start if e.at < following]
        opening = balance - sum((e.amount for e in since_start), Decimal(0))
        if not in_month and opening == 0:
            return None
        return build_statement(
            vendor=vendor,
            seller=self._seller,
            currency=currency,
            month=month,
            opening_balance=opening,
            entries=in_month,
            issued_at=self._clock(),
        )

    def issue(self, vendor: Vendor, currency: str, month: date) -> StatementRecord | None:
        document = self.build(vendor, currency, month)
        if document is None:
            return None
        pdf = self._render(document)
        key = statement_key(document.statement_id)
        self._reports.put(key, pdf, PDF)
        return self._accounts.put_statement(document, key, pdf, self._clock())
