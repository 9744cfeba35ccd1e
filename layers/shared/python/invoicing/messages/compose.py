"""The customer's invoice email: subject, plain-text and HTML bodies, the PDF attached.

Bodies come from jinja2 templates with autoescaping on for HTML, so a customer named
"<script>" is printed, never run.
"""

from __future__ import annotations

from decimal import Decimal
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from invoicing.domain.events import InvoiceIssued
from invoicing.domain.invoice import InvoiceDocument, Seller
from invoicing.domain.money import format_money
from invoicing.domain.order import PaymentStatus
from invoicing.domain.vendors import Vendor

SUBJECT = "Your SayPro Order Invoice {number}"
VENDOR_SUBJECT = "SayPro vendor invoice {number} for order {order_id}"
_PAYMENT_WORDS = {PaymentStatus.CAPTURED: "Paid", PaymentStatus.REFUNDED: "Refunded"}


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("invoicing.messages", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def payment_status_words(status: PaymentStatus) -> str:
    return _PAYMENT_WORDS.get(status, status.value.title())


def compose_invoice_email(
    document: InvoiceDocument, pdf: bytes, *, sender: str, recipient: str, download_url: str
) -> EmailMessage:
    order = document.order

    def money(amount: Decimal) -> str:
        return format_money(amount, order.currency)

    context = {
        "invoice_number": document.invoice_number,
        "order": order,
        "customer": order.customer,
        "priced": document.priced,
        "seller": document.seller,
        "payment_status": payment_status_words(order.payment.status),
        "download_url": download_url,
        "money": money,
    }
    message = EmailMessage()
    message["Subject"] = SUBJECT.format(number=document.invoice_number)
    message["From"] = sender
    message["To"] = formataddr((order.customer.name, recipient))
    message["Reply-To"] = str(Address(display_name=document.seller.name, addr_spec=document.seller.email))
    message.set_content(_templates().get_template("customer_email.txt.j2").render(context))
    message.add_alternative(
        _templates().get_template("customer_email.html.j2").render(context), subtype="html"
    )
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=document.file_name)
    return message


def compose_invoice_sms(document: InvoiceDocument, download_url: str) -> str:
    """Short enough for two SMS segments with a typical link; no personal data beyond the number."""
    total = format_money(document.priced.totals.grand_total, document.order.currency)
    number, order_id = document.invoice_number, document.order.order_id
    return f"SayPro: invoice {number} for order {order_id}, {total}. {download_url}"


def compose_vendor_invoice_email(
    issued: InvoiceIssued, vendor: Vendor, pdf: bytes, *, sender: str, seller: Seller, download_url: str
) -> EmailMessage:
    context = {
        "invoice_number": issued.invoice_number,
        "order_id": issued.order_id,
        "vendor": vendor,
        "seller": seller,
        "gross_sales": format_money(Decimal(issued.grand_total), issued.currency),
        "payment_status": payment_status_words(PaymentStatus(issued.payment_status)),
        "download_url": download_url,
    }
    message = EmailMessage()
    message["Subject"] = VENDOR_SUBJECT.format(number=issued.invoice_number, order_id=issued.order_id)
    message["From"] = sender
    message["To"] = formataddr((vendor.name, vendor.email))
    message["Reply-To"] = str(Address(display_name=seller.name, addr_spec=seller.email))
    message.set_content(_templates().get_template("vendor_email.txt.j2").render(context))
    message.add_alternative(_templates().get_template("vendor_email.html.j2").render(context), subtype="html")
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=f"{issued.invoice_number}.pdf"
    )
    return message
