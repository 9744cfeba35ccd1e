"""The invoice PDF: what it prints (read back with pypdf), how it pages, and its embedded fonts."""

from __future__ import annotations

import io
import re
from decimal import Decimal as D
from typing import Any

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from invoicing.domain.invoice import InvoiceDocument
from invoicing.rendering import typeface
from invoicing.rendering.fpdf_renderer import charset
from invoicing.rendering.pdf import render_invoice_pdf
from invoicing.rendering.presentation import build_view, format_rate
from invoicing.rendering.text import REPLACEMENT_CHARACTER, clean_text, ellipsize, wrap
from invoicing.rendering.truetype import TrueTypeProgram
from tests.conftest import make_order
from tests.documents import ISSUED_AT, invoice_document


def document(number: str = "INV-2026-000042", **order_overrides: Any) -> InvoiceDocument:
    return invoice_document(number, ISSUED_AT, **order_overrides)


def item(index: int, *, price: str = "10.00", rate: str = "0.20", **extra: Any) -> dict[str, Any]:
    return {
        "sku": f"SKU-{index:05d}",
        "description": f"Article number {index}",
        "quantity": 1,
        "unit_price": D(price),
        "tax_rate": D(rate),
        "vendor_id": "V1",
        **extra,
    }


def customer(name: str) -> dict[str, Any]:
    return {**make_order()["customer"], "name": name}


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def lines_of(pdf: bytes) -> list[str]:
    return [line.strip() for page in pages_text(pdf) for line in page.splitlines()]


def embedded_fonts(pdf: bytes) -> list[TTFont]:
    """Every embedded TrueType program, parsed by fontTools with its checksums verified."""
    fonts = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            descendant = font.get_object()["/DescendantFonts"][0].get_object()
            data = descendant["/FontDescriptor"]["/FontFile2"].get_object().get_data()
            fonts.append(TTFont(io.BytesIO(data), checkChecksums=2))
    return fonts


@pytest.fixture(scope="module")
def standard_invoice() -> list[str]:
    return lines_of(render_invoice_pdf(document()))


# --- what an invoice prints -------------------------------------------------------------------


def test_the_header_names_the_invoice_the_order_and_both_parties(standard_invoice: list[str]) -> None:
    lines = standard_invoice
    assert "Invoice number INV-2026-000042" in lines
    assert "Issue date 21 Nov 2026" in lines
    assert "Order number ORD-1001" in lines
    for seller_line in ("SayPro Online Marketplace", "1 Market Street", "Cape Town 8001", "VAT 4000000000"):
        assert seller_line in lines
    assert "billing@saypro.example · +27 21 000 0000" in lines
    assert "https://saypro.example" in lines
    assert "Zoë Łukasiewicz" in lines
    assert "ul. Długa 1" in lines
    assert "31-147 Kraków" in lines


def test_each_item_line_shows_description_sku_quantity_price_tax_rate_discount_and_total(
    standard_invoice: list[str],
) -> None:
    lines = standard_invoice
    assert "1 Pan Tadeusz (hardcover) 2 10.00 5% 20.00" in lines
    assert "2 Desk lamp 1 30.00 23% -5.00 25.00" in lines
    assert "SKU BOOK-1" in lines
    assert "SKU LAMP-7" in lines


def test_the_totals_show_discounts_with_codes_shipping_tax_per_rate_and_the_grand_total(
    standard_invoice: list[str],
) -> None:
    lines = standard_invoice
    for expected in (
        "Subtotal 50.00",
        "Line discounts -5.00",
        "Discount WELCOME (Welcome offer) -4.50",
        "Discount total -9.50",
        "Shipping (Courier) 5.00",
        "Net total 45.50",
        "5% 18.00 0.90 18.90",
        "23% 27.50 6.33 33.83",
        "Tax total 7.23",
        "Grand total 52.73 EUR",
        "Amount paid 52.73 EUR",
    ):
        assert expected in lines


def test_payment_shipping_terms_and_the_tax_basis_are_stated(standard_invoice: list[str]) -> None:
    lines = standard_invoice
    text = " ".join(lines)
    assert "Payment status PAID" in lines
    assert "Method Card" in lines
    assert "Reference pi_3Nx" in lines
    assert "Method Courier" in lines
    assert "Tracking TRK1" in lines
    assert "Prices exclude tax" in text
    assert "Paid in full at checkout; no amount is due." in text
    assert "Items may be returned within 30 days of delivery" in text


