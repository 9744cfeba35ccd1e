"""The messages of a correction: one email with both PDFs and why, or a credit note on its own."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from invoicing.domain.credit_note import CreditNoteDocument, CreditReason, full_credit, partial_credit
from invoicing.domain.invoice import InvoiceDocument
from invoicing.domain.links import Keyring, sign_link
from invoicing.messages.compose import (
    MismatchedCorrection,
    compose_corrected_invoice_email,
    compose_corrected_invoice_sms,
    compose_credit_note_email,
    compose_credit_note_sms,
    correction_sentence,
)
from invoicing.messages.sms import SmsEncoding, sms_segments
from tests.documents import invoice_document

ISSUED = datetime(2026, 11, 21, 14, 3, tzinfo=UTC)
CORRECTED = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
REVISED_PDF, CREDIT_PDF = b"%PDF-1.7 revised \x00\xff", b"%PDF-1.7 credit \x00\xfe"
LINK = "https://invoices.saypro.example/download/INV-2026-000008?token=v2.k1.tv8q0w.abcdefghijklmnopqrstuvwxyz12345"
CN_LINK = "https://invoices.saypro.example/download/CN-2026-000001?token=v2.k1.tv8q0w.abcdefghijklmnopqrstuvwxyz1234"
SENDER = "SayPro <invoices@saypro.example>"


def original() -> InvoiceDocument:
    return invoice_document("INV-2026-000007", ISSUED)


def revised() -> InvoiceDocument:
    document = invoice_document("INV-2026-000008", CORRECTED)
    return document.model_copy(update={"replaces": "INV-2026-000007"})


def credit_note(
    reason: CreditReason = CreditReason.ORDER_CHANGED, replaced_by: str | None = "INV-2026-000008"
) -> CreditNoteDocument:
    return full_credit(
        original(),
        credit_note_number="CN-2026-000001",
        issued_at=CORRECTED,
        reason=reason,
        replaced_by=replaced_by,
    )


def parsed(message: EmailMessage) -> EmailMessage:
    again = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(again, EmailMessage)
    return again


def corrected_email(
    revised_document: InvoiceDocument | None = None, note: CreditNoteDocument | None = None
) -> EmailMessage:
    return parsed(
        compose_corrected_invoice_email(
            revised_document or revised(),
            REVISED_PDF,
            note or credit_note(),
            CREDIT_PDF,
            sender=SENDER,
            recipient="zoe@example.com",
            download_url=LINK,
            credit_note_url=CN_LINK,
        )
    )


def bodies(message: EmailMessage) -> list[str]:
    parts = [message.get_body(preferencelist=(subtype,)) for subtype in ("plain", "html")]
    return [str(part.get_content()) for part in parts if part is not None]


def test_the_sentence_says_what_changed_and_why_from_the_documents() -> None:
    assert correction_sentence(credit_note(), revised()) == (
        "We corrected your invoice because the order was changed after the invoice was issued: "
        "invoice INV-2026-000007 is cancelled by credit note CN-2026-000001 and replaced by invoice "
        "INV-2026-000008."
    )
    assert correction_sentence(credit_note(CreditReason.REFUNDED, None)) == (
        "We issued this credit note because the order was refunded: credit note CN-2026-000001 "
        "cancels invoice INV-2026-000007 and credits you 52.73 EUR."
    )


def test_a_credit_note_for_a_return_says_it_cancels_part_of_the_invoice() -> None:
    returned = partial_credit(
        original(), credit_note_number="CN-2026-000001", issued_at=CORRECTED, refunded={0: 1}
    )
    assert correction_sentence(returned) == (
        "We issued this credit note because part of the order was returned and refunded (BOOK-1 × 1): "
        "credit note CN-2026-000001 cancels part of invoice INV-2026-000007 and credits you 9.45 EUR."
    )
    rest = full_credit(
        original(),
        credit_note_number="CN-2026-000002",
        issued_at=CORRECTED,
        reason=CreditReason.REFUNDED,
        credited_before=returned.tax_lines,
    )
    assert correction_sentence(rest) == (
        "We issued this credit note because the order was refunded: credit note CN-2026-000002 "
        "cancels what was left of invoice INV-2026-000007 and credits you 43.28 EUR."
    )


def test_the_corrected_invoice_email_carries_both_pdfs_byte_for_byte_and_why() -> None:
    message = corrected_email()
    assert message["Subject"] == "Your corrected SayPro invoice INV-2026-000008"
    assert "zoe@example.com" in message["To"]
    attached = [(a.get_filename(), a.get_content_type(), a.get_content()) for a in message.iter_attachments()]
    assert attached == [
        ("INV-2026-000008.pdf", "application/pdf", REVISED_PDF),
        ("CN-2026-000001.pdf", "application/pdf", CREDIT_PDF),
    ]
    sentence = correction_sentence(credit_note(), revised())
    text, html = bodies(message)
    for body in (text, html):
        for expected in (sentence, "ORD-1001", "52.73 EUR", "CN-2026-000001", "billing@saypro.example"):
            assert expected in body, expected
    assert LINK in text and CN_LINK in text
    assert LINK in html and CN_LINK in html  # no & in these links, nothing to escape


def test_the_corrected_email_escapes_what_the_storefront_sent() -> None:
    hostile_customer = revised().customer.model_copy(update={"name": "<script>alert(1)</script>"})
    document = revised().model_copy(update={"customer": hostile_customer})
    _, html = bodies(corrected_email(document))
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_a_credit_note_of_another_invoice_is_never_sent_with_the_revised_one() -> None:
    other = credit_note().model_copy(update={"replaced_by": "INV-2026-000009"})
    with pytest.raises(MismatchedCorrection):
        corrected_email(note=other)
    unrelated = revised().model_copy(update={"replaces": "INV-2026-000001"})
    with pytest.raises(MismatchedCorrection):
        corrected_email(unrelated)
    # Not a ValueError: the dispatcher passes an email it cannot write over to the next channel,
    # but mismatched records are no channel's fault.
    assert not issubclass(MismatchedCorrection, ValueError)


def test_a_credit_note_alone_has_its_pdf_and_why() -> None:
    note = credit_note(CreditReason.CANCELLED, None)
    message = parsed(
        compose_credit_note_email(
            note, CREDIT_PDF, sender=SENDER, recipient="zoe@example.com", download_url=CN_LINK
        )
    )
    assert message["Subject"] == "Your SayPro credit note CN-2026-000001"
    [attachment] = list(message.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content()) == ("CN-2026-000001.pdf", CREDIT_PDF)
    for body in bodies(message):
        assert correction_sentence(note) in body and CN_LINK in body and "INV-2026-000007" in body
        assert "the order was cancelled after the invoice was issued" in body


def test_the_texts_are_short_ascii_and_carry_the_number_total_and_link() -> None:
    corrected = compose_corrected_invoice_sms(revised(), LINK)
    assert corrected == f"Corrected invoice INV-2026-000008, 52.73 EUR: {LINK}"
    alone = compose_credit_note_sms(credit_note(CreditReason.REFUNDED, None), CN_LINK)
    assert alone == f"Credit note CN-2026-000001, 52.73 EUR: {CN_LINK}"
    for text in (corrected, alone):
        segments = sms_segments(text)
        assert (segments.encoding, segments.segments) == (SmsEncoding.GSM7, 1), (text, segments)
        assert "Zo" not in text  # no name: personal data, and it could turn the text into UCS-2


def _signed(base_url: str, number: str) -> str:
    """A link as the dispatcher builds it, with the deployed keyring's key id."""
    keyring = Keyring(current="k1", keys={"k1": base64.b64encode(bytes(32)).decode()})
    token = sign_link(keyring, number, "CUST-42", CORRECTED, timedelta(days=30))
    return f"{base_url}/download/{number}?token={token}"


@pytest.mark.parametrize(
    ("base_url", "corrected_length", "segments"),
    [
        ("https://invoices.saypro.example", 144, 1),  # the custom domain
        ("http://127.0.0.1:65535", 135, 1),  # make local
        ("https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", 167, 2),  # the API's own URL
    ],
)
def test_the_corrected_invoice_text_is_one_segment_where_the_link_allows(
    base_url: str, corrected_length: int, segments: int
) -> None:
    corrected = compose_corrected_invoice_sms(revised(), _signed(base_url, "INV-2026-000008"))
    assert (len(corrected), sms_segments(corrected).segments) == (corrected_length, segments)
    alone = compose_credit_note_sms(credit_note(replaced_by=None), _signed(base_url, "CN-2026-000001"))
    # Words 6 shorter, the number 1 shorter in the text and in the link: one segment everywhere.
    assert len(alone) == corrected_length - 8
    assert sms_segments(alone).segments == 1
