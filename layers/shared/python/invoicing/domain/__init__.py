"""Pure business rules: money, the order contract, pricing, validation, numbering. No AWS here."""