def test_tax_inclusive_prices_are_stated_and_the_included_tax_shown() -> None:
    lines = lines_of(render_invoice_pdf(document(prices_include_tax=True)))
    assert any("Prices include tax" in line for line in lines)
    # Tax inside 18.00 at 5 % is 0.86, inside 27.50 at 23 % is 5.14.
    assert "Included tax 6.00" in lines
    assert "Net total (excl. tax) 39.50" in lines
    assert "Grand total (incl. tax) 45.50 EUR" in lines


def test_a_payment_not_captured_is_not_shown_as_paid() -> None:
    payment = {**make_order()["payment"], "status": "AUTHORIZED"}
    lines = lines_of(render_invoice_pdf(document(payment=payment)))
    assert "Payment status AUTHORISED, UNPAID" in lines
    assert not any(line.startswith("Amount paid") or "PAID" in line.split() for line in lines)


# --- currencies ---------------------------------------------------------------------------------


def test_yen_amounts_have_no_decimals() -> None:
    pdf = render_invoice_pdf(
        document(
            currency="JPY",
            items=[item(1, price="1500", rate="0.10", quantity=3)],
            order_discounts=[],
            shipping={"method": "Yamato", "cost": D(700), "tax_rate": D("0.10")},
            payment={**make_order()["payment"], "amount_captured": D(5720)},
        )
    )
    lines = lines_of(pdf)
    assert "1 Article number 1 3 1,500 10% 4,500" in lines
    assert "Grand total 5,720 JPY" in lines
    assert not re.search(r"\d\.\d", " ".join(lines))


def test_bahraini_dinar_amounts_have_three_decimals() -> None:
    lines = lines_of(
        render_invoice_pdf(
            document(
                currency="BHD",
                items=[item(1, price="12.345", rate="0.10")],
                order_discounts=[],
                shipping=None,
            )
        )
    )
    assert "1 Article number 1 1 12.345 10% 12.345" in lines
    assert "Tax total 1.235" in lines  # 1.2345 rounds half up to 1.235
    assert "Grand total 13.580 BHD" in lines


# --- pages --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def long_invoice() -> list[str]:
    items = [item(i, description=f"Article number {i} Müller") for i in range(300)]
    return pages_text(
        render_invoice_pdf(document(items=items, order_discounts=[], shipping=None, number="INV-2026-000300"))
    )


def test_a_long_invoice_numbers_its_pages_n_of_total(long_invoice: list[str]) -> None:
    count = len(long_invoice)
    assert count > 5
    for number, text in enumerate(long_invoice, start=1):
        assert f"INV-2026-000300 · Page {number} of {count}" in text


def test_every_page_repeats_the_item_table_header_and_every_line_appears_once(
    long_invoice: list[str],
) -> None:
    pages_with_rows = [text for text in long_invoice if "SKU SKU-" in text]
    assert len(pages_with_rows) >= len(long_invoice) - 1
    for text in pages_with_rows:
        assert "# Description Qty Unit price Tax Discount Line total" in text
    everything = "\n".join(long_invoice)
    for index in range(300):
        assert everything.count(f"SKU SKU-{index:05d}\n") == 1
    assert "(continued)" in long_invoice[1]


def test_the_totals_come_once_on_the_last_page_after_the_last_line(long_invoice: list[str]) -> None:
    *earlier, last = long_invoice
    assert not any("Grand total" in text for text in earlier)
    assert "Grand total 3,600.00 EUR" in last
    last_row = "SKU SKU-00299"
    if last_row in last:
        assert last.index("Grand total") > last.index(last_row)
    else:  # the totals did not fit under the last rows: they open the last page
        assert last_row in earlier[-1]


# --- fonts --------------------------------------------------------------------------------------


def test_a_character_without_a_glyph_prints_as_a_replacement_instead_of_failing() -> None:
    doc = document(customer=customer("山田太郎 (Yamada)"))
    lines = lines_of(render_invoice_pdf(doc))
    assert f"{REPLACEMENT_CHARACTER * 4} (Yamada)" in lines
    assert build_view(doc, charset()).missing_characters == set("山田太郎")


