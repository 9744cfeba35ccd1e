"""Is a contact detail usable? Shared by validation (is anyone reachable?) and delivery."""

from __future__ import annotations

import re
from collections.abc import Collection

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
E164_PATTERN = re.compile(r"^\+[1-9]\d{7,14}$")


def email_problem(email: str | None, suppressed: Collection[str] = ()) -> str | None:
    if not email:
        return "no email address"
    if not EMAIL_PATTERN.match(email):
        return "the email address is not valid"
    if email.lower() in suppressed:
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
