"""The local OpenID Connect issuer: what the marketplace's identity provider does for the pages.

The pages sign in the same way locally as in the cloud (web/sign-in/oidc.js: the authorization
code flow with PKCE); here the issuer is this module behind the local API, at `/local/oidc`. Its
sign-in page lists the local test accounts instead of asking for a password. It holds to what the
pages depend on in a real issuer: the discovery document, redirect URIs registered for the one
client (the account and console pages on this origin), S256 challenges only, codes that work once,
for one minute, for the redirect URI and verifier they were issued with, and an ID token that
carries the nonce. The access token is the local API's own test token (infra/local/tokens.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from infra.local.tokens import LOCAL_SECRET, ROLES, issue_token

CLIENT_ID = "saypro-pages-local"
PATH = "/local/oidc"
PAGES = ("/account/", "/console/")
"""The redirect URIs registered for the client, on the local API's origin."""
CODE_LIFETIME_SECONDS = 60
VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
TEST_ACCOUNTS = (
    ("CUST-ZOE", "customer", "Zoë"),
    ("CUST-JOSE", "customer", "José"),
    ("CUST-MUELLER", "customer", "Müller"),
    ("V-BOOKS", "vendor", "Books vendor"),
    ("agent-7", "support", "agent-7"),
    ("billing-lead", "support", "billing-lead"),
    ("ops-1", "operations", "ops-1"),
    ("fin-1", "finance", "fin-1"),
)
"""(sub, role, name): the local test accounts, as the issuer's sign-in page offers them."""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class _Grant:
    sub: str
    role: str
    name: str
    redirect_uri: str
    challenge: str
    nonce: str
    expires: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json(status: int, body: dict[str, Any]) -> Reply:
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    return Reply(status, headers, json.dumps(body).encode())


def _oauth_error(error: str, description: str) -> Reply:
    """RFC 6749 5.2: the token endpoint's errors."""
    return _json(400, {"error": error, "error_description": description})


class LocalIdentityProvider:
    def __init__(self, origin: str) -> None:
        self.origin = origin.rstrip("/")
        self.issuer = f"{self.origin}{PATH}"
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    def pages_config(self) -> dict[str, str]:
        """/sign-in/config.json as the stack writes it for an environment (infra/constructs/web_pages.py)."""
        return {
            "issuer": self.issuer,
            "client_id": CLIENT_ID,
            "scopes": "openid",
            "send_to_api": "access_token",
        }

    def discovery(self) -> Reply:
        return _json(
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "code_challenge_methods_supported": ["S256"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["HS256"],
                "token_endpoint_auth_methods_supported": ["none"],
                "scopes_supported": ["openid"],
            },
        )

    def authorize(self, query: dict[str, str], account: str | None = None) -> Reply:
        """GET: the sign-in page. POST (the page's form, `account` chosen): back to the page with a code."""
        client_id, redirect_uri = query.get("client_id", ""), query.get("redirect_uri", "")
        if client_id != CLIENT_ID or redirect_uri not in {f"{self.origin}{page}" for page in PAGES}:
            # RFC 6749 4.1.2.1: never redirect to an unregistered address.
            return self._page(
                400, "Unknown client or redirect address", "<p>This sign-in cannot continue.</p>"
            )
        state = query.get("state", "")
        problem = None
        if query.get("response_type") != "code":
            problem = ("unsupported_response_type", "only the authorization code flow")
        elif query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            problem = ("invalid_request", "a code_challenge with code_challenge_method S256 is required")
        elif "openid" not in query.get("scope", "").split():
            problem = ("invalid_scope", "the openid scope is required")
        if problem is not None:
            return self._back(
                redirect_uri, {"error": problem[0], "error_description": problem[1], "state": state}
            )
        if account is None:
            return self._page(200, "Sign in", self._form(query))
        chosen = next((a for a in TEST_ACCOUNTS if f"{a[1]}:{a[0]}" == account), None)
        if chosen is None:
            return self._page(
                400, "Sign in", "<p role='alert'>Choose one of the test accounts.</p>" + self._form(query)
            )
        code = secrets.token_urlsafe(32)
        sub, role, name = chosen
        with self._lock:
            self._grants[code] = _Grant(
                sub=sub,
                role=role,
                name=name,
                redirect_uri=redirect_uri,
                challenge=query["code_challenge"],
                nonce=query.get("nonce", ""),
                expires=time.time() + CODE_LIFETIME_SECONDS,
            )
        return self._back(redirect_uri, {"code": code, "state": state})

    def token(self, form: dict[str, str]) -> Reply:
        if form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "only authorization_code")
        if form.get("client_id") != CLIENT_ID:
            return _oauth_error("invalid_client", "unknown client")
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)  # a code works once
        if grant is None or grant.expires < time.time():
            return _oauth_error("invalid_grant", "the code is unknown, used or expired")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _oauth_error("invalid_grant", "the redirect_uri differs from the authorization request's")
        verifier = form.get("code_verifier", "")
        answer = _b64(hashlib.sha256(verifier.encode()).digest())
        if not VERIFIER.match(verifier) or not hmac.compare_digest(answer, grant.challenge):
            return _oauth_error("invalid_grant", "the code_verifier does not match the code_challenge")
        assert grant.role in ROLES
        return _json(
            200,
            {
                "access_token": issue_token(grant.sub, grant.role),
                "id_token": self._id_token(grant),
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": "openid",
            },
        )

    def _id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": grant.sub,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 3600,
            "nonce": grant.nonce,
            "name": grant.name,
            "role": grant.role,
        }
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64(json.dumps(claims).encode())
        signature = _b64(hmac.new(LOCAL_SECRET, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{signature}"

    @staticmethod
    def _back(redirect_uri: str, params: dict[str, str]) -> Reply:
        return Reply(
            302, {"Location": f"{redirect_uri}?{urlencode(params)}", "Cache-Control": "no-store"}, b""
        )

    @staticmethod
    def _form(query: dict[str, str]) -> str:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in query.items()
            if k != "account"
        )
        options = "".join(
            f'<li><label><input type="radio" name="account" value="{role}:{sub}"{checked}> '
            f"{html.escape(name)} ({role} {html.escape(sub)})</label></li>"
            for (sub, role, name), checked in zip(
                TEST_ACCOUNTS, [" checked", *[""] * len(TEST_ACCOUNTS)], strict=False
            )
        )
        return (
            f'<form method="post" action="{PATH}/authorize">{hidden}'
            f"<fieldset><legend>Local test account</legend><ul>{options}</ul></fieldset>"
            '<button type="submit">Continue</button></form>'
        )

    @staticmethod
    def _page(status: int, title: str, content: str) -> Reply:
        body = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)} · local identity provider</title></head><body><main>"
            f"<h1>{html.escape(title)}</h1><p>The local identity provider (make local): "
            f"choose who to sign in as. In the cloud this is the marketplace's own sign-in.</p>{content}"
            "</main></body></html>"
        )
        headers = {
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
            "Referrer-Policy": "no-referrer",
        }
        return Reply(status, headers, body.encode())
