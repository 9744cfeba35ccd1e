"""Download endpoint: GET /download/{invoice_number}?token=... -> 302 to a fresh presigned URL of the
PDF, or, for a browser (it asks for text/html; `&format=pdf` asks for the PDF), the hosted invoice
page (services/hosted_invoice.py), and POST /download/{invoice_number}/fresh-link (an expired
link's token) -> the invoice emailed again with a new link to the address on file;
GET /reports/{report_id}/{file}?token=... the same for a reconciliation report's file (finance's);
GET /statements/{statement_id}?token=... for a vendor statement (its vendor's); and
GET /feedback/{invoice_number}?token=...&answer=yes|no, the invoice email's one-click feedback.

No authorizer on these routes: the signed, expiring, per-document token is the credential. Every
refusal is the same 403.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.adapters.delivery_log import record_download
from invoicing.adapters.document_links import DocumentLinks
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.inquiry_log import InquiryLog
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.invoice_queries import InvoiceQueries
from invoicing.adapters.link_keys import LinkKeySource
from invoicing.adapters.report_counters import ReportCounters
from invoicing.adapters.resend_log import ResendLog
from invoicing.adapters.vendor_accounts import VendorAccounts
from invoicing.domain.report_counts import Counter
from invoicing.invoice_page.render import page_headers
from invoicing.observability import logger, metrics, tracer
from invoicing.services.hosted_invoice import REFUSED, HostedInvoice, PageAnswer
from invoicing.services.inquiry_desk import InquiryDesk
from invoicing.services.invoice_access import AccessDenied, InvoiceAccess, open_report, open_statement
from invoicing.services.invoice_feedback import InvoiceFeedback, feedback_page
from invoicing.services.invoice_listing import InvoiceListing
from invoicing.settings import download_settings

settings = download_settings()
keys = LinkKeySource(settings.link_keys_secret_id)
links = DocumentLinks(settings.invoice_bucket_name)
# One ledger (and its DynamoDB client) for every route: each client costs the cold start.
ledger = InvoiceLedger(settings.invoices_table_name)
access = InvoiceAccess(
    ledger=ledger,
    keys=keys,
    links=links,
    record_download=record_download(settings.invoices_table_name),
)
statements = VendorAccounts(settings.invoices_table_name)
feedback = InvoiceFeedback(table_name=settings.invoices_table_name, ledger=ledger, keys=keys)
counters = ReportCounters(settings.report_counters_table_name, settings.report_counter_shards)
hosted = HostedInvoice(
    ledger=ledger,
    documents=DocumentStore(settings.invoice_bucket_name),
    keys=keys,
    resends=ResendLog(settings.invoices_table_name),
    lifetime=timedelta(days=settings.link_lifetime_days),
    inquiries=InquiryDesk(
        log=InquiryLog(settings.invoices_table_name),
        listing=InvoiceListing(  # only its "is this the caller's invoice" is used here
            queries=InvoiceQueries(settings.invoices_table_name),
            ledger=ledger,
            page_keys=keys,
            link_for=lambda number, party: "",
            link_lifetime=timedelta(days=settings.link_lifetime_days),
        ),
    ),
)
app = APIGatewayHttpResolver()
FORBIDDEN = Response(
    status_code=403,
    content_type=content_types.APPLICATION_JSON,
    body='{"message": "Forbidden"}',
    headers={"Cache-Control": "no-store"},
)


@app.get("/download/<invoice_number>")
def download(invoice_number: str) -> Response[str]:
    event = app.current_event
    token = event.get_query_string_value("token", "") or ""
    if wants_page(event.headers or {}, event.get_query_string_value("format", "") or ""):
        answer = hosted.open(invoice_number, token)
        if answer.status != 200:
            count_refusal()
        return page(answer)
    try:
        url = access.open_with_token(invoice_number, token)
    except AccessDenied:
        count_refusal()
        return FORBIDDEN
    return Response(status_code=302, body="", headers={"Location": url, "Cache-Control": "no-store"})


def wants_page(headers: dict[str, str], wanted_format: str) -> bool:
    """A browser following the link (it asks for HTML), unless the page's own button asked for the PDF."""
    accept = next((v for k, v in headers.items() if k.lower() == "accept"), "")
    return wanted_format != "pdf" and "text/html" in accept


def page(answer: PageAnswer) -> Response[str]:
    return Response(status_code=answer.status, body=answer.html, headers=page_headers())


def posted_form() -> dict[str, str] | None:
    """The page's form fields (the first of each); None for a body that is not a small form."""
    try:
        fields = parse_qs(app.current_event.decoded_body or "", max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        return None
    return {name: values[0] for name, values in fields.items()}


@app.post("/download/<invoice_number>/fresh-link")
def fresh_link(invoice_number: str) -> Response[str]:
    """The expired-link page's button: the token comes in the form, never an address."""
    form = posted_form()
    if form is None:
        return page(REFUSED)
    return page(hosted.request_fresh_link(invoice_number, form.get("token", "")))


@app.post("/download/<invoice_number>/problem")
def report_problem(invoice_number: str) -> Response[str]:
    """The page's "report a problem", into the inquiry log as the link's own customer."""
    form = posted_form()
    if form is None:
        return page(REFUSED)
    return page(hosted.report_problem(invoice_number, form.get("token", ""), form))


def count_refusal() -> None:
    """A refused download counts in the operations report; a failure to count never fails the answer."""
    metrics.add_metric(name="DownloadsRefused", unit=MetricUnit.Count, value=1)
    try:
        counters.add_now(datetime.now(UTC).date(), {Counter.DOWNLOADS_REFUSED: 1})
    except Exception:
        logger.warning("refused download not counted", exc_info=True)


@app.get("/reports/<report_id>/<file_name>")
def report(report_id: str, file_name: str) -> Response[str]:
    token = app.current_event.get_query_string_value("token", "") or ""
    try:
        url = open_report(
            keys, links, report_id=report_id, file_name=file_name, token=token, now=datetime.now(UTC)
        )
    except AccessDenied:
        return FORBIDDEN
    return Response(status_code=302, body="", headers={"Location": url, "Cache-Control": "no-store"})


@app.get("/feedback/<invoice_number>")
def give_feedback(invoice_number: str) -> Response[str]:
    event = app.current_event
    token = event.get_query_string_value("token", "") or ""
    answer = event.get_query_string_value("answer", "") or ""
    try:
        first = feedback.answer(invoice_number, token, answer)
    except AccessDenied:
        page = feedback_page("This link does not work", "It is not a feedback link of one of our invoices.")
        return Response(status_code=403, content_type="text/html; charset=utf-8", body=page)
    if first:
        name = "FeedbackYes" if answer == "yes" else "FeedbackNo"
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    message = (
        "Your answer is recorded. It helps us make invoices clearer."
        if first
        else "An answer for this invoice was already recorded; thank you."
    )
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=feedback_page("Thank you", message),
        headers={"Cache-Control": "no-store"},
    )


@app.get("/statements/<statement_id>")
def statement(statement_id: str) -> Response[str]:
    token = app.current_event.get_query_string_value("token", "") or ""
    try:
        url = open_statement(
            keys, links, statements, statement_id=statement_id, token=token, now=datetime.now(UTC)
        )
    except AccessDenied:
        return FORBIDDEN
    return Response(status_code=302, body="", headers={"Location": url, "Cache-Control": "no-store"})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
