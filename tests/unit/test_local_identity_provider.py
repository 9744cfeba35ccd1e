"""The local OpenID Connect issuer holds to what the pages rely on in a real one: registered
redirect URIs only, S256 challenges only, a code that works once, for its own redirect URI and
verifier, within its minute; an ID token for this client carrying the sign-in's nonce."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from infra.local.identity_provider import CLIENT_ID, LocalIdentityProvider
from infra.local.tokens import verify_token

ORIGIN = "http://127.0.0.1:8787"
VERIFIER = "v" * 20 + "-._~" + "0123456789abcdefghij"


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def request(**overrides: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": f"{ORIGIN}/console/",
        "scope": "openid",
        "state": "state-1",
        "nonce": "nonce-1",
        "code_challenge": challenge(VERIFIER),
        "code_challenge_method": "S256",
        **overrides,
    }


def answer_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def code_for(provider: LocalIdentityProvider, account: str = "support:agent-7", **overrides: str) -> str:
    reply = provider.authorize(request(**overrides), account)
    assert reply.status == 302
    return answer_of(reply.headers["Location"])["code"]


def exchange(provider: LocalIdentityProvider, code: str, **overrides: str) -> tuple[int, dict[str, Any]]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": f"{ORIGIN}/console/",
        "client_id": CLIENT_ID,
        "code_verifier": VERIFIER,
        **overrides,
    }
    reply = provider.token(form)
    return reply.status, json.loads(reply.body)


def test_a_code_is_exchanged_once_for_the_accounts_tokens() -> None:
    provider = LocalIdentityProvider(ORIGIN)
    page = provider.authorize(request())
    assert page.status == 200 and b'value="support:agent-7"' in page.body and b"state-1" in page.body
    code = code_for(provider)
    status, tokens = exchange(provider, code)
    assert status == 200 and tokens["token_type"] == "Bearer"
    assert verify_token(tokens["access_token"])["role"] == "support"
    payload = tokens["id_token"].split(".")[1]
    id_token = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert id_token["iss"] == f"{ORIGIN}/local/oidc" and id_token["aud"] == CLIENT_ID
    assert id_token["nonce"] == "nonce-1" and id_token["sub"] == "agent-7"
    assert exchange(provider, code) == (
        400,
        {"error": "invalid_grant", "error_description": "the code is unknown, used or expired"},
    )


@pytest.mark.parametrize(
    ("overrides", "description"),
    [
        ({"code_verifier": "w" * 43}, "the code_verifier does not match the code_challenge"),
        ({"code_verifier": "short"}, "the code_verifier does not match the code_challenge"),
        ({"redirect_uri": f"{ORIGIN}/account/"}, "the redirect_uri differs from the authorization request's"),
    ],
)
def test_a_code_is_refused_with_another_verifier_or_redirect_uri(
    overrides: dict[str, str], description: str
) -> None:
    provider = LocalIdentityProvider(ORIGIN)
    status, body = exchange(provider, code_for(provider), **overrides)
    assert (status, body["error"], body["error_description"]) == (400, "invalid_grant", description)


def test_an_expired_code_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import infra.local.identity_provider as module

    provider = LocalIdentityProvider(ORIGIN)
    code = code_for(provider)
    later = module.time.time() + module.CODE_LIFETIME_SECONDS + 1
    monkeypatch.setattr(module.time, "time", lambda: later)
    assert exchange(provider, code)[1]["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "someone-else"},
        {"redirect_uri": "https://evil.example/console/"},
        {"redirect_uri": f"{ORIGIN}/elsewhere/"},
    ],
)
def test_an_unknown_client_or_redirect_uri_is_never_redirected_to(overrides: dict[str, str]) -> None:
    reply = LocalIdentityProvider(ORIGIN).authorize(request(**overrides), "support:agent-7")
    assert reply.status == 400 and "Location" not in reply.headers


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "profile"}, "invalid_scope"),
    ],
)
def test_a_request_without_s256_pkce_or_the_code_flow_goes_back_with_its_error(
    overrides: dict[str, str], error: str
) -> None:
    reply = LocalIdentityProvider(ORIGIN).authorize(request(**overrides), "support:agent-7")
    assert reply.status == 302
    answer = answer_of(reply.headers["Location"])
    assert answer["error"] == error and answer["state"] == "state-1" and "code" not in answer


def test_only_the_test_accounts_sign_in_and_other_grants_are_refused() -> None:
    provider = LocalIdentityProvider(ORIGIN)
    assert provider.authorize(request(), "support:root").status == 400
    assert provider.token({"grant_type": "password", "client_id": CLIENT_ID}).status == 400
    assert exchange(provider, code_for(provider), client_id="other")[1]["error"] == "invalid_client"
    discovery = json.loads(provider.discovery().body)
    assert discovery["issuer"] == f"{ORIGIN}/local/oidc"
    assert discovery["code_challenge_methods_supported"] == ["S256"]
