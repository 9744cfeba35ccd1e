"""SES (raw MIME email) and SNS (SMS) behind two small senders.

Throttling and other transient errors are retried by botocore's standard retry mode with
backoff; what is still failing after that raises `TransientSendError` (the event is retried).
A refusal that will never succeed (rejected message, invalid number) raises
`PermanentSendError`: it is recorded and the invoice falls back to the next channel.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

from invoicing.domain.personal_data import mask_personal_data

RETRYING = Config(retries={"mode": "standard", "max_attempts": 5})

_PERMANENT_SES = {
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "ConfigurationSetDoesNotExistException",
    "AccountSendingPausedException",
    "InvalidParameterValue",
}
_PERMANENT_SNS = {"InvalidParameter", "InvalidParameterValue", "OptedOutException", "AuthorizationError"}


class SendError(Exception):
    def __init__(self, code: str, message: str) -> None:
        # The provider's message may name the recipient (MessageRejected lists the identities).
        super().__init__(f"{code}: {mask_personal_data(message)}")
        self.code = code


class PermanentSendError(SendError):
    """The provider refused for good: do not retry this channel and recipient."""


class TransientSendError(SendError):
    """Still failing after backoff (throttling, outage): the provider did not take the message."""


# The request never reached the provider: it certainly did not take the message. (A read timeout
# or a reset connection is different: the message may have gone; that stays in doubt.)
NOT_SENT = (EndpointConnectionError, ConnectTimeoutError)


def _classify(error: ClientError, permanent: set[str]) -> SendError:
    code = error.response["Error"].get("Code", "Unknown")
    message = error.response["Error"].get("Message", "")
    return PermanentSendError(code, message) if code in permanent else TransientSendError(code, message)


class SesEmailSender:
    def __init__(self, configuration_set: str, client: Any | None = None) -> None:
        self._configuration_set = configuration_set
        self._client = client or boto3.client("ses", config=RETRYING)

    def send(self, message: EmailMessage, recipient: str, tags: dict[str, str] | None = None) -> str:
        """`tags` (letters, digits, _ and - only) come back in the configuration set's events."""
        try:
            response = self._client.send_raw_email(
                Source=str(message["From"]),
                Destinations=[recipient],
                RawMessage={"Data": message.as_bytes()},
                ConfigurationSetName=self._configuration_set,
                Tags=[{"Name": name, "Value": value} for name, value in (tags or {}).items()],
            )
        except ClientError as error:
            raise _classify(error, _PERMANENT_SES) from error
        except NOT_SENT as error:
            raise TransientSendError("NotConnected", str(error)) from error
        message_id: str = response["MessageId"]
        return message_id


class SnsSmsSender:
    def __init__(self, sender_id: str = "SayPro", client: Any | None = None) -> None:
        self._sender_id = sender_id
        self._client = client or boto3.client("sns", config=RETRYING)

    def send(self, phone_number: str, text: str) -> str:
        try:
            response = self._client.publish(
                PhoneNumber=phone_number,
                Message=text,
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                    "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": self._sender_id},
                },
            )
        except ClientError as error:
            raise _classify(error, _PERMANENT_SNS) from error
        except NOT_SENT as error:
            raise TransientSendError("NotConnected", str(error)) from error
        message_id: str = response["MessageId"]
        return message_id