def test_successive_documents_sharing_the_parsed_font_each_print_and_embed_their_own_text() -> None:
    names = ["Zoë Łukasiewicz", "Αλέξανδρος Παπαδόπουλος", "Пётр Чайковский", "José Núñez, Müller GmbH"]
    render_invoice_pdf(document())
    parsed_before = typeface.regular.cache_info().misses
    renders = [render_invoice_pdf(document(customer=customer(name))) for name in names]
    assert typeface.regular.cache_info().misses == parsed_before  # one parsed font, shared
    for name, pdf in zip(names, renders, strict=True):
        assert name in lines_of(pdf)
        embedded = {chr(code) for font in embedded_fonts(pdf) for code in font.getBestCmap()}
        assert set(name) - {" "} <= embedded
        others = set("".join(names)) - set(name) - set(lines_of_text(pdf))
        assert not others & embedded, f"glyphs of another document leaked into {name!r}"
    assert render_invoice_pdf(document(customer=customer(names[0]))) == renders[0]


def lines_of_text(pdf: bytes) -> str:
    return "".join(lines_of(pdf))


def test_embedded_subsets_are_valid_fonts_with_the_original_outlines_and_widths() -> None:
    pdf = render_invoice_pdf(document(customer=customer("Ǻngström Œuvre Ωmega ₹ ₽ ₺ €")))
    source = {False: TTFont(typeface.REGULAR_FILE), True: TTFont(typeface.BOLD_FILE)}
    fonts = embedded_fonts(pdf)
    assert len(fonts) == 2
    for font in fonts:
        original = source["Bold" in font["name"].getDebugName(4)]
        original_cmap, original_glyf = original.getBestCmap(), original["glyf"]
        for code, name in font.getBestCmap().items():
            glyph, reference = font["glyf"][name], original_glyf[original_cmap[code]]
            coordinates, _, _ = glyph.getCoordinates(font["glyf"])
            expected, _, _ = reference.getCoordinates(original_glyf)
            assert list(coordinates) == list(expected), chr(code)
            assert font["hmtx"][name][0] == original["hmtx"][original_cmap[code]][0]


def test_a_subset_brings_the_parts_of_composite_glyphs() -> None:
    program = TrueTypeProgram.from_bytes(typeface.REGULAR_FILE.read_bytes())
    face = TTFont(typeface.REGULAR_FILE)
    order = face.getGlyphOrder()
    composite = face.getGlyphID(face.getBestCmap()[ord("ë")])
    parts = program.components(composite)
    expected = face["glyf"][order[composite]].getComponentNames(face["glyf"])
    assert {order[part] for part in parts} == set(expected)
    assert parts  # 'ë' is built from 'e' and the diaeresis
    subset = program.subset([composite], {ord("ë"): composite})
    assert set(subset.glyph_map) == {0, composite, *parts}
    with pytest.raises(ValueError, match="not in the font"):
        program.subset([program.num_glyphs], {})


# --- text helpers -------------------------------------------------------------------------------


def test_text_is_composed_and_stripped_of_controls_before_printing() -> None:
    supported = charset()
    assert clean_text("Jose\u0301\tNu\u0301n\u0303ez\n", supported) == ("José Núñez ", set())
    assert clean_text("A\u200bB\x00C\u00adD", supported) == ("ABCD", set())
    assert clean_text("Tōkyō 東京", supported) == (f"Tōkyō {REPLACEMENT_CHARACTER * 2}", {"東", "京"})


def test_wrapping_keeps_every_word_and_breaks_words_longer_than_the_width() -> None:
    def measure(text: str) -> float:
        return float(len(text))

    assert wrap("aa bb cc", 5, measure) == ["aa bb", "cc"]
    assert wrap("abcdefghij k", 4, measure) == ["abcd", "efgh", "ij k"]
    assert wrap("   ", 4, measure) == [""]


def test_wrapping_and_ellipsizing_cost_grows_linearly_with_the_text() -> None:
    """An 80,000-character name without a space once took 6.6 s: every character is measured a
    bounded number of times now, whatever the shape of the text (counted, not timed)."""
    measured = 0

    def measure(text: str) -> float:
        nonlocal measured
        measured += len(text)
        return float(len(text))

    for text in ("x" * 80_000, "word " * 16_000, ("y" * 300 + " ") * 250):
        measured = 0
        lines = wrap(text, 40, measure)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        assert all(measure(line) <= 40 for line in lines)
        assert measured <= 4 * len(text) + 4 * len(lines)
        measured = 0
        assert ellipsize(text, 40, measure) == text[:39].rstrip() + "…"
        assert measured <= 2 * len(text) + 2


@pytest.mark.parametrize(("rate", "shown"), [("0.2", "20%"), ("0.055", "5.5%"), ("0", "0%"), ("0.10", "10%")])
def test_tax_rates_print_as_percentages(rate: str, shown: str) -> None:
    assert format_rate(D(rate)) == shown
