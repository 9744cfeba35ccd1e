"""Configuration of the functions, read once from the environment at cold start.

A missing variable fails the init with a clear message instead of failing mid-request.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, Json

from invoicing.domain.invoice import Seller

Settings = TypeVar("Settings", bound=BaseModel)


def _from_environment(model: type[Settings]) -> Settings:
    """Environment variables by lower-cased name; a missing or bad one fails with its name."""
    return model.model_validate({key.lower(): value for key, value in os.environ.items()})


class GeneratorSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoices_table_name: str = Field(min_length=1)
    invoice_bucket_name: str = Field(min_length=1)
    event_bus_name: str = Field(min_length=1)
    invoice_series: str = Field(default="INV", pattern=r"^[A-Z]{2,8}$")
    seller_json: Json[Seller] | None = None

    @property
    def seller(self) -> Seller:
        return self.seller_json or Seller()


@lru_cache(maxsize=1)
def generator_settings() -> GeneratorSettings:
    return _from_environment(GeneratorSettings)


class DispatcherSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoices_table_name: str = Field(min_length=1)
    orders_table_name: str = Field(min_length=1)
    vendors_table_name: str = Field(min_length=1)
    invoice_bucket_name: str = Field(min_length=1)
    event_bus_name: str = Field(min_length=1)
    ses_configuration_set: str = Field(min_length=1)
    sender_address: str = Field(min_length=3)
    link_keys_secret_id: str = Field(min_length=1)
    download_base_url: str = Field(pattern=r"^https?://")
    link_lifetime_days: int = Field(default=30, ge=1, le=365)
    seller_json: Json[Seller] | None = None

    @property
    def seller(self) -> Seller:
        return self.seller_json or Seller()


@lru_cache(maxsize=1)
def dispatcher_settings() -> DispatcherSettings:
    return _from_environment(DispatcherSettings)


class DownloadSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoices_table_name: str = Field(min_length=1)
    invoice_bucket_name: str = Field(min_length=1)
    link_keys_secret_id: str = Field(min_length=1)


@lru_cache(maxsize=1)
def download_settings() -> DownloadSettings:
    return _from_environment(DownloadSettings)


class ApiSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoices_table_name: str = Field(min_length=1)
    link_keys_secret_id: str = Field(min_length=1)
    download_base_url: str = Field(pattern=r"^https?://")
    link_lifetime_days: int = Field(default=30, ge=1, le=365)


@lru_cache(maxsize=1)
def api_settings() -> ApiSettings:
    return _from_environment(ApiSettings)


class VendorInvoicerSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoices_table_name: str = Field(min_length=1)
    orders_table_name: str = Field(min_length=1)
    vendors_table_name: str = Field(min_length=1)
    invoice_bucket_name: str = Field(min_length=1)
    event_bus_name: str = Field(min_length=1)
    vendor_invoice_series: str = Field(default="VND", pattern=r"^[A-Z]{2,8}$")
    seller_json: Json[Seller] | None = None

    @property
    def seller(self) -> Seller:
        return self.seller_json or Seller()


@lru_cache(maxsize=1)
def vendor_invoicer_settings() -> VendorInvoicerSettings:
    return _from_environment(VendorInvoicerSettings)
