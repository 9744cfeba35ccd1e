import base64
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from invoicing.domain.invoice import InvoiceDocument
from invoicing.domain.links import Keyring, sign_link, sign_link_v1
from invoicing.messages.compose import compose_invoice_email, compose_invoice_sms
from invoicing.messages.sms import SmsEncoding, SmsSegments, sms_segments
from invoicing.messages.summary import order_summary
from tests.documents import invoice_document

PDF = b"%PDF-1.7\n fake but byte-exact \x00\xff"
LINK = "https://invoices.saypro.example/download/INV-2026-000007?token=v2.k.tv8q0w.s"


def document(**overrides: Any) -> InvoiceDocument:
    return invoice_document("INV-2026-000007", datetime(2026, 11, 21, 14, 3, tzinfo=UTC), **overrides)


def sent(doc: InvoiceDocument) -> EmailMessage:
    message = compose_invoice_email(
        doc, PDF, sender="SayPro <invoices@saypro.example>", recipient="zoe@example.com", download_url=LINK
    )
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_the_email_has_the_subject_bodies_and_the_pdf_attached_byte_for_byte() -> None:
    message = sent(document())
    assert message["Subject"] == "Your SayPro Order Invoice INV-2026-000007"
    assert "zoe@example.com" in message["To"]
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "INV-2026-000007.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


def test_both_bodies_thank_the_customer_and_carry_the_order_payment_shipping_and_link() -> None:
    message = sent(document())
    for subtype in ("plain", "html"):
        body = message.get_body(preferencelist=(subtype,))
        assert body is not None
        text = body.get_content()
        for expected in (
            "Thank you",
            "ORD-1001",
            "52.73 EUR",
            "Paid",
            "pi_3Nx",
            "TRK1",
            "billing@saypro.example",
        ):
            assert expected in text, (subtype, expected)
        assert LINK.replace("&", "&amp;") in text or LINK in text


def test_html_escapes_what_the_storefront_sent() -> None:
    doc = document()
    hostile = doc.model_copy(
        update={"customer": doc.customer.model_copy(update={"name": "<script>alert(1)</script>"})}
    )
    html = sent(hostile).get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_the_sms_is_short_and_carries_number_total_and_link() -> None:
    text = compose_invoice_sms(document(), LINK)
    assert "INV-2026-000007" in text and "52.73 EUR" in text and LINK in text
    assert "Zoë" not in text
    assert len(text) <= 160  # one GSM-7 segment


def _signed_link(
    base_url: str, number: str = "INV-2026-000002", party: str = "CUST-JOSE", sign: Any = sign_link
) -> str:
    """A link exactly as the dispatcher builds it: the deployed keyring's key id, 30 days."""
    keyring = Keyring(current="k1", keys={"k1": base64.b64encode(bytes(32)).decode()})
    token = sign(keyring, number, party, datetime(2026, 12, 2, tzinfo=UTC), timedelta(days=30))
    return f"{base_url}/download/{number}?token={token}"


CUSTOM_DOMAIN = "https://invoices.saypro.example"
DEFAULT_URL = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"  # the HTTP API's own
LOCAL = "http://127.0.0.1:65535"  # make local's API, on the longest port it can get
DEMO_TOTALS = ["27.16 GBP", "52.73 EUR", "19,062.69 EUR"]  # the demo's longest amount last


def _sms(base_url: str, total: str, sign: Any = sign_link) -> tuple[str, str]:
    link = _signed_link(base_url, sign=sign)
    demo_shaped = invoice_document("INV-2026-000002", datetime(2026, 12, 2, tzinfo=UTC))
    text = compose_invoice_sms(demo_shaped, link)
    assert text == f"Invoice INV-2026-000002, 52.73 EUR: {link}"
    return text.replace("52.73 EUR", total), link


@pytest.mark.parametrize("total", DEMO_TOTALS)
@pytest.mark.parametrize("base_url", [CUSTOM_DOMAIN, LOCAL])
def test_the_sms_with_a_signed_link_is_one_gsm7_segment(base_url: str, total: str) -> None:
    text, link = _sms(base_url, total)
    assert "token=v2.k1." in link and len(link) == len(base_url) + 67
    # no name: "Zoë Łukasiewicz" would make it UCS-2
    assert sms_segments(text) == SmsSegments(SmsEncoding.GSM7, len(text), 1)
    assert len(text) <= 160 - 20  # room to spare: a longer series, number or total still fits


