import pytest

from invoicing.domain.numbering import InvoiceNumber
from invoicing.domain.triggers import Trigger, classify_change

COMPLETED = {"status": "COMPLETED", "payment": {"status": "CAPTURED"}}
SHIPPED = {"status": "SHIPPED", "payment": {"status": "CAPTURED"}}
UNPAID = {"status": "COMPLETED", "payment": {"status": "PENDING"}}


def test_invoice_numbers_are_zero_padded_per_series_and_year() -> None:
    number = InvoiceNumber(series="INV", year=2026, sequence=42)
    assert str(number) == "INV-2026-000042"
    assert InvoiceNumber.parse("INV-2026-000042") == number
    assert number.counter_key == "INV#2026"
    assert str(InvoiceNumber(series="INV", year=2026, sequence=1234567)) == "INV-2026-1234567"


@pytest.mark.parametrize("text", ["INV-26-000001", "inv-2026-000001", "INV-2026-12", ""])
def test_malformed_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not an invoice number"):
        InvoiceNumber.parse(text)


@pytest.mark.parametrize(
    ("event", "old", "new", "expected"),
    [
        ("INSERT", None, COMPLETED, Trigger.DUE),
        ("INSERT", None, SHIPPED, Trigger.SKIP),
        ("INSERT", None, UNPAID, Trigger.SKIP),
        ("MODIFY", SHIPPED, COMPLETED, Trigger.DUE),
        ("MODIFY", UNPAID, COMPLETED, Trigger.DUE),
        ("MODIFY", COMPLETED, COMPLETED, Trigger.RECHECK),
        ("MODIFY", COMPLETED, SHIPPED, Trigger.SKIP),
        ("REMOVE", COMPLETED, None, Trigger.SKIP),
        ("MODIFY", None, None, Trigger.SKIP),
    ],
)
def test_an_invoice_is_due_when_an_order_becomes_completed_and_paid(
    event: str,
    old: dict | None,
    new: dict | None,
    expected: Trigger,  # type: ignore[type-arg]
) -> None:
    assert classify_change(event, old, new) is expected


def test_a_contact_change_is_an_email_phone_or_preference_change_only() -> None:
    from invoicing.domain.triggers import contact_changed

    before = {"status": "COMPLETED", "customer": {"email": "a@example.com", "phone": None, "name": "Zoë"}}
    assert contact_changed(before, {**before, "customer": {**before["customer"], "email": "b@example.com"}})
    assert contact_changed(
        before, {**before, "customer": {**before["customer"], "preferred_channels": ["sms"]}}
    )
    assert not contact_changed(before, {**before, "customer": {**before["customer"], "name": "Zoe"}})
    assert not contact_changed(before, {**before, "shipping": {"tracking_reference": "TRK2"}})
