"""The pages' sign-in in a real browser (web/sign-in/oidc.js against the local issuer,
infra/local/identity_provider.py): the authorization code flow with PKCE, an answer the page never
asked for refused, a role the console does not serve refused, and a session that ends."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.pages.conftest import LocalSite, screenshot, sign_in
from tests.pages.test_invoice_page import accessibility_violations


def test_signing_in_goes_through_the_issuer_with_pkce_and_keeps_no_code_in_the_address(
    site: LocalSite, page: Any
) -> None:
    seen: list[Any] = []
    page.on("request", lambda r: seen.append(r))  # noqa: PLW0108 (Playwright wraps Python functions only)
    page.goto(f"{site.api_url}/console/")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    screenshot(page, "sign-in-local-issuer")
    assert accessibility_violations(page) == []
    page.locator('input[name="account"][value="support:agent-7"]').check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("Signed in as agent-7 (support)").wait_for()

    (authorize,) = [r for r in seen if r.method == "GET" and "/local/oidc/authorize" in r.url]
    asked = {k: v[0] for k, v in parse_qs(urlsplit(authorize.url).query).items()}
    assert asked["response_type"] == "code" and asked["code_challenge_method"] == "S256"
    assert asked["redirect_uri"] == f"{site.api_url}/console/" and asked["scope"] == "openid"
    assert len(asked["state"]) >= 22 and len(asked["nonce"]) >= 22
    (exchange,) = [r for r in seen if r.method == "POST" and r.url.endswith("/local/oidc/token")]
    sent = {k: v[0] for k, v in parse_qs(exchange.post_data).items()}
    digest = base64.urlsafe_b64encode(hashlib.sha256(sent["code_verifier"].encode()).digest()).rstrip(b"=")
    assert digest.decode() == asked["code_challenge"]  # the verifier never left the page before
    assert "code_verifier" not in authorize.url and sent["grant_type"] == "authorization_code"
    assert page.url == f"{site.api_url}/console/"  # the code is out of the address bar

    page.reload()  # the session is this tab's, until its token expires
    page.get_by_text("Signed in as agent-7 (support)").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("Not signed in").wait_for()
    page.reload()
    page.get_by_role("button", name="Sign in").wait_for()
    assert page.get_by_text("Not signed in").is_visible()


def test_an_answer_the_page_never_asked_for_is_refused(site: LocalSite, page: Any) -> None:
    exchanges: list[Any] = []
    page.on("request", lambda r: exchanges.append(r) if r.url.endswith("/token") else None)
    page.goto(f"{site.api_url}/console/?code=stolen-code&state=forged")
    page.get_by_role("alert").get_by_text("not started from this page").wait_for()
    assert exchanges == []  # nothing was exchanged
    assert page.url == f"{site.api_url}/console/"


def test_an_account_without_a_console_role_is_refused_by_the_console(site: LocalSite, page: Any) -> None:
    page.goto(f"{site.api_url}/console/")
    page.get_by_role("button", name="Sign in").click()
    page.locator('input[name="account"][value="customer:CUST-ZOE"]').check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("alert").get_by_text("has no console role (customer)").wait_for()
    assert page.evaluate("sessionStorage.getItem('saypro.session')") is None
    assert page.get_by_role("button", name="Sign in").is_visible()


def test_a_token_the_api_no_longer_takes_ends_the_session(site: LocalSite, page: Any) -> None:
    sign_in(page, site, "account", "customer:CUST-ZOE")
    session = json.loads(page.evaluate("sessionStorage.getItem('saypro.session')"))
    session["token"] = session["token"][:-4] + "AAAA"  # as a revoked or tampered token
    page.evaluate(f"sessionStorage.setItem('saypro.session', {json.dumps(json.dumps(session))})")
    page.reload()
    page.get_by_text("Your session ended: sign in again.").wait_for()
    assert page.get_by_role("button", name="Sign in").is_visible()
    assert page.evaluate("sessionStorage.getItem('saypro.session')") is None
