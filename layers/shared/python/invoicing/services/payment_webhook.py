"""The payment provider's webhook: verify the signature, then take the event in.

Nothing of the body is parsed before its signature verifies (domain/webhook_signatures.py): a
forged, unsigned, stale or future request is refused and changes nothing, and the refusal says
no more than that. A genuine request whose body is not a payment event is a bad request: refused
with what is wrong, so the provider's dashboard shows it, and logged for people. A genuine event
replayed, inside the tolerance or by the provider's own retries, is applied once: its id is
recorded with what it did (services/payment_intake.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from pydantic import ValidationError

from invoicing.adapters.webhook_secrets import WebhookSecrets
from invoicing.domain.payment_events import PaymentEvent
from invoicing.domain.webhook_signatures import SIGNATURE_HEADER, InvalidSignature, verify
from invoicing.observability import logger
from invoicing.services.payment_intake import PaymentIntake, PaymentReceipt

MAX_BODY_BYTES = 64 * 1024


class WebhookRefused(Exception):
    """Not signed by the provider (or not fresh): 401, and nothing is changed."""


class NotAPaymentEvent(ValueError):
    """Signed, but not a payment event: 400 with what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class PaymentWebhook:
    def __init__(
        self,
        *,
        intake: PaymentIntake,
        secrets: WebhookSecrets,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._intake = intake
        self._secrets = secrets
        self._clock = clock

    def receive(self, headers: Mapping[str, str], body: bytes) -> PaymentReceipt:
        if len(body) > MAX_BODY_BYTES:
            raise NotAPaymentEvent([f"the body is over {MAX_BODY_BYTES} bytes"])
        header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
        try:
            verify(header, body, self._secrets.current(), self._clock())
        except InvalidSignature as refused:
            logger.warning("payment webhook refused", reason=str(refused))
            raise WebhookRefused from None
        try:
            event = PaymentEvent.model_validate_json(body)
        except ValidationError as invalid:
            problems = [
                f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}"
                for error in invalid.errors(include_url=False, include_input=False)
            ]
            logger.error("signed payment webhook is not a payment event", problems=problems)
            raise NotAPaymentEvent(problems) from None
        return self._intake.receive(event, door="webhook")
