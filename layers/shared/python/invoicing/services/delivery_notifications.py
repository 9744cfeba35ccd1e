"""The bounce webhook: SES events, delivered by SNS, applied to the invoice deliveries they concern.

Nothing is trusted before `verify_sns_message` accepts the message (signature, certificate host,
one of our topics); a refusal changes nothing. Then:

- SubscriptionConfirmation (our topic only): confirmed through the SNS API;
- Delivery: the email delivery becomes DELIVERED with its time;
- permanent Bounce: BOUNCED, the address suppressed, `InvoiceDeliveryFailed` for customer service,
  and `InvoiceDeliveryDue` so the dispatcher falls back to the next channel (the invoice is back
  in the sweep index until it is delivered some other way);
- transient Bounce: DEFERRED, emailed again later with backoff (the sweep re-drives it); after
  `MAX_SOFT_BOUNCES` it is treated as permanent, without suppressing the address;
- Complaint: COMPLAINED and suppressed, no further email;
- Open / Click: kept as confirmation that the customer has the invoice.

Every write is conditional on the delivery's message id and current status, so duplicates and
late or out-of-order notifications are harmless; every announcement is in the outbox of the write
that records it, so a failure between the two cannot lose it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from invoicing.adapters.delivery_log import DeliveryNotifications, DeliveryStatus, NotifiedDelivery
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.sns_subscriptions import SnsSubscriptions
from invoicing.domain.ses_notifications import (
    DeliveryEvent,
    SesNotification,
    parse_ses_notification,
    soft_bounce_retry_at,
)
from invoicing.domain.sns_messages import CertificateFetcher, UntrustedMessage, verify_sns_message
from invoicing.observability import logger, mask_email, mask_personal_data


class NotificationRefused(Exception):
    """Not a verifiable SNS message from one of our topics: answered 403, nothing changed."""


class WebhookOutcome(StrEnum):
    SUBSCRIPTION_CONFIRMED = "SUBSCRIPTION_CONFIRMED"
    UNSUBSCRIBED = "UNSUBSCRIBED"
    APPLIED = "APPLIED"
    ALREADY_APPLIED = "ALREADY_APPLIED"
    UNKNOWN_MESSAGE = "UNKNOWN_MESSAGE"
    IGNORED = "IGNORED"


class WebhookResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: WebhookOutcome
    event: DeliveryEvent | None = None
    invoice_number: str | None = None
    fell_back: bool = False
    settled_in_doubt: bool = False
    """This notification settled a send whose bookkeeping had been lost (see `_settle`)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DeliveryWebhook:
    def __init__(
        self,
        *,
        deliveries: DeliveryNotifications,
        ledger: InvoiceLedger,
        subscriptions: SnsSubscriptions,
        certificates: CertificateFetcher,
        allowed_topics: Collection[str],
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._deliveries = deliveries
        self._ledger = ledger
        self._subscriptions = subscriptions
        self._certificates = certificates
        self._topics = frozenset(allowed_topics)
        self._clock = clock

    def receive(self, body: str) -> WebhookResult:
        try:
            message = json.loads(body)
            if not isinstance(message, dict):
                raise UntrustedMessage("not an SNS message")
            verify_sns_message(message, fetch_certificate=self._certificates, allowed_topics=self._topics)
        except (ValueError, IndexError, TypeError, RecursionError, UntrustedMessage) as refusal:
            logger.warning("SNS message refused", reason=mask_personal_data(str(refusal)))
            raise NotificationRefused(str(refusal)) from None
        kind = message["Type"]
        if kind == "SubscriptionConfirmation":
            arn = self._subscriptions.confirm(message["TopicArn"], message["Token"])
            logger.info("subscription confirmed", topic=message["TopicArn"], subscription=arn)
            return WebhookResult(outcome=WebhookOutcome.SUBSCRIPTION_CONFIRMED)
        if kind == "UnsubscribeConfirmation":
            # Someone unsubscribed the webhook: bounces would go unnoticed. Loud, for the alarm.
            logger.error("the webhook was unsubscribed from its topic", topic=message["TopicArn"])
            return WebhookResult(outcome=WebhookOutcome.UNSUBSCRIBED)
        try:
            note = parse_ses_notification(message["Message"])
        except ValueError:
            logger.warning("notification is not an SES event", sns_message_id=message.get("MessageId"))
            return WebhookResult(outcome=WebhookOutcome.IGNORED)
        return self.apply(note)

    def apply(self, note: SesNotification) -> WebhookResult:
        if note.event is DeliveryEvent.IGNORED:
            return WebhookResult(outcome=WebhookOutcome.IGNORED, event=note.event)
        now = self._clock()
        at = _parse_time(note.occurred_at) or now
        delivery = self._deliveries.find(note.message_id)
        settled = False
        if delivery is None and note.claim is not None:
            settled = self._settle(note, at)
            delivery = self._deliveries.find(note.message_id) if settled else None
        if delivery is None:
            # Not one of our invoice emails (or sent before this table existed).
            logger.info("notification for an unknown message", ses_message_id=note.message_id)
            return WebhookResult(outcome=WebhookOutcome.UNKNOWN_MESSAGE, event=note.event)
        logger.append_keys(invoice_number=delivery.invoice_number)
        if note.event is DeliveryEvent.SENT:
            return self._result(settled, note, delivery).model_copy(update={"settled_in_doubt": settled})
        handlers = {
            DeliveryEvent.DELIVERED: self._delivered,
            DeliveryEvent.PERMANENT_BOUNCE: self._bounced,
            DeliveryEvent.TRANSIENT_BOUNCE: self._soft_bounced,
            DeliveryEvent.COMPLAINT: self._complained,
            DeliveryEvent.OPENED: self._engaged,
            DeliveryEvent.CLICKED: self._engaged,
        }
        result = handlers[note.event](delivery, note, at, now)
        return result.model_copy(update={"settled_in_doubt": settled}) if settled else result

    def _settle(self, note: SesNotification, at: datetime) -> bool:
        """A tagged message we have no record of sending: the dispatcher's send reached SES but its
        bookkeeping was lost (the claim is still SENDING, a send in doubt). SES's own event settles
        it, so it is neither repeated nor left for a person."""
        number, tag = note.claim or ("", "")
        issued = self._ledger.issued_announcement(number)
        if issued is None or not self._deliveries.settle_in_doubt(number, tag, note.message_id, issued, at):
            return False
        logger.warning("send in doubt settled by the provider's notification", ses_message_id=note.message_id)
        return True

    def _delivered(
        self, delivery: NotifiedDelivery, note: SesNotification, at: datetime, now: datetime
    ) -> WebhookResult:
        changed = self._deliveries.record_delivered(delivery, note.message_id, at)
        return self._result(changed, note, delivery)

    def _bounced(
        self,
        delivery: NotifiedDelivery,
        note: SesNotification,
        at: datetime,
        now: datetime,
        *,
        suppress: bool = True,
    ) -> WebhookResult:
        if suppress:
            for address in note.recipients or [delivery.recipient]:
                self._deliveries.suppress(address, note.reason, now)
        announcement = self._ledger.issued_announcement(delivery.invoice_number)
        if announcement is None:
            raise LookupError(f"{delivery.invoice_number} bounced but has no issued announcement")
        # Recorded with InvoiceDeliveryFailed and InvoiceDeliveryDue (the fallback) in its outbox.
        changed = self._deliveries.record_bounce(delivery, note.message_id, note.reason, at, announcement)
        if not changed:
            return self._result(False, note, delivery)
        logger.warning(
            "email bounced; falling back", recipient=mask_email(delivery.recipient), reason=note.reason
        )
        return WebhookResult(
            outcome=WebhookOutcome.APPLIED,
            event=note.event,
            invoice_number=delivery.invoice_number,
            fell_back=True,
        )

    def _soft_bounced(
        self, delivery: NotifiedDelivery, note: SesNotification, at: datetime, now: datetime
    ) -> WebhookResult:
        if delivery.status is not DeliveryStatus.SENT or delivery.provider_message_id != note.message_id:
            return self._result(False, note, delivery)  # a repeat: this message was already deferred
        retry_at = soft_bounce_retry_at(delivery.soft_bounces, now)
        if retry_at is None:
            reason = f"gave up after {delivery.soft_bounces + 1} soft bounces: {note.reason}"
            return self._bounced(
                delivery, note.model_copy(update={"reason": reason}), at, now, suppress=False
            )
        changed = self._deliveries.record_soft_bounce(delivery, note.message_id, note.reason, at, retry_at)
        if changed:
            logger.info("email soft-bounced; will retry", retry_at=retry_at.isoformat())
        return self._result(changed, note, delivery)

    def _complained(
        self, delivery: NotifiedDelivery, note: SesNotification, at: datetime, now: datetime
    ) -> WebhookResult:
        for address in note.recipients or [delivery.recipient]:
            self._deliveries.suppress(address, note.reason, now)
        changed = self._deliveries.record_complaint(delivery, note.message_id, note.reason, at)
        return self._result(changed, note, delivery)

    def _engaged(
        self, delivery: NotifiedDelivery, note: SesNotification, at: datetime, now: datetime
    ) -> WebhookResult:
        what = "open" if note.event is DeliveryEvent.OPENED else "click"
        changed = self._deliveries.record_engagement(delivery, note.message_id, what, at)
        return self._result(changed, note, delivery)

    @staticmethod
    def _result(changed: bool, note: SesNotification, delivery: NotifiedDelivery) -> WebhookResult:
        return WebhookResult(
            outcome=WebhookOutcome.APPLIED if changed else WebhookOutcome.ALREADY_APPLIED,
            event=note.event,
            invoice_number=delivery.invoice_number,
        )


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
