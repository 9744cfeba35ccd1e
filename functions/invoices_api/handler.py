"""Invoices API: a customer's or vendor's own invoices, behind API Gateway's JWT authorizer.

GET  /invoices                                 newest first; filters (kind too), pagination
GET  /invoices/{invoice_number}                one of the caller's invoices (404 otherwise);
                                               support: any issued invoice
GET  /invoices/{invoice_number}/download-link  a durable signed link for the caller
POST /invoices/{invoice_number}/corrections    support only: correct it from the order as it is
GET  /support/...                              support: find, timeline, the inquiry log (and writes)
GET  /operations/overview                      staff: the SLA picture, orders to fix, unmatched payments
GET  /operations/reports[/{report_id}]         staff: the operations reports, one with its charts' data

Thin on purpose: each route parses and hands over to a service (invoice_listing.py,
support_corrections.py); the services decide, the exception handlers below answer.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.adapters.correction_ledger import CorrectionLedger
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.inquiry_log import InquiryConflict, InquiryLog
from invoicing.adapters.invoice_history import InvoiceHistory
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.invoice_queries import InvoiceQueries
from invoicing.adapters.link_keys import LinkKeySource
from invoicing.adapters.party_records import OrderItems
from invoicing.adapters.payment_ledger import PaymentLedger
from invoicing.adapters.report_counters import ReportCounters
from invoicing.adapters.report_store import ReportStore
from invoicing.adapters.resend_log import ResendLog
from invoicing.adapters.sweep_index import SweepIndex
from invoicing.adapters.vendor_accounts import VendorAccounts
from invoicing.api_models import (
    ApiError,
    CorrectionAnswer,
    CorrectionRefused,
    CorrectionRequest,
    DownloadLink,
    InquiryPage,
    InquiryReport,
    InquiryView,
    InvoicePage,
    InvoiceSummary,
    ResendAnswer,
    ResendRequest,
    StatementPage,
    StatementSummary,
    Timeline,
)
from invoicing.domain.inquiries import Inquiry, InquiryAction, InquiryRefused
from invoicing.domain.money import plain_amount
from invoicing.observability import logger, metrics, tracer
from invoicing.rendering.pdf import render_document_pdf
from invoicing.services.download_links import DownloadLinks
from invoicing.services.inquiry_desk import InquiryDesk
from invoicing.services.invoice_corrections import InvoiceCorrector
from invoicing.services.invoice_listing import (
    BadRequest,
    Caller,
    InvoiceListing,
    NotAllowed,
    NotFound,
    caller_from_claims,
)
from invoicing.services.operations_desk import OperationsDesk, OperationsOverview
from invoicing.services.report_archive import ArchivedReport, ReportArchive, ReportList
from invoicing.services.support_corrections import NotCurrent, OrderInvalid, SupportCorrections
from invoicing.services.support_desk import SupportDesk
from invoicing.settings import api_settings

settings = api_settings()
lifetime = timedelta(days=settings.link_lifetime_days)
# One keyring: it signs download links, and page tokens are sealed with a key derived from it.
keys = LinkKeySource(settings.link_keys_secret_id)
ledger = InvoiceLedger(settings.invoices_table_name)
links = DownloadLinks(keys, settings.download_base_url, lifetime)
accounts = VendorAccounts(settings.invoices_table_name)
listing = InvoiceListing(
    queries=InvoiceQueries(settings.invoices_table_name),
    ledger=ledger,
    page_keys=keys,
    link_for=links.link_for,
    link_lifetime=lifetime,
)
corrections_ledger = CorrectionLedger(settings.invoices_table_name, ledger)
corrections = SupportCorrections(
    ledger=ledger,
    corrections=corrections_ledger,
    corrector=InvoiceCorrector(
        ledger=ledger,
        corrections=corrections_ledger,
        documents=DocumentStore(settings.invoice_bucket_name),
        renderer=render_document_pdf,
        invoice_series=settings.invoice_series,
        credit_note_series=settings.credit_note_series,
        seller=settings.seller,
        clock=lambda: datetime.now(UTC),
        policy=settings.payment_policy,
    ),
    load_order=OrderItems(settings.orders_table_name).get_current,
)
queries = InvoiceQueries(settings.invoices_table_name)
desk = SupportDesk(
    ledger=ledger,
    queries=queries,
    history=InvoiceHistory(settings.invoices_table_name, ledger),
    resends=ResendLog(settings.invoices_table_name),
    contacts=queries.customers_at,
)
inquiries = InquiryDesk(log=InquiryLog(settings.invoices_table_name), listing=listing)
operations = OperationsDesk(
    index=SweepIndex(settings.invoices_table_name),
    payments=PaymentLedger(settings.invoices_table_name),
    counters=ReportCounters(settings.report_counters_table_name, settings.report_counter_shards),
    targets=settings.report_targets,
)
archive = ReportArchive(
    store=ReportStore(settings.invoice_bucket_name), link_for=links.operations_report_link
)
app = APIGatewayHttpResolver(enable_validation=True)


def _caller() -> Caller:
    claims = app.current_event.request_context.authorizer.jwt_claim or {}
    return caller_from_claims(claims)


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def _error(status: int, message: str, code: str | None = None, **extra: Any) -> Response[str]:
    body = {"error": code, "message": message} if code else {"message": message}
    return _json(status, {**body, **extra})


def _is_support() -> bool:
    try:
        return _caller().is_support
    except NotAllowed:
        return False


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[str]:
    """A bad body is a 400 (after the role check: only support learns what a correction takes);
    a bad query parameter stays Powertools' 422. Neither echoes the input or pydantic's text."""
    detail = [{"loc": list(e["loc"]), "type": e["type"]} for e in error.errors()]
    if not any(e["loc"][:1] == ["body"] for e in detail):
        return _json(422, {"statusCode": 422, "detail": detail})
    if app.current_event.path.endswith("/inquiries"):  # anyone may report on their own invoice
        return _error(
            400,
            "the body is a JSON object {category: charges, discount, tax, address, missing_invoice, delivery "
            "or other; description: 1-2000 characters; request_id: optional, 8-64 of A-Z a-z 0-9 _ -}",
            "invalid_body",
            detail=detail,
        )
    if not _is_support():
        return _error(403, "Forbidden")
    if app.current_event.path.endswith("/actions"):
        return _error(
            400,
            "the body is a JSON object {action: started, assigned, escalated, note or resolved; owner; note; "
            "resolution: {kind: explained, corrected or resent; note; correction_id; resend_request_id}}",
            "invalid_body",
            detail=detail,
        )
    if app.current_event.path.endswith("/resend"):
        return _error(
            400,
            "the body is a JSON object {request_id: 8-64 of A-Z a-z 0-9 _ -, reason: 1-500 characters, "
            "email: an address to send to instead of the one on file (optional)}",
            "invalid_body",
            detail=detail,
        )
    return _error(
        400,
        "the body is a JSON object {reason: 1-500 characters, mode: rederive} or {reason, mode: explicit, "
        "and one of billing: {name, billing_address}, credit_amount: '5.00'}",
        "invalid_body",
        detail=detail,
    )


@app.exception_handler(NotAllowed)
def _forbidden(_: NotAllowed) -> Response[str]:
    return _error(403, "Forbidden")


@app.exception_handler(NotFound)
def _not_found(_: NotFound) -> Response[str]:
    return _error(404, "Not found")


@app.exception_handler(BadRequest)
def _bad_request(error: BadRequest) -> Response[str]:
    return _error(400, str(error), error.code)


@app.exception_handler(NotCurrent)
def _not_current(error: NotCurrent) -> Response[str]:
    return _error(409, str(error), "not_current", current_invoice_number=error.current_invoice_number)


@app.exception_handler(OrderInvalid)
def _order_invalid(error: OrderInvalid) -> Response[str]:
    refused = CorrectionRefused(message=str(error), invoice_number=error.invoice_number, issues=error.issues)
    return _json(422, refused.model_dump(mode="json"))


@app.get("/invoices", summary="The caller's invoices, newest first")
def list_invoices(  # noqa: PLR0917 (Powertools binds query parameters by name)
    order_id: Annotated[str | None, Query(max_length=64)] = None,
    payment_status: Annotated[
        str | None,
        Query(
            pattern="^([A-Z_]{3,20}|paid|partially_paid|unpaid|overdue|refunded|partially_refunded|credited)$",
            description="the live status (paid, partially_paid, unpaid, overdue, refunded, "
            "partially_refunded, credited), or the order's payment status at issue (CAPTURED, PENDING...)",
        ),
    ] = None,
    issued_from: Annotated[date | None, Query()] = None,
    issued_to: Annotated[date | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
    kind: Annotated[
        str | None,
        Query(max_length=32, description="CUSTOMER, VENDOR, CREDIT_NOTE or VENDOR_CREDIT_NOTE (else a 400)"),
    ] = None,
) -> InvoicePage:
    return listing.page(
        _caller(),
        limit=limit,
        next_token=next_token,
        order_id=order_id,
        payment_status=payment_status,
        issued_from=issued_from,
        issued_to=issued_to,
        kind=kind,
    )


@app.get("/statements", summary="A vendor's monthly statements, newest first, and its balances")
def list_statements() -> StatementPage:
    caller = _caller()
    if caller.role != "vendor":
        raise NotAllowed  # statements are a vendor's; a customer has none, support reads the ledger
    return StatementPage(
        items=[
            StatementSummary(
                statement_id=record.statement_id,
                currency=record.currency,
                period_start=date.fromisoformat(record.period_start),
                period_end=date.fromisoformat(record.period_end),
                opening_balance=plain_amount(record.opening_balance, record.currency),
                closing_balance=plain_amount(record.closing_balance, record.currency),
                issued_at=record.issued_at,
                download_url=links.statement_link(record.statement_id, caller.party_id),
            )
            for record in accounts.statements_of(caller.party_id)
        ],
        balances={
            currency: plain_amount(amount, currency)
            for currency, amount in accounts.balances(caller.party_id).items()
        },
    )


_ERROR: dict[str, Any] = {"application/json": {"model": ApiError}}


@app.get("/support/invoices", summary="Support: find invoices by number, order, customer or email")
def support_find(
    invoice_number: Annotated[str | None, Query(max_length=32)] = None,
    order_id: Annotated[str | None, Query(max_length=128)] = None,
    customer_id: Annotated[str | None, Query(max_length=128)] = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
) -> list[InvoiceSummary]:
    return desk.find(
        _caller(), invoice_number=invoice_number, order_id=order_id, customer_id=customer_id, email=email
    )


@app.get(
    "/support/invoices/<invoice_number>/timeline", summary="Support: everything that happened to an invoice"
)
def support_timeline(invoice_number: str) -> Timeline:
    return desk.timeline(_caller(), invoice_number)


@app.post(
    "/support/invoices/<invoice_number>/resend",
    summary="Support: email an invoice again, once per request id (to the address on file, or one given)",
    responses={
        202: {
            "description": "requested (or the same request id again)",
            "content": {"application/json": {"model": ResendAnswer}},
        },
        400: {"description": "a bad body or address", "content": _ERROR},
        403: {"description": "the caller is not support", "content": _ERROR},
        404: {"description": "no such invoice", "content": _ERROR},
    },
)
def support_resend(invoice_number: str, request: Annotated[ResendRequest, Body()]) -> Response[str]:
    answer = desk.request_resend(_caller(), invoice_number, request)
    return _json(202, answer.model_dump(mode="json"))


@app.post(
    "/invoices/<invoice_number>/inquiries",
    summary="Report a problem with one of the caller's invoices (support: any): into the inquiry log",
    responses={
        201: {"description": "reported", "content": {"application/json": {"model": Inquiry}}},
        200: {
            "description": "the same request id again: the inquiry it opened",
            "content": {"application/json": {"model": Inquiry}},
        },
        400: {"description": "a bad body", "content": _ERROR},
        404: {"description": "no such invoice of the caller's", "content": _ERROR},
    },
)
def report_inquiry(invoice_number: str, report: Annotated[InquiryReport, Body()]) -> Response[str]:
    inquiry, created = inquiries.report(_caller(), invoice_number, report)
    if created:  # the reports count them by category; this is the live count on the dashboard
        metrics.add_metric(name="InquiriesOpened", unit=MetricUnit.Count, value=1)
        metrics.add_metadata(key="category", value=inquiry.category.value)
    return _json(201 if created else 200, inquiry.model_dump(mode="json"))


@app.get(
    "/operations/overview",
    summary="Operations, finance and support: the SLA backlog, orders to fix, unmatched payments, the week",
)
def operations_overview() -> OperationsOverview:
    return operations.overview(_caller())


@app.get(
    "/operations/reports",
    summary="Operations, finance and support: a year's operations reports, newest first",
)
def operations_reports(year: Annotated[int | None, Query(ge=2000, le=9999)] = None) -> ReportList:
    return archive.year(_caller(), year)


@app.get(
    "/operations/reports/<report_id>",
    summary="Operations, finance and support: one report's figures, its charts' data and its files' links",
    responses={404: {"description": "no such report", "content": _ERROR}},
)
def operations_report(report_id: str) -> ArchivedReport:
    return archive.one(_caller(), report_id)


@app.get("/support/inquiries", summary="Support: the month's inquiries (the log), by status")
def support_inquiries(
    month: Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}$")] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
) -> InquiryPage:
    return inquiries.month(_caller(), month, status)


@app.get("/support/inquiries/<inquiry_id>", summary="Support: one inquiry and its audit trail")
def support_inquiry(inquiry_id: str) -> InquiryView:
    return inquiries.view(_caller(), inquiry_id)


@app.post(
    "/support/inquiries/<inquiry_id>/actions",
    summary="Support: start, assign, escalate, note or resolve an inquiry (recorded with who and when)",
    responses={
        200: {"description": "done", "content": {"application/json": {"model": InquiryView}}},
        400: {"description": "a bad body", "content": _ERROR},
        403: {"description": "the caller is not support", "content": _ERROR},
        404: {"description": "no such inquiry", "content": _ERROR},
        409: {"description": "the action does not apply to the inquiry as it is", "content": _ERROR},
    },
)
def support_inquiry_action(inquiry_id: str, action: Annotated[InquiryAction, Body()]) -> InquiryView:
    view = inquiries.act(_caller(), inquiry_id, action)
    seconds = view.inquiry.seconds_to_resolve
    if seconds is not None and action.action.value == "resolved":
        metrics.add_metric(name="InquiriesResolved", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="InquirySecondsToResolve", unit=MetricUnit.Seconds, value=seconds)
    return view


@app.exception_handler(InquiryRefused)
def _inquiry_refused(error: InquiryRefused) -> Response[str]:
    return _error(409, str(error), "inquiry_refused")


@app.exception_handler(InquiryConflict)
def _inquiry_conflict(error: InquiryConflict) -> Response[str]:
    return _error(409, "the inquiry changed meanwhile: read it again", "inquiry_conflict")


@app.get("/invoices/<invoice_number>", summary="One of the caller's invoices (support: any)")
def get_invoice(invoice_number: str) -> InvoiceSummary:
    return listing.one(_caller(), invoice_number)


@app.get("/invoices/<invoice_number>/download-link", summary="A durable, signed download link")
def get_download_link(invoice_number: str) -> DownloadLink:
    return listing.download_link(_caller(), invoice_number)


@app.post(
    "/invoices/<invoice_number>/corrections",
    summary="Support: correct an invoice from its order as it is now",
    responses={
        200: {
            "description": "nothing billed differs: unchanged",
            "content": {"application/json": {"model": CorrectionAnswer}},
        },
        201: {
            "description": "corrected (or the same request again: the correction it made), a credit "
            "note and, unless the order was cancelled or refunded, a revised invoice",
            "content": {"application/json": {"model": CorrectionAnswer}},
        },
        400: {"description": "a bad body, or mode explicit (not supported yet)", "content": _ERROR},
        403: {"description": "the caller is not support", "content": _ERROR},
        404: {"description": "no such invoice", "content": _ERROR},
        409: {
            "description": "not the order's current invoice: current_invoice_number says which is",
            "content": _ERROR,
        },
        422: {
            "description": "the order as it is now does not validate; the invoice stands",
            "content": {"application/json": {"model": CorrectionRefused}},
        },
    },
)
def post_correction(invoice_number: str, request: Annotated[CorrectionRequest, Body()]) -> Response[str]:
    if not _caller().is_support:
        raise NotAllowed
    corrected = corrections.correct(_caller(), invoice_number, request)
    return _json(
        201 if corrected.created else 200, corrected.answer.model_dump(mode="json", exclude_none=True)
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
