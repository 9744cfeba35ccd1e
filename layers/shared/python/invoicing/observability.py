"""Logger, tracer and metrics, created once and shared by every function."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

from invoicing.domain.personal_data import mask_email, mask_personal_data

__all__ = ["logger", "mask_email", "mask_personal_data", "metrics", "tracer"]

SERVICE = "invoicing"
NAMESPACE = "SayProInvoicing"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)
