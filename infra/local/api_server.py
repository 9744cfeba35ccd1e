"""The local HTTP API on loopback: what API Gateway does in the stack, for every route.

Each request becomes a real API Gateway HTTP API (payload 2.0) event for the real handler, and
the handler's response is written back, so an emailed or texted link opens in a browser: a 302 to
the PDF on the local S3, or the same 403 as in the cloud. `POST /webhooks/ses` takes SNS-format
notifications; the local SNS's certificate is pinned in the webhook's certificate cache, since
nothing can be fetched from SNS offline.
"""

from __future__ import annotations

import json
import mimetypes
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from infra.local.identity_provider import PATH as OIDC_PATH
from infra.local.identity_provider import LocalIdentityProvider, Reply
from infra.local.runtime import ACCOUNT_ID, FakeLambdaContext, LambdaHandler, load_handler, load_module
from infra.local.sns_signer import LocalSns
from infra.local.tokens import InvalidToken, verify_token

WEB = Path(__file__).resolve().parents[2] / "web"
STATIC_HEADERS = {
    # As CloudFront's response headers policy sends them (infra/constructs/web_pages.py).
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}

# moto is not thread-safe: the pipeline's loop and API requests take turns.
AWS_LOCK = threading.Lock()


def http_api_event(
    method: str, target: str, headers: dict[str, str], route: str, params: dict[str, str]
) -> dict[str, Any]:
    parts = urlsplit(target)
    query = dict(parse_qsl(parts.query))
    return {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "queryStringParameters": query or None,
        "pathParameters": params,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": headers.get("Host", "127.0.0.1"),
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": f"local-{time.time_ns()}",
            "routeKey": f"{method} {route}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": False,
    }


