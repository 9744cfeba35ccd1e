"""The invoice emails and texts: subject, plain-text and HTML bodies, the PDF attached.

Everything they say comes from the invoice document, so they can never disagree with the PDF
attached. Bodies come from jinja2 templates with autoescaping on for HTML, so a customer named
"<script>" is printed, never run.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from email.headerregistry import Address
from email.message import EmailMessage
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from invoicing.domain.credit_note import CreditNoteDocument, CreditScope
from invoicing.domain.invoice import InvoiceDocument, Seller
from invoicing.domain.money import format_money
from invoicing.domain.order import PaymentStatus
from invoicing.domain.vendor_credit_note import VendorCreditNoteDocument
from invoicing.domain.vendor_invoice import VendorInvoiceDocument
from invoicing.domain.vendors import Vendor
from invoicing.messages.summary import order_summary
from invoicing.rendering.presentation import format_date

SUBJECT = "Your SayPro Order Invoice {number}"
VENDOR_SUBJECT = "SayPro vendor invoice {number} for order {order_id}"
CORRECTED_SUBJECT = "Your corrected SayPro invoice {number}"
CREDIT_NOTE_SUBJECT = "Your SayPro credit note {number}"
_PAYMENT_WORDS = {
    PaymentStatus.CAPTURED: "Paid",
    PaymentStatus.REFUNDED: "Refunded",
    PaymentStatus.PENDING: "Unpaid",
    PaymentStatus.AUTHORIZED: "Authorised, unpaid",
}


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


_DISPLAY_NAME_LENGTH = 78


def display_name(name: str) -> str:
    """A name as a mail header can carry it: line breaks and other control characters (which
    would split the header, and make composing raise) become spaces, runs of space one, and a
    long name is cut; non-ASCII stays and is encoded (RFC 2047) when the message is written."""
    cleaned = "".join(" " if unicodedata.category(char)[0] in "CZ" else char for char in name)
    return " ".join(cleaned.split())[:_DISPLAY_NAME_LENGTH]


def mailbox(name: str, address: str) -> Address:
    """`name <address>` for a header; the address split by hand, not parsed, so that any address
    validation let through (quoted or odd local parts) is written, quoted as needed, never raised on."""
    local, _, domain = address.rpartition("@")
    return Address(display_name=display_name(name), username=local, domain=domain)


def payment_status_words(status: PaymentStatus) -> str:
    return _PAYMENT_WORDS.get(status, status.value.title())


def how_to_pay(document: InvoiceDocument) -> dict[str, str] | None:
    """An unpaid invoice's payment due, as the email says it (None when it is paid)."""
    payment = document.payment
    if not payment.is_unpaid or payment.due_date is None or payment.balance_due is None:
        return None
    return {
        "balance_due": format_money(payment.balance_due, document.currency),
        "due_date": format_date(payment.due_date),
        "instructions": payment.instructions or "",
    }


def compose_invoice_email(
    document: InvoiceDocument,
    pdf: bytes,
    *,
    sender: str,
    recipient: str,
    download_url: str,
    feedback_url: str | None = None,
) -> EmailMessage:
    """`feedback_url`: the signed one-click "was this invoice clear and correct?" (the answer is
    added to it as `&answer=yes` or `&answer=no`)."""
    context = {
        "feedback_url": feedback_url,
        "invoice_number": document.invoice_number,
        "order": document.order,
        "customer": document.customer,
        "summary": order_summary(document),
        "payment": document.payment,
        "shipping": document.shipping,
        "seller": document.seller,
        "payment_status": payment_status_words(document.payment.status),
        "how_to_pay": how_to_pay(document),
        "download_url": download_url,
    }
    message = EmailMessage()
    message["Subject"] = SUBJECT.format(number=document.invoice_number)
    message["From"] = sender
    message["To"] = mailbox(document.customer.name, recipient)
    message["Reply-To"] = mailbox(document.seller.name, document.seller.email)
    message.set_content(_templates().get_template("customer_email.txt.j2").render(context))
    message.add_alternative(
        _templates().get_template("customer_email.html.j2").render(context), subtype="html"
    )
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=document.file_name)
    return message


