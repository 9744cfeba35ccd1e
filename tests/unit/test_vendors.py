from decimal import Decimal as D

import pytest

from invoicing.domain.order import Order
from invoicing.domain.pricing import price_order
from invoicing.domain.vendors import MissingVendors, Vendor, vendor_statements
from tests.conftest import make_order

VENDORS = {
    "V-BOOKS": Vendor(
        vendor_id="V-BOOKS", name="Księgarnia", email="books@v.example", commission_rate=D("0.10")
    ),
    "V-HOME": Vendor(
        vendor_id="V-HOME", name="Müller GmbH", email="home@v.example", commission_rate=D("0.15")
    ),
}


def test_each_vendor_gets_its_lines_tax_commission_and_amount_owed() -> None:
    priced = price_order(Order.model_validate(make_order()))
    books, home = vendor_statements(priced, VENDORS)
    assert [line.sku for line in books.lines] == ["BOOK-1"]
    assert (books.net_sales, books.tax, books.gross_sales) == (D("18.00"), D("0.90"), D("18.90"))
    assert books.commission == D("1.80")
    assert books.amount_owed == D("17.10")
    # 22.50 at 23 % = 5.175 -> 5.18 ; commission 15 % of 22.50 = 3.375 -> 3.38
    assert (home.net_sales, home.tax, home.commission) == (D("22.50"), D("5.18"), D("3.38"))
    assert home.amount_owed == D("22.50") + D("5.18") - D("3.38")


def test_vendor_sales_add_up_to_the_items_of_the_customer_invoice() -> None:
    priced = price_order(Order.model_validate(make_order()))
    statements = vendor_statements(priced, VENDORS)
    assert sum(s.net_sales for s in statements) == sum(line.amount for line in priced.lines)


def test_a_vendor_missing_from_the_vendors_table_is_named() -> None:
    priced = price_order(Order.model_validate(make_order()))
    with pytest.raises(MissingVendors) as error:
        vendor_statements(priced, {"V-BOOKS": VENDORS["V-BOOKS"]})
    assert error.value.vendor_ids == ["V-HOME"]
