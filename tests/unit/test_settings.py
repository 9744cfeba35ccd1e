import json

import pytest
from pydantic import ValidationError

from invoicing.observability import mask_email
from invoicing.settings import GeneratorSettings, generator_settings

REQUIRED = {
    "INVOICES_TABLE_NAME": "invoices",
    "INVOICE_BUCKET_NAME": "documents",
    "EVENT_BUS_NAME": "bus",
}


@pytest.fixture(autouse=True)
def fresh_settings() -> None:
    generator_settings.cache_clear()


def test_a_missing_variable_fails_at_cold_start_and_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("INVOICE_BUCKET_NAME")
    with pytest.raises(ValidationError, match="invoice_bucket_name"):
        generator_settings()


def test_seller_block_comes_from_json_or_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SELLER_JSON", raising=False)
    assert generator_settings().seller.name == "SayPro Online Marketplace"
    generator_settings.cache_clear()
    monkeypatch.setenv("SELLER_JSON", json.dumps({"name": "SayPro Staging", "tax_id": "VAT X"}))
    assert generator_settings().seller.name == "SayPro Staging"
    assert generator_settings().invoice_series == "INV"


def test_series_must_be_upper_case_letters() -> None:
    with pytest.raises(ValidationError):
        GeneratorSettings(
            invoices_table_name="t", invoice_bucket_name="b", event_bus_name="e", invoice_series="in v"
        )


def test_emails_are_masked_for_logs() -> None:
    assert mask_email("zoe@example.com") == "z***@example.com"
    assert mask_email("nonsense") == "***"
    assert mask_email(None) is None