def compose_invoice_sms(document: InvoiceDocument, download_url: str) -> str:
    """`Invoice INV-2026-000002, 27.16 GBP: <link>`: one GSM-7 segment (160) with a v2 link.

    The SMS sender id already says "SayPro", so the text does not. The words are 27 characters
    plus the total (`27.16 GBP` 9, `19,062.69 EUR` 13); a v2 link is its base URL plus 65 and the
    key id (`/download/<number>?token=` 32, the token 33 + key id). With the deployed key id `k1`:

    * custom domain `https://invoices.saypro.example`: link 98, text 134 (138 with 19,062.69 EUR);
    * the API's default `https://<10>.execute-api.eu-west-1.amazonaws.com`: link 121, text 157,
      so one segment for a total of up to 12 characters (`1,234.56 EUR`), 161 and two segments
      for `19,062.69 EUR`;
    * make local (`http://127.0.0.1:<port>`, key id `local-1`): link 93-94, text 129-130.

    A link with an old v1 token (about 130 characters) would be two segments, never three. Nothing
    free-text goes in (no name, no description): a name such as "Zoë Łukasiewicz" would turn the
    whole text into UCS-2, 70 characters a segment, and is personal data besides. The number, the
    amount, the currency code and the link are ASCII: always GSM-7.
    """
    total = format_money(document.totals.grand_total, document.currency)
    return f"Invoice {document.invoice_number}, {total}: {download_url}"


def compose_vendor_invoice_email(
    document: VendorInvoiceDocument, pdf: bytes, *, sender: str, recipient: str, download_url: str
) -> EmailMessage:
    statement, seller = document.statement, document.seller
    context = {
        "invoice_number": document.invoice_number,
        "order_id": document.order.order_id,
        "vendor": statement.vendor,
        "seller": seller,
        "gross_sales": format_money(statement.gross_sales, statement.currency),
        "amount_owed": format_money(statement.amount_owed, statement.currency),
        "payment_status": payment_status_words(document.payment_status),
        "download_url": download_url,
    }
    message = EmailMessage()
    message["Subject"] = VENDOR_SUBJECT.format(
        number=document.invoice_number, order_id=document.order.order_id
    )
    message["From"] = sender
    message["To"] = mailbox(statement.vendor.name, recipient)
    message["Reply-To"] = mailbox(seller.name, seller.email)
    message.set_content(_templates().get_template("vendor_email.txt.j2").render(context))
    message.add_alternative(_templates().get_template("vendor_email.html.j2").render(context), subtype="html")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=document.file_name)
    return message


# --- corrections -------------------------------------------------------------------------------


class MismatchedCorrection(Exception):
    """The revised invoice and the credit note given are not the two halves of one correction: a
    fault of the records, never of a channel, so it is not a ValueError (which passes email over)."""


def correction_sentence(credit_note: CreditNoteDocument, revised: InvoiceDocument | None = None) -> str:
    """What changed and why, in one sentence, from the documents alone.

    "We corrected your invoice because the order was changed after the invoice was issued: invoice
    INV-2026-000001 is cancelled by credit note CN-2026-000001 and replaced by invoice
    INV-2026-000002." A credit note alone says what it cancels (the invoice, part of it, or what
    was left of it after earlier credit notes) and credits instead.
    """
    original, number = credit_note.credits.invoice_number, credit_note.invoice_number
    if revised is None:
        credited = format_money(credit_note.totals.grand_total, credit_note.currency)
        if credit_note.scope is CreditScope.LINES:
            cancels = f"part of invoice {original}"
        elif credit_note.totals.grand_total != credit_note.credits.grand_total:
            cancels = f"what was left of invoice {original}"
        else:
            cancels = f"invoice {original}"
        return (
            f"We issued this credit note because {credit_note.reason_text}: "
            f"credit note {number} cancels {cancels} and credits you {credited}."
        )
    return (
        f"We corrected your invoice because {credit_note.reason_text}: invoice {original} is "
        f"cancelled by credit note {number} and replaced by invoice {revised.invoice_number}."
    )


