"""Test JWTs for the local invoices API (HS256 with a local-only secret).

In the cloud, API Gateway's JWT authorizer verifies tokens from the marketplace's identity
provider; locally this module plays both parts. Print a token:

    .venv/bin/python -m infra.local.tokens --sub CUST-ZOE --role customer
    .venv/bin/python -m infra.local.tokens --sub agent-7 --role support

The role travels in the `role` claim, as the marketplace's identity provider sends it (the API
also reads `custom:role`): customer, vendor, support (any invoice by number, and corrections), or
operations and finance (the console's operations picture, no invoice).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import time
from typing import Any

LOCAL_SECRET = b"saypro-local-only-not-a-real-secret"
ISSUER = "https://auth.local.saypro.example/"
AUDIENCE = "saypro-invoices-local"
ROLES = ("customer", "vendor", "support", "operations", "finance")


class InvalidToken(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(sub: str, role: str, lifetime_seconds: int = 3600) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    now = int(time.time())
    claims = {
        "sub": sub,
        "role": role,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + lifetime_seconds,
    }
    payload = _b64(json.dumps(claims).encode())
    signature = _b64(hmac.new(LOCAL_SECRET, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def verify_token(token: str) -> dict[str, Any]:
    try:
        header, payload, signature = token.split(".")
        expected = _b64(hmac.new(LOCAL_SECRET, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature) or json.loads(_unb64(header)).get("alg") != "HS256":
            raise InvalidToken
        claims: dict[str, Any] = json.loads(_unb64(payload))
    except (ValueError, KeyError):
        raise InvalidToken from None
    if claims.get("iss") != ISSUER or claims.get("aud") != AUDIENCE or claims.get("exp", 0) <= time.time():
        raise InvalidToken
    return claims


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sub", required=True, help="the customer or vendor id, or the support agent's")
    parser.add_argument("--role", choices=ROLES, default="customer")
    args = parser.parse_args()
    print(issue_token(args.sub, args.role))


if __name__ == "__main__":
    main()