def test_on_the_apis_default_url_the_sms_is_one_segment_but_for_the_longest_totals() -> None:
    lengths = {total: len(_sms(DEFAULT_URL, total)[0]) for total in DEMO_TOTALS}
    assert lengths == {"27.16 GBP": 157, "52.73 EUR": 157, "19,062.69 EUR": 161}
    # 12 characters of total fit ("1,234.56 EUR"); one more is one over: two segments, never three.
    assert [sms_segments(_sms(DEFAULT_URL, t)[0]).segments for t in DEMO_TOTALS] == [1, 1, 2]


@pytest.mark.parametrize("base_url", [CUSTOM_DOMAIN, DEFAULT_URL, LOCAL])
def test_an_sms_with_an_old_v1_link_is_still_at_most_two_segments(base_url: str) -> None:
    text, link = _sms(base_url, "19,062.69 EUR", sign=sign_link_v1)
    assert "token=v1.k1." in link and 160 < len(link) <= 260
    cost = sms_segments(text)
    assert cost.encoding is SmsEncoding.GSM7 and cost.segments == 2


def test_the_sms_is_one_gsm7_segment_when_the_link_leaves_room() -> None:
    words = len(compose_invoice_sms(document(), "")) + len("19,062.69 EUR") - len("52.73 EUR")
    assert words <= 40  # with the demo's longest amount
    link = "https://inv.saypro.example/d/INV-2026-000007?t=" + "x" * (160 - words - 47)
    text = compose_invoice_sms(document(), link)
    assert sms_segments(text) == SmsSegments(SmsEncoding.GSM7, len(text), 1)


def _amount(text: str) -> D:
    return D(
        text.rsplit(": ", maxsplit=1)[-1].rsplit(" — ", maxsplit=1)[-1].split(maxsplit=1)[0].replace(",", "")
    )


@pytest.mark.parametrize("prices_include_tax", [False, True])
def test_the_order_summary_in_the_email_adds_up_to_the_total(prices_include_tax: bool) -> None:
    doc = document(prices_include_tax=prices_include_tax)
    summary = order_summary(doc)
    assert summary.rows_sum == summary.total == doc.totals.grand_total
    body = sent(doc).get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    lines = body.split("Order summary", 1)[1].split("Total:", 1)[0].strip().splitlines()
    assert sum((_amount(line) for line in lines), D(0)) == doc.totals.grand_total
    assert ("includes tax of" in body) is prices_include_tax


def test_the_email_shows_the_lines_as_the_pdf_does_and_each_promo_code_once() -> None:
    body = sent(document()).get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "1 x Desk lamp — 25.00 EUR" in body  # 30.00 less its own 5.00 discount, as on the PDF
    assert body.count("Discount WELCOME (Welcome offer): -4.50 EUR") == 1


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Zoë\r\nBcc: victim@example.com", "Zoë Bcc: victim@example.com"),
        ("Jan\tKowalski\x00\u2028", "Jan Kowalski"),
        ("山田太郎", "山田太郎"),
        ("A" * 500, "A" * 78),
    ],
)
def test_any_name_the_contract_allows_makes_one_well_formed_to_header(name: str, shown: str) -> None:
    """A CR/LF in a name used to make composing raise, so the invoice was never sent."""
    doc = document()
    named = doc.model_copy(update={"customer": doc.customer.model_copy(update={"name": name})})
    message = sent(named)
    assert message["To"].addresses[0].display_name == shown
    assert message["To"].addresses[0].addr_spec == "zoe@example.com"
    assert "Bcc" not in message and b"\r\nBcc:" not in message.as_bytes()


def test_an_internationalized_domain_is_sent_in_its_ascii_form() -> None:
    message = compose_invoice_email(
        document(), PDF, sender="invoices@saypro.example", recipient="zoe@xn--bcher-kva.de", download_url=LINK
    )
    assert message.as_bytes().isascii()