def check_correction(revised: InvoiceDocument, credit_note: CreditNoteDocument) -> None:
    if (
        revised.replaces != credit_note.credits.invoice_number
        or credit_note.replaced_by != revised.invoice_number
        or revised.order.order_id != credit_note.order.order_id
    ):
        raise MismatchedCorrection(
            f"{credit_note.invoice_number} does not cancel what {revised.invoice_number} replaces"
        )


def compose_corrected_invoice_email(
    revised: InvoiceDocument,
    revised_pdf: bytes,
    credit_note: CreditNoteDocument,
    credit_note_pdf: bytes,
    *,
    sender: str,
    recipient: str,
    download_url: str,
    credit_note_url: str,
) -> EmailMessage:
    """One email for one correction: the revised invoice and the credit note that cancels the
    invoice it replaces, both attached, and why (the credit note's reason)."""
    check_correction(revised, credit_note)
    context = {
        "invoice_number": revised.invoice_number,
        "credit_note_number": credit_note.invoice_number,
        "original_number": credit_note.credits.invoice_number,
        "original_total": format_money(credit_note.credits.grand_total, credit_note.currency),
        "credited_total": format_money(credit_note.totals.grand_total, credit_note.currency),
        "sentence": correction_sentence(credit_note, revised),
        "order": revised.order,
        "customer": revised.customer,
        "summary": order_summary(revised),
        "seller": revised.seller,
        "payment_status": payment_status_words(revised.payment.status),
        "download_url": download_url,
        "credit_note_url": credit_note_url,
    }
    message = _customer_message(
        CORRECTED_SUBJECT.format(number=revised.invoice_number),
        "corrected_invoice_email",
        context,
        revised,
        sender=sender,
        recipient=recipient,
    )
    message.add_attachment(revised_pdf, maintype="application", subtype="pdf", filename=revised.file_name)
    message.add_attachment(
        credit_note_pdf, maintype="application", subtype="pdf", filename=credit_note.file_name
    )
    return message


def compose_credit_note_email(
    credit_note: CreditNoteDocument, pdf: bytes, *, sender: str, recipient: str, download_url: str
) -> EmailMessage:
    """A credit note on its own (the order was cancelled or refunded): its PDF and why."""
    context = {
        "credit_note_number": credit_note.invoice_number,
        "original_number": credit_note.credits.invoice_number,
        "original_total": format_money(credit_note.credits.grand_total, credit_note.currency),
        "credited_total": format_money(credit_note.totals.grand_total, credit_note.currency),
        "sentence": correction_sentence(credit_note),
        "order": credit_note.order,
        "customer": credit_note.customer,
        "seller": credit_note.seller,
        "download_url": download_url,
    }
    message = _customer_message(
        CREDIT_NOTE_SUBJECT.format(number=credit_note.invoice_number),
        "credit_note_email",
        context,
        credit_note,
        sender=sender,
        recipient=recipient,
    )
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=credit_note.file_name)
    return message


