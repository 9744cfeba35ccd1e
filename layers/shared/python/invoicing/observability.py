"""Logger, tracer and metrics, created once and shared by every function."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "invoicing"
NAMESPACE = "SayProInvoicing"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)


def mask_email(address: str | None) -> str | None:
    """'zoe@example.com' -> 'z***@example.com': enough to recognise, not enough to leak."""
    if not address or "@" not in address:
        return None if not address else "***"
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"
