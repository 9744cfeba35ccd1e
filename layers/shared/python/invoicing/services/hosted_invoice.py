"""The hosted invoice page: the emailed or texted link opened in a browser.

The same signed link as the PDF download (`/download/{number}?token=`): a browser asking for
HTML gets this page, anything else the PDF. The page shows the invoice as issued (its document
of record, through the same view the PDF prints) with what is live beside it: the payment
status and balance, and the corrections (credit notes, the revised invoice), each linked for
the same party. An expired link gets a page offering a fresh one, sent to the contact on file
(a resend, once per expired link), never to an address typed into the page; any other link the
same refusal as a download.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger, InvoiceRecord
from invoicing.adapters.link_keys import LinkKeySource
from invoicing.adapters.resend_log import REQUESTED, ResendLog, ResendRecord
from invoicing.api_models import InquiryReport
from invoicing.domain.credit_note import CreditNoteDocument
from invoicing.domain.documents import parse_document
from invoicing.domain.inquiries import InquiryCategory
from invoicing.domain.invoice import InvoiceDocument, InvoiceKind, InvoiceStatus
from invoicing.domain.links import InvalidLinkToken, Keyring, check_link_shape, sign_link, verify_link
from invoicing.domain.money import format_money
from invoicing.domain.receivables import PAYMENT_STATE_LABELS, PaymentState
from invoicing.domain.vendor_credit_note import VendorCreditNoteDocument
from invoicing.invoice_page.render import render_invoice_page, render_message_page
from invoicing.observability import logger
from invoicing.rendering.credit_note_view import build_credit_note_view
from invoicing.rendering.presentation import InvoiceView, build_view, format_date
from invoicing.rendering.vendor_credit_note_view import build_vendor_credit_note_view
from invoicing.rendering.vendor_view import build_vendor_view
from invoicing.services.inquiry_desk import InquiryDesk
from invoicing.services.invoice_access import _INVOICE_NUMBER, owner
from invoicing.services.invoice_listing import Caller

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RESENDABLE = (InvoiceKind.CUSTOMER, InvoiceKind.CREDIT_NOTE)
CATEGORY_LABELS = {
    InquiryCategory.CHARGES: "A charge or a price",
    InquiryCategory.DISCOUNT: "A discount",
    InquiryCategory.TAX: "Tax",
    InquiryCategory.ADDRESS: "My name or address",
    InquiryCategory.MISSING_INVOICE: "An invoice I did not get",
    InquiryCategory.DELIVERY: "How the invoice reached me",
    InquiryCategory.OTHER: "Something else",
}


class _Everything(frozenset[str]):
    """A page can show every character (the PDF's font cannot): nothing is replaced."""

    def __contains__(self, item: object) -> bool:
        return True


EVERY_CHARACTER = _Everything()


@dataclass(frozen=True)
class PageAnswer:
    status: int
    html: str


REFUSED = PageAnswer(
    403,
    render_message_page(
        "This link does not open an invoice",
        "It is not a link to one of our invoices, or not to yours. Open the link from the email or "
        "text we sent you, or ask customer service for a new one.",
    ),
)


def fresh_link_request_id(token: str) -> str:
    """One fresh link per expired link, however often its button is pressed."""
    return "fresh-link-" + hashlib.sha256(token.encode()).hexdigest()[:24]


class HostedInvoice:
    def __init__(
        self,
        *,
        ledger: InvoiceLedger,
        documents: DocumentStore,
        keys: LinkKeySource,
        resends: ResendLog,
        lifetime: timedelta,
        inquiries: InquiryDesk | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger = ledger
        self._documents = documents
        self._keys = keys
        self._resends = resends
        self._lifetime = lifetime
        self._inquiries = inquiries
        self._clock = clock

    def open(self, invoice_number: str, token: str) -> PageAnswer:
        now = self._clock()
        found = self._checked(invoice_number, token)
        if found is None:
            return REFUSED
        record, party, keyring = found
        try:
            verify_link(keyring, token, invoice_number, now, party_id=party)
        except InvalidLinkToken:
            return self._expired(record, token)
        return PageAnswer(200, self._page(record, party, token, keyring, now))

    def request_fresh_link(self, invoice_number: str, token: str) -> PageAnswer:
        found = self._checked(invoice_number, token)
        if found is None:
            return REFUSED
        record, party, keyring = found
        now = self._clock()
        try:
            verify_link(keyring, token, invoice_number, now, party_id=party)
        except InvalidLinkToken:
            pass  # expired, as expected
        else:
            return PageAnswer(
                200,
                render_message_page(
                    "Your link still works", "Open it again from the email or text: it shows your invoice."
                ),
            )
        if record.kind not in RESENDABLE:
            return PageAnswer(
                403, render_message_page("This link has expired", "Ask customer service for a new one.")
            )
        asked = ResendRecord(
            invoice_number=record.invoice_number,
            request_id=fresh_link_request_id(token),
            requested_by=party,
            requested_at=now,
            reason="fresh link asked for on the invoice page (the emailed link had expired)",
            status=REQUESTED,
        )
        answered = self._resends.request(asked)
        logger.info(
            "fresh link requested", invoice_number=record.invoice_number, repeated=answered is not asked
        )
        return PageAnswer(
            202,
            render_message_page(
                "A fresh link is on its way",
                f"We are emailing {record.invoice_number} again, with a new link, to the email address "
                "we have on file for it. It arrives within a few minutes.",
            ),
        )

    def report_problem(self, invoice_number: str, token: str, form: dict[str, str]) -> PageAnswer:
        """The page's "report a problem": into the inquiry log as the link's own party, once per form."""
        found = self._checked(invoice_number, token)
        if found is None or self._inquiries is None:
            return REFUSED
        record, party, keyring = found
        try:
            verify_link(keyring, token, invoice_number, self._clock(), party_id=party)
        except InvalidLinkToken:
            return self._expired(record, token)
        try:
            report = InquiryReport(
                category=form.get("category", ""),
                description=form.get("description", "").strip(),
                request_id=form.get("request_id") or None,
            )
        except ValueError:
            return PageAnswer(
                400,
                render_message_page(
                    "Please say what is wrong",
                    "Choose what the problem is about and describe it (up to 2,000 characters), "
                    "then send it again.",
                ),
            )
        role = "vendor" if record.vendor_id and party == record.vendor_id else "customer"
        inquiry, _ = self._inquiries.report(Caller(party_id=party, role=role), invoice_number, report)
        return PageAnswer(
            202,
            render_message_page(
                "Thank you: customer service has your report",
                f"It is logged as {inquiry.inquiry_id} for {record.invoice_number}. Customer service will "
                "look into it and contact you; quote that reference if you write to us.",
            ),
        )

    def _checked(self, invoice_number: str, token: str) -> tuple[InvoiceRecord, str, Keyring] | None:
        """The invoice, its party and the keyring, when the token is ours and signed for this
        invoice's party (expired or not); None for anything else."""
        keyring = self._keys.keyring()
        try:
            check_link_shape(keyring, token)
            if not _INVOICE_NUMBER.fullmatch(invoice_number):
                raise InvalidLinkToken
        except InvalidLinkToken:
            return None
        record = self._ledger.get_invoice(invoice_number)
        party = owner(record) if record is not None else None
        if record is None or record.status is not InvoiceStatus.ISSUED or party is None:
            return None
        try:
            verify_link(keyring, token, invoice_number, EPOCH, party_id=party)  # the signature only
        except InvalidLinkToken:
            logger.info("invoice page refused", invoice_number=invoice_number[:32])
            return None
        return record, party, keyring

    def _expired(self, record: InvoiceRecord, token: str) -> PageAnswer:
        number = record.invoice_number
        if record.kind in RESENDABLE:
            return PageAnswer(
                403,
                render_message_page(
                    "This link has expired",
                    f"Links to an invoice work for {self._lifetime.days} days. We can send {number} again, "
                    "with a new link, to the email address we have on file for it.",
                    fresh_link_action=f"/download/{quote(number)}/fresh-link",
                    token=token,
                ),
            )
        return PageAnswer(
            403, render_message_page("This link has expired", "Ask customer service for a new one.")
        )

    def _page(self, record: InvoiceRecord, party: str, token: str, keyring: Keyring, now: datetime) -> str:
        if not (record.document_key and record.document_sha256):
            raise LookupError(f"{record.invoice_number} has no document recorded")
        data = self._documents.get_verified(
            record.document_key, record.document_version_id, record.document_sha256
        )
        view = _view_of(data)

        def link(number: str) -> str:
            signed = sign_link(keyring, number, party, now, self._lifetime)
            return f"/download/{quote(number)}?token={signed}"

        number = quote(record.invoice_number)
        return render_invoice_page(
            view=view,
            status=_status(record, now),
            balance=_balance(record, now),
            chain=_chain(record, link),
            pdf_url=f"/download/{number}?token={token}&format=pdf",
            problem_action=f"/download/{number}/problem" if self._inquiries is not None else None,
            token=token,
            request_id=uuid.uuid4().hex,
            categories=[(category.value, label) for category, label in CATEGORY_LABELS.items()],
        )


def _view_of(data: bytes) -> InvoiceView:
    document = parse_document(data)
    if isinstance(document, InvoiceDocument):
        return build_view(document, EVERY_CHARACTER)
    if isinstance(document, CreditNoteDocument):
        return build_credit_note_view(document, EVERY_CHARACTER)
    if isinstance(document, VendorCreditNoteDocument):
        return build_vendor_credit_note_view(document, EVERY_CHARACTER)
    return build_vendor_view(document, EVERY_CHARACTER)


@dataclass(frozen=True)
class _Status:
    label: str
    css: str


@dataclass(frozen=True)
class _Balance:
    heading: str
    text: str


@dataclass(frozen=True)
class _ChainItem:
    text: str
    number: str
    url: str | None


def _status(record: InvoiceRecord, now: datetime) -> _Status:
    if record.replaced_by:
        return _Status(f"Replaced by {record.replaced_by}", "replaced")
    if record.kind is InvoiceKind.CREDIT_NOTE or record.kind is InvoiceKind.VENDOR_CREDIT_NOTE:
        return _Status("Credit note", "credited")
    if record.kind is InvoiceKind.VENDOR:
        return _Status("Issued", "paid")
    state = record.receivable().state(now.date())
    return _Status(PAYMENT_STATE_LABELS[state], state.value)


def _balance(record: InvoiceRecord, now: datetime) -> _Balance | None:
    if record.kind is not InvoiceKind.CUSTOMER or record.replaced_by:
        return None
    receivable = record.receivable()
    state = receivable.state(now.date())
    if not state.is_open:
        return None
    owed = format_money(receivable.balance_due, record.currency)
    if state is PaymentState.OVERDUE and record.due_date:
        return _Balance("Payment overdue", f"{owed} was due on {format_date(record.due_date)}.")
    due = f", due by {format_date(record.due_date)}" if record.due_date else ""
    return _Balance("Balance due", f"{owed}{due}.")


def _chain(record: InvoiceRecord, link: Callable[[str], str]) -> list[_ChainItem]:
    chain: list[_ChainItem] = []
    if record.replaces:
        chain.append(_ChainItem("This invoice replaces invoice", record.replaces, link(record.replaces)))
    if record.credits_invoice_number:
        chain.append(
            _ChainItem(
                "This credit note credits invoice",
                record.credits_invoice_number,
                link(record.credits_invoice_number),
            )
        )
    for credit_note in record.credit_notes:
        chain.append(_ChainItem("Credited by credit note", credit_note, link(credit_note)))
    if record.replaced_by:
        chain.append(
            _ChainItem("Replaced by the revised invoice", record.replaced_by, link(record.replaced_by))
        )
    return chain
