"""HTML of the hosted invoice page and of its answers (expired, refused, fresh link sent).

Server-rendered with Jinja2 (autoescaped), no framework and no third-party request: one small
document with its style and its one script inline, allowed by their SHA-256 in a strict
Content-Security-Policy. `Referrer-Policy: no-referrer` keeps the link's token out of any
Referer header.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

HERE = Path(__file__).parent
PRINT_SCRIPT = (
    'document.getElementById("print").addEventListener("click", function () { window.print(); });'
    ' if (location.hash === "#print") { window.print(); }'
)
"""The page's one script: its Print button, and printing at once when opened as `…#print` (the
account's Print)."""


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _css() -> str:
    return (HERE / "page.css").read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@cache
def page_headers() -> dict[str, str]:
    """Security headers of every page: nothing loads but the page itself, nothing frames it."""
    policy = (
        f"default-src 'none'; style-src {_sha256(_css())}; script-src {_sha256(PRINT_SCRIPT)}; "
        "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": policy,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
        "Cache-Control": "no-store",
    }


def render_invoice_page(**context: Any) -> str:
    template = _environment().get_template("invoice.html")
    return template.render(css=Markup(_css()), script=Markup(PRINT_SCRIPT), **context)  # noqa: S704 (our own files)


def render_message_page(
    title: str, text: str, *, fresh_link_action: str | None = None, token: str | None = None
) -> str:
    template = _environment().get_template("message.html")
    return template.render(
        css=Markup(_css()),  # noqa: S704 (our own file)
        title=title,
        text=text,
        fresh_link_action=fresh_link_action,
        token=token,
    )
