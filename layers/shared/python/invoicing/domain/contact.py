"""Is a contact detail usable? Shared by validation (is anyone reachable?) and delivery."""

from __future__ import annotations

import re
from collections.abc import Collection

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
E164_PATTERN = re.compile(r"^\+[1-9]\d{7,14}$")
MAX_EMAIL_LENGTH = 254
"""RFC 5321's limit on a path, which every mail server enforces."""


def deliverable_address(email: str) -> str | None:
    """The address as a mail provider takes it: an internationalized domain in its ASCII (IDNA)
    form, so `zoë@bücher.de` is refused but `zoe@bücher.de` is sent to `zoe@xn--bcher-kva.de`.
    None when the address cannot be sent to: SES has no SMTPUTF8, so the part before the @ must be
    ASCII, and a domain that IDNA cannot encode (an empty or over-long label) has no mail server."""
    local, at, domain = email.rpartition("@")
    if not at or not local or not local.isascii() or not local.isprintable():
        return None
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    address = f"{local}@{ascii_domain.lower()}"
    return address if len(address) <= MAX_EMAIL_LENGTH and EMAIL_PATTERN.match(address) else None


def email_problem(email: str | None, suppressed: Collection[str] = ()) -> str | None:
    if not email:
        return "no email address"
    if len(email) > MAX_EMAIL_LENGTH or not email.isprintable() or not EMAIL_PATTERN.match(email):
        return "the email address is not valid"
    address = deliverable_address(email)
    if address is None:
        if not email.rpartition("@")[0].isascii():
            return (
                "the email address has non-ASCII characters before the @, which mail providers cannot deliver"
            )
        return "the email address's domain is not a valid internet domain name"
    if email.lower() in suppressed or address.lower() in suppressed:
        return "the email address is suppressed after a bounce or complaint"
    return None


def phone_problem(phone: str | None, suppressed: Collection[str] = ()) -> str | None:
    if not phone:
        return "no phone number"
    if not E164_PATTERN.match(phone):
        return "the phone number is not in E.164 form"
    if phone in suppressed:
        return "the phone number is suppressed"
    return None