def start_api_server(port: int, sns: LocalSns | None = None) -> tuple[ThreadingHTTPServer, str]:
    download: LambdaHandler = load_handler("invoice_download")
    invoices: LambdaHandler = load_handler("invoices_api")
    webhook_module = load_module("delivery_webhook")
    if sns is not None:
        webhook_module.certificates.preload(sns.certificate_url, sns.certificate_pem)
    webhook: LambdaHandler = webhook_module.lambda_handler
    payments: LambdaHandler = load_handler("payment_webhook")
    context = FakeLambdaContext(function_name="invoice-download")
    identity = LocalIdentityProvider(f"http://127.0.0.1:{port}")
    posted = {
        "/webhooks/ses": (webhook, "delivery-webhook"),
        "/webhooks/payments": (payments, "payment-webhook"),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            segments = urlsplit(self.path).path.strip("/").split("/")
            if urlsplit(self.path).path in (f"{OIDC_PATH}/authorize", f"{OIDC_PATH}/token"):
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(parse_qsl(self.rfile.read(length).decode("utf-8", errors="replace")))
                if segments[-1] == "token":
                    self._answer(identity.token(form))
                else:
                    account = form.pop("account", "")
                    self._answer(identity.authorize(form, account))
                return
            if len(segments) == 3 and segments[0] == "invoices" and segments[2] == "corrections":
                self._invoices(segments, "POST")
                return
            if (len(segments) == 4 and segments[0] == "support" and segments[3] in ("resend", "actions")) or (
                len(segments) == 3 and segments[0] == "invoices" and segments[2] == "inquiries"
            ):
                self._invoices(segments, "POST")
                return
            path = urlsplit(self.path).path
            if len(segments) == 3 and segments[0] == "download" and segments[2] in ("fresh-link", "problem"):
                length = int(self.headers.get("Content-Length", "0"))
                event = http_api_event(
                    "POST",
                    self.path,
                    dict(self.headers),
                    f"/download/{{invoice_number}}/{segments[2]}",
                    {"invoice_number": segments[1]},
                )
                event["body"] = self.rfile.read(length).decode("utf-8", errors="replace")
                with AWS_LOCK:
                    response = download(event, context)
                self._reply(
                    int(response["statusCode"]),
                    dict(response.get("headers") or {}),
                    str(response.get("body") or "").encode(),
                )
                return
            if path not in posted:
                self._reply(404, {"Content-Type": "application/json"}, b'{"message": "Not Found"}')
                return
            handler, name = posted[path]
            length = int(self.headers.get("Content-Length", "0"))
            event = http_api_event("POST", self.path, dict(self.headers), path, {})
            event["body"] = self.rfile.read(length).decode("utf-8", errors="replace")
            with AWS_LOCK:
                response = handler(event, FakeLambdaContext(function_name=name))
            self._reply(
                int(response["statusCode"]),
                dict(response.get("headers") or {}),
                str(response.get("body") or "").encode(),
            )

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            segments = path.strip("/").split("/")
            if path == "/sign-in/config.json":
                # What the stack writes per environment; here the local issuer below.
                self._answer(
                    Reply(
                        200,
                        {"Content-Type": "application/json", **STATIC_HEADERS},
                        json.dumps(identity.pages_config()).encode(),
                    )
                )
                return
            if segments[0] in ("account", "console", "sign-in"):
                self._static(path)
                return
            if path == f"{OIDC_PATH}/.well-known/openid-configuration":
                self._answer(identity.discovery())
                return
            if path == f"{OIDC_PATH}/authorize":
                self._answer(identity.authorize(dict(parse_qsl(urlsplit(self.path).query))))
                return
            if segments[0] in ("invoices", "support", "operations") or segments == ["statements"]:
                self._invoices(segments)
                return
            routes = {
                ("download", 2): ("/download/{invoice_number}", ["invoice_number"]),
                ("statements", 2): ("/statements/{statement_id}", ["statement_id"]),
                ("feedback", 2): ("/feedback/{invoice_number}", ["invoice_number"]),
                ("reports", 3): ("/reports/{report_id}/{file_name}", ["report_id", "file_name"]),
            }
            route = routes.get((segments[0], len(segments)))
            if route is None:
                self._reply(404, {"Content-Type": "application/json"}, b'{"message": "Not Found"}')
                return
            template, names = route
            event = http_api_event(
                "GET", self.path, dict(self.headers), template, dict(zip(names, segments[1:], strict=True))
            )
            with AWS_LOCK:
                response = download(event, context)
            body = str(response.get("body") or "").encode()
            self._reply(int(response["statusCode"]), dict(response.get("headers") or {}), body)

        def _invoices(self, segments: list[str], method: str = "GET") -> None:
            """As API Gateway's JWT authorizer: no valid bearer token, 401; else claims to the handler."""
            authorization = self.headers.get("Authorization", "")
            try:
                claims = verify_token(authorization.removeprefix("Bearer ").strip())
            except InvalidToken:
                self._reply(401, {"Content-Type": "application/json"}, b'{"message": "Unauthorized"}')
                return
            params = (
                {"invoice_number": segments[1]} if len(segments) > 1 and segments[0] == "invoices" else {}
            )
            event = http_api_event(method, self.path, dict(self.headers), "$default", params)
            event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
            if method == "POST":
                length = int(self.headers.get("Content-Length", "0"))
                event["body"] = self.rfile.read(length).decode("utf-8", errors="replace")
            with AWS_LOCK:
                response = invoices(event, context)
            self._reply(
                int(response["statusCode"]),
                dict(response.get("headers") or {}),
                str(response.get("body") or "").encode(),
            )

        def _static(self, path: str) -> None:
            """The pages' static files (web/), as CloudFront serves them from their bucket."""
            relative = path.strip("/") + (
                "/index.html" if path.endswith("/") or "." not in path.rsplit("/", 1)[-1] else ""
            )
            file = (WEB / relative).resolve()
            if WEB not in file.parents or not file.is_file():
                self._reply(404, {"Content-Type": "text/plain"}, b"Not Found")
                return
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind.endswith("javascript"):
                kind += "; charset=utf-8"
            self._reply(200, {"Content-Type": kind, **STATIC_HEADERS}, file.read_bytes())

        def _answer(self, reply: Reply) -> None:
            self._reply(reply.status, reply.headers, reply.body)

        def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="local-api").start()
    return server, f"http://127.0.0.1:{port}"
