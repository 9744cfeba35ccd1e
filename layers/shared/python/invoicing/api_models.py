"""Request and response models of the invoices API (and so of its OpenAPI description)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from invoicing.adapters.invoice_ledger import InvoiceRecord
from invoicing.domain.corrections import CorrectionStatus, correction_status
from invoicing.domain.inquiries import ActionRecord, Inquiry, InquiryCategory
from invoicing.domain.money import plain_amount
from invoicing.domain.order import Address
from invoicing.domain.timeline import TimelineEntry
from invoicing.domain.validation import ValidationIssue


class TaxRate(BaseModel):
    model_config = ConfigDict(frozen=True)

    rate: str = Field(description="fraction as a decimal string: 0.23 for 23 %", examples=["0.23"])
    net: str
    tax: str
    gross: str


class InvoiceSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_number: str = Field(examples=["INV-2026-000042"])
    kind: str = Field(description="CUSTOMER, VENDOR, CREDIT_NOTE or VENDOR_CREDIT_NOTE")
    order_id: str
    currency: str = Field(description="ISO 4217")
    net_total: str = Field(description="decimal string, never a float", examples=["184.79"])
    tax_total: str
    grand_total: str
    payment_status: str = Field(
        description="the order's payment status when the invoice was issued (CAPTURED, PENDING...)"
    )
    payment_state: str | None = Field(
        default=None,
        description="a customer invoice's live payment status: paid, partially_paid, unpaid, overdue, "
        "refunded, partially_refunded or credited (null on credit notes and vendor documents)",
        examples=["partially_paid"],
    )
    amount_paid: str | None = Field(
        default=None,
        description="money received for it and kept (received less refunded)",
        examples=["20.00"],
    )
    balance_due: str | None = Field(
        default=None, description="what is still owed; negative when overpaid", examples=["32.73"]
    )
    due_date: date | None = Field(default=None, description="a pay-later invoice: the last day to pay")
    issued_at: datetime
    tax_lines: list[TaxRate] = Field(description="the per-rate breakdown of the invoice document")
    document_sha256: str = Field(description="SHA-256 of the invoice document every rendition comes from")
    replaces: str | None = Field(default=None, description="a revised invoice: the invoice it replaces")
    replaced_by: str | None = Field(
        default=None, description="superseded: the revised invoice that replaces this one"
    )
    credit_notes: list[str] = Field(
        default=[], description="the numbers of the credit notes against this invoice, oldest first"
    )
    credits_invoice_number: str | None = Field(
        default=None, description="a credit note: the invoice it credits", examples=["INV-2026-000042"]
    )
    delivery_status: str | None = Field(
        default=None,
        description="how it reached its party: SENT (accepted by SES or SNS), DELIVERED, LISTED (in the "
        "account), BOUNCED, UNDELIVERABLE...; null before the first attempt",
        examples=["DELIVERED"],
    )
    correction_status: CorrectionStatus | None = Field(
        default=None,
        description="superseded (replaced_by is set), credited (its credit notes cover all of it), "
        "partially credited, or null: the invoice stands as issued",
    )

    @classmethod
    def of(cls, record: InvoiceRecord) -> InvoiceSummary:
        def amount(value: Decimal) -> str:
            return plain_amount(value, record.currency)

        return cls(
            invoice_number=record.invoice_number,
            kind=record.kind.value,
            order_id=record.order_id,
            currency=record.currency,
            net_total=amount(record.net_total),
            tax_total=amount(record.tax_total),
            grand_total=amount(record.grand_total),
            payment_status=record.payment_status,
            **_payment_of(record),
            issued_at=record.issued_at,
            tax_lines=[
                TaxRate(rate=f"{t.rate:f}", net=amount(t.net), tax=amount(t.tax), gross=amount(t.gross))
                for t in record.tax_lines
            ],
            document_sha256=record.document_sha256,
            replaces=record.replaces,
            replaced_by=record.replaced_by,
            credit_notes=list(record.credit_notes),
            credits_invoice_number=record.credits_invoice_number,
            delivery_status=record.delivery_status,
            correction_status=correction_status(
                record.tax_lines, record.credited_tax_lines, record.replaced_by
            ),
        )


def _payment_of(record: InvoiceRecord) -> dict[str, object]:
    """The live payment status, from the record's figures (today's, so overdue shows on time)."""
    state = record.live_payment_state(datetime.now(UTC).date())
    if state is None:
        return {}
    receivable = record.receivable()
    return {
        "payment_state": state.value,
        "amount_paid": plain_amount(receivable.kept, record.currency),
        "balance_due": plain_amount(receivable.balance_due, record.currency),
        "due_date": record.due_date,
    }


class InvoicePage(BaseModel):
    items: list[InvoiceSummary]
    next_token: str | None = Field(default=None, description="pass back to get the next page")


class DownloadLink(BaseModel):
    url: str
    expires_at: datetime


class BillingCorrection(BaseModel):
    """The billed party as it should have been: what the storefront does not own once invoiced."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200, description="the billed name")
    billing_address: Address | None = Field(default=None, description="the billing address, whole")

    @model_validator(mode="after")
    def _something(self) -> BillingCorrection:
        if self.name is None and self.billing_address is None:
            raise ValueError("billing gives a name, a billing_address, or both")
        return self


