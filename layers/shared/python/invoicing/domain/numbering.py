"""Invoice numbers: one gapless sequence per series and year, e.g. INV-2026-000042.

The allocation itself is atomic in DynamoDB (see `adapters/invoice_ledger.py`); this module only
says what a number looks like and which counter it comes from.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

NUMBER_WIDTH = 6
_NUMBER_PATTERN = re.compile(r"^(?P<series>[A-Z]{2,8})-(?P<year>\d{4})-(?P<sequence>\d{6,})$")


class InvoiceNumber(BaseModel):
    model_config = ConfigDict(frozen=True)

    series: str = Field(pattern=r"^[A-Z]{2,8}$")
    year: int = Field(ge=2000, le=9999)
    sequence: int = Field(ge=1)

    @property
    def counter_key(self) -> str:
        return counter_key(self.series, self.year)

    def __str__(self) -> str:
        return f"{self.series}-{self.year}-{self.sequence:0{NUMBER_WIDTH}d}"

    @classmethod
    def parse(cls, text: str) -> InvoiceNumber:
        match = _NUMBER_PATTERN.match(text)
        if not match:
            raise ValueError(f"not an invoice number: {text!r}")
        return cls(series=match["series"], year=int(match["year"]), sequence=int(match["sequence"]))


def counter_key(series: str, year: int) -> str:
    """The counter that a series' numbers of one year are drawn from."""
    return f"{series}#{year}"
