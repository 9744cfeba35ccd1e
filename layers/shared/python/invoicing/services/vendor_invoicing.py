"""Each vendor's invoice for its part of an order, issued once the customer invoice is, and
corrected whenever the customer invoice is.

Read from the customer invoice document (checked against its SHA-256), never from the order
item, so a vendor's invoice always agrees with what the customer was invoiced. The same
guarantees as customer invoices: a gapless number series of its own (one claim per order and
vendor, in the numbering transaction, with the vendor document frozen in it), then
store -> record -> announce from the frozen document, each step safe to repeat.

Reconciled per order, against the order's newest customer invoice (the one its claim holds) and
what that invoice's credit notes took: a vendor with no invoice gets one; a vendor whose part
changed gets a vendor credit note and, if it still has lines, a revised vendor invoice
(`domain/vendor_corrections.py`), allocated like customer corrections (`CorrectionLedger`: both
vendor series, the claim moved, the vendor invoice credited, in one transaction); every other
vendor keeps its invoice. So the same answer comes out of any event of the order (the customer's
InvoiceIssued, a CreditNoteIssued, the sweep's VendorInvoicesDue), however often and in whatever
order they arrive.

When the customer invoice is issued, or corrected, the vendors it is due to are recorded
(`VENDOR_INVOICES`, in the sweep index), so if this function's event is lost or it keeps failing,
the SLA sweep asks again. A vendor missing from the Vendors table is recorded and announced
(`VendorInvoiceFailed`) in one transaction; the order's other vendors still get theirs, and the
record stays due so the missing one is issued once its master data exists.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from invoicing.adapters.correction_ledger import CorrectionConflict, CorrectionLedger
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger, InvoiceRecord, NewInvoice
from invoicing.domain.corrections import correction_id
from invoicing.domain.credit_note import CreditNoteDocument
from invoicing.domain.documents import (
    encode_document,
    parse_document,
    parse_invoice,
    parse_vendor_invoice,
)
from invoicing.domain.events import InvoiceIssued
from invoicing.domain.invoice import InvoiceDocument, InvoiceKind, InvoiceStatus
from invoicing.domain.pricing import PricedOrder
from invoicing.domain.vendor_corrections import VendorAction, plan_vendor, vendor_lines
from invoicing.domain.vendor_credit_note import VendorCredited, VendorCreditNoteDocument, vendor_credit
from invoicing.domain.vendor_invoice import VendorInvoiceDocument, freeze_vendor_invoice
from invoicing.domain.vendors import Vendor, VendorStatement, vendor_statements
from invoicing.observability import logger
from invoicing.services.invoice_completion import InvoiceCompletion, Renderer

MAX_REPLANS = 5


class VendorCorrectionPending(RuntimeError):
    """The customer credit note a vendor correction follows from is not readable yet: retried."""


class VendorInvoicer:
    def __init__(
        self,
        *,
        ledger: InvoiceLedger,
        documents: DocumentStore,
        load_vendor: Callable[[str], Vendor | None],
        renderer: Renderer,
        series: str,
        credit_note_series: str = "VCN",
        corrections: CorrectionLedger | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger = ledger
        self._documents = documents
        self._load_vendor = load_vendor
        self._series = series
        self._credit_note_series = credit_note_series
        self._corrections = corrections or CorrectionLedger(ledger.table_name, ledger)
        self._clock = clock
        self._completion = InvoiceCompletion(ledger=ledger, documents=documents, render=renderer, clock=clock)

    def issue_for(self, announced: InvoiceIssued) -> list[str]:
        """The vendor invoice numbers in force for the announcement's order, once reconciled."""
        return self.reconcile(announced.order_id)

    def reconcile(self, order_id: str) -> list[str]:
        """Bring the order's vendor invoices in line with its newest customer invoice; the vendor
        invoice numbers in force afterwards ([] while that invoice is not issued yet: its own
        InvoiceIssued, or the sweep, brings it here again)."""
        newest = self._ledger.find_by_order(order_id)
        if newest is None or newest.status is not InvoiceStatus.ISSUED:
            logger.info("customer invoice not issued yet; vendor invoices wait for it", order_id=order_id)
            return []
        invoice = parse_invoice(self._document_bytes(newest))
        in_force = self._ledger.vendor_invoices_of(order_id)
        found = {v: self._load_vendor(v) for v in invoice.vendor_ids if v not in in_force}
        missing = sorted(v for v, vendor in found.items() if vendor is None)
        if missing:
            self._record_missing(order_id, missing)
        statements = {
            s.vendor.vendor_id: s
            for s in vendor_statements(
                _only(invoice, set(found) - set(missing)),
                {v: vendor for v, vendor in found.items() if vendor is not None},
            )
        }
        numbers: list[str] = []
        # In the invoice's vendor order, then any vendor that left the order (credited in full).
        for vendor_id in dict.fromkeys([*invoice.vendor_ids, *in_force]):
            if vendor_id in in_force:
                numbers.append(self._agree(in_force[vendor_id], newest, invoice))
            elif vendor_id in statements:
                number = self._issue_one(invoice, newest.document_sha256, statements[vendor_id])
                record = self._ledger.get_invoice(number)
                numbers.append(self._agree(record, newest, invoice) if record else number)
        if not missing:
            self._ledger.settle_vendor_invoices(
                order_id, numbers, self._clock(), against=newest.invoice_number
            )
        return numbers

    # --- corrections ---------------------------------------------------------------------------

    def _agree(self, record: InvoiceRecord, newest: InvoiceRecord, invoice: InvoiceDocument) -> str:
        """Correct the vendor invoice until it agrees with the customer's newest invoice; the
        vendor invoice number in force then."""
        for _ in range(MAX_REPLANS):
            if record.status is not InvoiceStatus.ISSUED:
                self._completion.complete(record)
                record = self._ledger.get_invoice(record.invoice_number) or record
            vendor_invoice = parse_vendor_invoice(self._document_bytes(record))
            credited = VendorCredited(
                tax_lines=record.credited_tax_lines,
                quantities={int(i): n for i, n in record.credited_quantities.items()},
                commission=record.credited_commission,
            )
            plan = plan_vendor(invoice, newest.credited_quantities, vendor_invoice, credited)
            if plan.action is VendorAction.UNCHANGED:
                return record.invoice_number
            if not plan.units:
                # Every unit was credited already (returned), and the lines changed since: nothing
                # is left to credit, so nothing is re-issued either; people see it in the log.
                logger.warning(
                    "vendor invoice credited in full before its lines changed; not re-issued",
                    invoice_number=record.invoice_number,
                )
                return record.invoice_number
            try:
                record = self._correct(
                    record,
                    vendor_invoice=vendor_invoice,
                    credited=credited,
                    action=plan.action,
                    units=plan.units,
                    newest=newest,
                    invoice=invoice,
                )
            except CorrectionConflict:
                current = self._ledger.find_by_order(record.order_id, InvoiceKind.VENDOR, record.vendor_id)
                if current is None:
                    raise
                record = current
        raise CorrectionConflict(f"{record.invoice_number} kept moving while being corrected")

    def _correct(
        self,
        record: InvoiceRecord,
        *,
        vendor_invoice: VendorInvoiceDocument,
        credited: VendorCredited,
        action: VendorAction,
        units: dict[int, int],
        newest: InvoiceRecord,
        invoice: InvoiceDocument,
    ) -> InvoiceRecord:
        """Allocate and complete one vendor correction; the vendor invoice in force after it."""
        because = self._customer_credit_note(newest, action)
        vendor = vendor_invoice.statement.vendor
        statement = self._statement(invoice, vendor) if action is VendorAction.REPLACE else None
        now = self._clock()

        def credit(number: str, issued_at: datetime, replaced_by: str | None) -> VendorCreditNoteDocument:
            return vendor_credit(
                vendor_invoice,
                credit_note_number=number,
                issued_at=issued_at,
                units=units,
                credited=credited,
                customer_credit_note_number=because.invoice_number,
                reason=because.reason,
                reason_text=because.reason_text,
                replaced_by=replaced_by,
            )

        planned = credit(self._credit_note_series, now, None)
        revised = freeze_revised = None
        if statement is not None:
            sha = newest.document_sha256

            def freeze_revised(number: str, issued_at: datetime) -> bytes:
                return encode_document(
                    freeze_vendor_invoice(
                        invoice,
                        sha,
                        statement,
                        invoice_number=number,
                        issued_at=issued_at,
                        replaces=record.invoice_number,
                    )
                )

            revised = _vendor_invoice_of(invoice, statement).model_copy(
                update={"replaces": record.invoice_number}
            )
        after = {**credited.quantities}
        for index, more in units.items():
            after[index] = after.get(index, 0) + more
        allocated = self._corrections.allocate(
            original=record,
            correction_id=correction_id(
                record.invoice_number, f"{newest.invoice_number}|{newest.credit_version}"
            ),
            reason=because.reason,
            discovered_at=because.issued_at,
            credit_note=_vendor_credit_note_of(record, planned),
            credited_after=[*record.credited_tax_lines, *planned.tax_lines],
            revised=revised,
            credit_series=self._credit_note_series,
            invoice_series=self._series,
            freeze_credit_note=lambda number, issued_at, revised_number: encode_document(
                credit(number, issued_at, revised_number)
            ),
            freeze_revised=freeze_revised,
            now=now,
            credited_quantities={str(i): n for i, n in after.items()},
            credited_commission=credited.commission + planned.totals.commission,
        )
        for numbered in (allocated.credit_note, allocated.revised):
            if numbered is not None:
                self._completion.complete(self._ledger.get_invoice(numbered.invoice_number) or numbered)
        logger.info(
            "vendor invoice corrected",
            invoice_number=record.invoice_number,
            vendor_id=record.vendor_id,
            credit_note_number=allocated.credit_note.invoice_number,
            revised_invoice_number=allocated.revised.invoice_number if allocated.revised else None,
        )
        if allocated.revised is not None:
            return self._ledger.get_invoice(allocated.revised.invoice_number) or allocated.revised
        return self._ledger.get_invoice(record.invoice_number) or record

    def _customer_credit_note(self, newest: InvoiceRecord, action: VendorAction) -> CreditNoteDocument:
        """The customer's credit note the vendor correction follows from: for a change of lines the
        one that cancelled the invoice the newest replaces, else the newest's own latest."""
        if action is VendorAction.CREDIT_UNITS and newest.credit_notes:
            number = newest.credit_notes[-1]
        else:
            replaced = self._ledger.get_invoice(newest.replaces) if newest.replaces else None
            if replaced is None or not replaced.credit_notes:
                raise VendorCorrectionPending(
                    f"no customer credit note explains the change of {newest.order_id}"
                )
            number = replaced.credit_notes[-1]
        record = self._ledger.get_invoice(number)
        if record is None:
            raise VendorCorrectionPending(number)
        document = parse_document(self._document_bytes(record))
        if not isinstance(document, CreditNoteDocument):
            raise TypeError(f"{number} is not a customer credit note")
        return document

    def _statement(self, invoice: InvoiceDocument, vendor: Vendor) -> VendorStatement | None:
        """The vendor's part of the customer invoice (with its master data as at its invoice)."""
        if not vendor_lines(invoice, vendor.vendor_id):
            return None
        return vendor_statements(_only(invoice, {vendor.vendor_id}), {vendor.vendor_id: vendor})[0]

    def _document_bytes(self, record: InvoiceRecord) -> bytes:
        """The record's document: from S3 once stored (checked), else as frozen at allocation."""
        if record.document_key:
            return self._documents.get_verified(
                record.document_key, record.document_version_id, record.document_sha256
            )
        frozen = self._ledger.frozen_document(record.invoice_number)
        if frozen is None:
            current = self._ledger.get_invoice(record.invoice_number)
            if current is not None and current.document_key:
                return self._document_bytes(current)
            raise VendorCorrectionPending(f"{record.invoice_number} has no readable document yet")
        parse_document(frozen, record.document_sha256)  # checked
        return frozen

    def _issue_one(self, invoice: InvoiceDocument, invoice_sha256: str, statement: VendorStatement) -> str:
        vendor = statement.vendor

        def freeze(number: str, issued_at: datetime) -> bytes:
            return encode_document(
                freeze_vendor_invoice(
                    invoice, invoice_sha256, statement, invoice_number=number, issued_at=issued_at
                )
            )

        record = self._ledger.allocate(
            _vendor_invoice_of(invoice, statement),
            self._series,
            self._clock(),
            freeze,
        )
        if record.status is not InvoiceStatus.ISSUED:
            self._completion.complete(record)
            logger.info(
                "vendor invoice issued", invoice_number=record.invoice_number, vendor_id=vendor.vendor_id
            )
        return record.invoice_number

    def _record_missing(self, order_id: str, missing: list[str]) -> None:
        """Recorded and announced once per order; later attempts are counted."""
        message = f"vendors not in the Vendors table: {', '.join(missing)}; their invoices are not issued"
        self._ledger.record_vendor_problem(order_id, missing, message, self._clock())
        logger.warning("vendor invoices not issued", order_id=order_id, vendor_ids=missing)