class CorrectionRequest(BaseModel):
    """POST /invoices/{invoice_number}/corrections (support only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="why support corrects it (kept in the log)")
    mode: Literal["rederive", "explicit"] = Field(
        description="rederive: compare the invoice with the order as it is now in the Orders table and "
        "correct it if what it bills differs; explicit: apply the corrected value given here (billing, "
        "or credit_amount)"
    )
    billing: BillingCorrection | None = Field(
        default=None,
        description="explicit: the corrected billing name and/or address; a revised invoice is issued with "
        "them and kept for the order's later changes",
    )
    credit_amount: str | None = Field(
        default=None,
        pattern=r"^[0-9]{1,15}(\.[0-9]{1,4})?$",
        description="explicit: an amount to credit, tax included, in the invoice's currency (a credit note "
        "shared over the tax rates; no revised invoice)",
        examples=["5.00"],
    )

    inquiry_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._:-]{1,128}$",
        description="the inquiry this correction resolves (a problem a customer or vendor reported that "
        "customer service accepted): kept on the correction record",
    )

    @model_validator(mode="after")
    def _one_value(self) -> CorrectionRequest:
        given = [name for name in ("billing", "credit_amount") if getattr(self, name) is not None]
        if self.mode == "rederive" and given:
            raise ValueError("rederive takes no corrected value")
        if self.mode == "explicit" and len(given) != 1:
            raise ValueError("explicit takes exactly one of billing, credit_amount")
        return self


class CorrectionAnswer(BaseModel):
    """What a correction made: a credit note, and a revised invoice unless the order was reversed."""

    outcome: Literal["REVISED", "CREDITED", "unchanged"] = Field(
        description="REVISED: credited and replaced; CREDITED: credited only (cancelled or refunded); "
        "unchanged: the order bills what the invoice says"
    )
    order_id: str | None = None
    invoice_number: str | None = Field(default=None, description="the invoice corrected")
    credit_note_number: str | None = None
    revised_invoice_number: str | None = None
    correction_id: str | None = Field(
        default=None, description="the correction's record: what an inquiry resolved as corrected names"
    )


class CorrectionRefused(BaseModel):
    """422: the order as it is now does not validate; the invoice stands."""

    error: Literal["order_invalid"] = "order_invalid"
    message: str
    invoice_number: str
    issues: list[ValidationIssue]


class ErrorBody(BaseModel):
    message: str


class ApiError(BaseModel):
    """A refusal: `error` is a stable code where there is one (bad_request, invalid_body,
    not_current, invalid_next_token), `message` says why in words."""

    error: str | None = None
    message: str
    current_invoice_number: str | None = Field(
        default=None, description="409 not_current: the order's current invoice, to correct instead"
    )


class StatementSummary(BaseModel):
    """A vendor statement: one currency, one month (domain/vendor_accounts.py)."""

    model_config = ConfigDict(frozen=True)

    statement_id: str = Field(examples=["STMT-2026-11-EUR-V-BOOKS"])
    currency: str
    period_start: date
    period_end: date
    opening_balance: str = Field(description="owed to the vendor at the start of the period")
    closing_balance: str = Field(description="owed to the vendor at its end (negative: paid beyond it)")
    issued_at: datetime
    download_url: str = Field(description="a signed link to its PDF, for this vendor only")


class StatementPage(BaseModel):
    items: list[StatementSummary]
    balances: dict[str, str] = Field(description="currency -> what the marketplace owes the vendor now")


class Timeline(BaseModel):
    """Everything that happened to an invoice, oldest first (support only)."""

    invoice: InvoiceSummary
    entries: list[TimelineEntry]


class ResendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="chosen by the caller: the same id is the same request, sent once",
    )
    reason: str = Field(min_length=1, max_length=500)
    email: str | None = Field(
        default=None, max_length=254, description="send to this address instead of the one on file"
    )


class ResendAnswer(BaseModel):
    invoice_number: str
    request_id: str
    status: str = Field(description="REQUESTED, SENDING, SENT or FAILED")
    requested_by: str
    requested_at: datetime
    to: str = Field(description="the address on file, or the address given (never echoed)")
    repeated: bool = Field(description="this request id was used before: nothing more is sent")


class InquiryReport(BaseModel):
    """A customer, vendor or support agent reports a problem with an invoice."""

    model_config = ConfigDict(extra="forbid")

    category: InquiryCategory
    description: str = Field(min_length=1, max_length=2000)
    request_id: str | None = Field(
        default=None,
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the same id is the same report (a retry opens nothing more)",
    )


class InquiryView(BaseModel):
    inquiry: Inquiry
    actions: list[ActionRecord] = Field(description="the audit trail: who did what, when, oldest first")


class InquiryPage(BaseModel):
    items: list[Inquiry]
    counts: dict[str, int] = Field(description="the month's inquiries by category")