def _customer_message(
    subject: str,
    template: str,
    context: dict[str, object],
    document: InvoiceDocument | CreditNoteDocument,
    *,
    sender: str,
    recipient: str,
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = mailbox(document.customer.name, recipient)
    message["Reply-To"] = mailbox(document.seller.name, document.seller.email)
    message.set_content(_templates().get_template(f"{template}.txt.j2").render(context))
    message.add_alternative(_templates().get_template(f"{template}.html.j2").render(context), subtype="html")
    return message


def compose_corrected_invoice_sms(revised: InvoiceDocument, download_url: str) -> str:
    """`Corrected invoice INV-2026-000002, 27.16 GBP: <link>`: 10 characters more than the invoice
    text (`compose_invoice_sms`). With a v2 link and a 9-character total: one GSM-7 segment on the
    custom domain (144) and locally (135); two on the API's default URL (167)."""
    total = format_money(revised.totals.grand_total, revised.currency)
    return f"Corrected invoice {revised.invoice_number}, {total}: {download_url}"


def compose_credit_note_sms(credit_note: CreditNoteDocument, download_url: str) -> str:
    """`Credit note CN-2026-000001, 27.16 GBP: <link>`: 2 characters more than the invoice text (the
    words 4 longer, the number 1 shorter in the text and in the link). With a v2 link and a
    9-character total: one GSM-7 segment on the custom domain (136), locally (127) and on the API's
    default URL (159)."""
    total = format_money(credit_note.totals.grand_total, credit_note.currency)
    return f"Credit note {credit_note.invoice_number}, {total}: {download_url}"


# --- vendor corrections ------------------------------------------------------------------------

VENDOR_CORRECTED_SUBJECT = "SayPro corrected vendor invoice {number} for order {order_id}"
VENDOR_CREDIT_NOTE_SUBJECT = "SayPro vendor credit note {number} for order {order_id}"


def vendor_correction_sentence(
    credit_note: VendorCreditNoteDocument, revised: VendorInvoiceDocument | None = None
) -> str:
    """What changed for the vendor and why, from the documents alone."""
    original = credit_note.credits.invoice_number
    if revised is None:
        part = "in full" if credit_note.scope is CreditScope.FULL else "in part"
        return (
            f"We credited your vendor invoice {original} {part} because {credit_note.reason_text}: "
            f"see credit note {credit_note.invoice_number}."
        )
    return (
        f"We corrected your vendor invoice because {credit_note.reason_text}: vendor invoice {original} "
        f"is cancelled by credit note {credit_note.invoice_number} and replaced by vendor invoice "
        f"{revised.invoice_number}."
    )


def check_vendor_correction(revised: VendorInvoiceDocument, credit_note: VendorCreditNoteDocument) -> None:
    if (
        revised.replaces != credit_note.credits.invoice_number
        or credit_note.replaced_by != revised.invoice_number
        or revised.statement.vendor.vendor_id != credit_note.vendor.vendor_id
    ):
        raise MismatchedCorrection(
            f"{credit_note.invoice_number} does not cancel what {revised.invoice_number} replaces"
        )


def compose_vendor_correction_email(
    credit_note: VendorCreditNoteDocument,
    credit_note_pdf: bytes,
    revised: tuple[VendorInvoiceDocument, bytes] | None,
    *,
    sender: str,
    recipient: str,
    download_url: str,
    credit_note_url: str,
) -> EmailMessage:
    """One email per vendor correction: the credit note, with the revised vendor invoice when
    there is one (both attached), and why."""
    revised_document = revised[0] if revised else None
    if revised_document is not None:
        check_vendor_correction(revised_document, credit_note)
    currency, seller, order_id = credit_note.currency, credit_note.seller, credit_note.order.order_id
    subject = (
        VENDOR_CORRECTED_SUBJECT.format(number=revised_document.invoice_number, order_id=order_id)
        if revised_document
        else VENDOR_CREDIT_NOTE_SUBJECT.format(number=credit_note.invoice_number, order_id=order_id)
    )
    context = {
        "subject": subject,
        "vendor": credit_note.vendor,
        "seller": seller,
        "order_id": order_id,
        "sentence": vendor_correction_sentence(credit_note, revised_document),
        "credit_note_number": credit_note.invoice_number,
        "original_number": credit_note.credits.invoice_number,
        "credited_gross": format_money(credit_note.totals.gross_sales, currency),
        "credited_commission": format_money(credit_note.totals.commission, currency),
        "credited_owed": format_money(credit_note.totals.amount_owed, currency),
        "revised_number": revised_document.invoice_number if revised_document else None,
        "revised_owed": format_money(revised_document.statement.amount_owed, currency)
        if revised_document
        else None,
        "download_url": download_url,
        "credit_note_url": credit_note_url,
    }
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = mailbox(credit_note.vendor.name, recipient)
    message["Reply-To"] = mailbox(seller.name, seller.email)
    message.set_content(_templates().get_template("vendor_correction_email.txt.j2").render(context))
    message.add_alternative(
        _templates().get_template("vendor_correction_email.html.j2").render(context), subtype="html"
    )
    if revised is not None:
        message.add_attachment(
            revised[1], maintype="application", subtype="pdf", filename=revised[0].file_name
        )
    message.add_attachment(
        credit_note_pdf, maintype="application", subtype="pdf", filename=credit_note.file_name
    )
    return message


REMINDER_SUBJECTS = {
    "before": "Payment reminder: SayPro invoice {number} is due on {due}",
    "on": "Payment due today: SayPro invoice {number}",
    "after": "Overdue: SayPro invoice {number} was due on {due}",
}


def compose_payment_reminder_email(
    document: InvoiceDocument,
    pdf: bytes,
    *,
    stage: str,
    balance_due: Decimal,
    received: Decimal,
    sender: str,
    recipient: str,
    download_url: str,
) -> EmailMessage:
    """The reminder of an unpaid invoice: the figures are the invoice's live balance (what was
    received since it was issued), the rest is the invoice document's."""
    due = document.payment.due_date
    if due is None:
        raise ValueError(f"{document.invoice_number} has no due date to remind of")
    currency = document.currency
    subject = REMINDER_SUBJECTS[stage].format(number=document.invoice_number, due=format_date(due))
    context = {
        "subject": subject,
        "stage": stage,
        "invoice_number": document.invoice_number,
        "order": document.order,
        "customer": document.customer,
        "seller": document.seller,
        "due_date": format_date(due),
        "total": format_money(document.totals.grand_total, currency),
        "paid": format_money(received, currency) if received > 0 else None,
        "balance_due": format_money(balance_due, currency),
        "instructions": document.payment.instructions or "",
        "download_url": download_url,
    }
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = mailbox(document.customer.name, recipient)
    message["Reply-To"] = mailbox(document.seller.name, document.seller.email)
    message.set_content(_templates().get_template("payment_reminder_email.txt.j2").render(context))
    message.add_alternative(
        _templates().get_template("payment_reminder_email.html.j2").render(context), subtype="html"
    )
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=document.file_name)
    return message


