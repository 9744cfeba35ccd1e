"""Invoices API: a customer's or vendor's own invoices, behind API Gateway's JWT authorizer.

GET /invoices                               newest first; filters, pagination
GET /invoices/{invoice_number}              one of the caller's invoices (404 otherwise)
GET /invoices/{invoice_number}/download-link   a durable signed link for the caller
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.invoice_queries import InvoiceQueries
from invoicing.adapters.link_keys import LinkKeySource
from invoicing.api_models import DownloadLink, InvoicePage, InvoiceSummary
from invoicing.observability import logger, tracer
from invoicing.services.download_links import DownloadLinks
from invoicing.services.invoice_listing import (
    BadRequest,
    Caller,
    InvoiceListing,
    NotAllowed,
    NotFound,
    caller_from_claims,
)
from invoicing.settings import api_settings

settings = api_settings()
lifetime = timedelta(days=settings.link_lifetime_days)
# One keyring: it signs download links, and page tokens are sealed with a key derived from it.
keys = LinkKeySource(settings.link_keys_secret_id)
listing = InvoiceListing(
    queries=InvoiceQueries(settings.invoices_table_name),
    ledger=InvoiceLedger(settings.invoices_table_name),
    page_keys=keys,
    link_for=DownloadLinks(keys, settings.download_base_url, lifetime).link_for,
    link_lifetime=lifetime,
)
app = APIGatewayHttpResolver(enable_validation=True)


def _caller() -> Caller:
    claims = app.current_event.request_context.authorizer.jwt_claim or {}
    return caller_from_claims(claims)


def _error(status: int, message: str, code: str | None = None) -> Response[str]:
    body = {"error": code, "message": message} if code else {"message": message}
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


@app.exception_handler(NotAllowed)
def _forbidden(_: NotAllowed) -> Response[str]:
    return _error(403, "Forbidden")


@app.exception_handler(NotFound)
def _not_found(_: NotFound) -> Response[str]:
    return _error(404, "Not found")


@app.exception_handler(BadRequest)
def _bad_request(error: BadRequest) -> Response[str]:
    return _error(400, str(error), error.code)


@app.get("/invoices", summary="The caller's invoices, newest first")
def list_invoices(  # noqa: PLR0917 (Powertools binds query parameters by name)
    order_id: Annotated[str | None, Query(max_length=64)] = None,
    payment_status: Annotated[str | None, Query(pattern="^[A-Z_]{3,20}$")] = None,
    issued_from: Annotated[date | None, Query()] = None,
    issued_to: Annotated[date | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> InvoicePage:
    return listing.page(
        _caller(),
        limit=limit,
        next_token=next_token,
        order_id=order_id,
        payment_status=payment_status,
        issued_from=issued_from,
        issued_to=issued_to,
    )


@app.get("/invoices/<invoice_number>", summary="One of the caller's invoices")
def get_invoice(invoice_number: str) -> InvoiceSummary:
    return listing.one(_caller(), invoice_number)


@app.get("/invoices/<invoice_number>/download-link", summary="A durable, signed download link")
def get_download_link(invoice_number: str) -> DownloadLink:
    return listing.download_link(_caller(), invoice_number)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