def _only(invoice: InvoiceDocument, vendor_ids: set[str]) -> PricedOrder:
    """The invoice's priced order with only these vendors' lines."""
    priced = invoice.priced()
    return priced.model_copy(
        update={"lines": [line for line in priced.lines if line.vendor_id in vendor_ids]}
    )


def _vendor_invoice_of(invoice: InvoiceDocument, statement: VendorStatement) -> NewInvoice:
    """What the ledger records of a vendor invoice before it has a number."""
    return NewInvoice(
        kind=InvoiceKind.VENDOR,
        order_id=invoice.order.order_id,
        vendor_id=statement.vendor.vendor_id,
        customer_name=statement.vendor.name,
        currency=statement.currency,
        net_total=statement.net_sales,
        tax_total=statement.tax,
        grand_total=statement.gross_sales,
        payment_status=invoice.payment.status.value,
        order_completed_at=invoice.order.completed_at,
        tax_lines=statement.tax_lines,
        amount_owed=statement.amount_owed,
    )


def _vendor_credit_note_of(record: InvoiceRecord, planned: VendorCreditNoteDocument) -> NewInvoice:
    totals = planned.totals
    return NewInvoice(
        kind=InvoiceKind.VENDOR_CREDIT_NOTE,
        order_id=record.order_id,
        vendor_id=record.vendor_id,
        customer_name=record.customer_name,
        currency=record.currency,
        net_total=totals.net_sales,
        tax_total=totals.tax,
        grand_total=totals.gross_sales,
        payment_status=record.payment_status,
        order_completed_at=record.order_completed_at,
        tax_lines=planned.tax_lines,
        credits_invoice_number=record.invoice_number,
        amount_owed=planned.totals.amount_owed,
    )