def compose_payment_reminder_sms(
    document: InvoiceDocument, *, stage: str, balance_due: Decimal, download_url: str
) -> str:
    """`Reminder: invoice INV-2026-000010, 52.73 EUR due 5 Dec 2026: <link>` (GSM-7, no names)."""
    due = document.payment.due_date
    words = {"before": "Reminder", "on": "Due today", "after": "Overdue"}[stage]
    amount = format_money(balance_due, document.currency)
    when = f" due {format_date(due)}" if due and stage != "on" else ""
    return f"{words}: invoice {document.invoice_number}, {amount}{when}: {download_url}"


VENDOR_STATEMENT_SUBJECT = "SayPro vendor statement {statement_id} for {period}"


def compose_vendor_statement_email(
    vendor: Vendor,
    seller: Seller,
    pdf: bytes,
    *,
    statement_id: str,
    period: str,
    currency: str,
    opening: Decimal,
    closing: Decimal,
    sender: str,
    download_url: str,
) -> EmailMessage:
    subject = VENDOR_STATEMENT_SUBJECT.format(statement_id=statement_id, period=period)
    context = {
        "subject": subject,
        "vendor": vendor,
        "seller": seller,
        "statement_id": statement_id,
        "period": period,
        "opening": format_money(opening, currency),
        "closing": format_money(closing, currency),
        "direction": "owed to you" if closing >= 0 else "owed by you",
        "download_url": download_url,
    }
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = mailbox(vendor.name, vendor.email)
    message["Reply-To"] = mailbox(seller.name, seller.email)
    message.set_content(_templates().get_template("vendor_statement_email.txt.j2").render(context))
    message.add_alternative(
        _templates().get_template("vendor_statement_email.html.j2").render(context), subtype="html"
    )
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{statement_id}.pdf")
    return message
