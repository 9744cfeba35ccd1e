"""The certificates SNS signs with, fetched from their SigningCertURL once per process.

Only URLs that `trusted_certificate_url` accepted for one of our topics reach this adapter: HTTPS,
exactly that topic's regional SNS endpoint, SNS's certificate path. It checks the shape again, follows
no redirects and reads a bounded answer. A certificate is kept (a handful at most: SNS rotates them
rarely) so a burst of notifications costs one fetch; only certificates that were fetched (or
pinned) are kept, and a pinned one is never evicted, so posts naming made-up certificate paths
cannot push the real one out. A fetch that fails is `CertificateUnavailable` (answered 503, so SNS
retries a genuine message), or untrusted when the host answered that there is no such certificate.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Callable

from invoicing.domain.sns_messages import PARTITION_DOMAINS, REGION_PATTERN, UntrustedMessage

MAX_CERTIFICATE_BYTES = 16 * 1024
FETCH_TIMEOUT_SECONDS = 3


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class CertificateUnavailable(Exception):
    """The SNS endpoint could not be reached or failed: try again later (a 503 to SNS)."""


def download_certificate(url: str) -> bytes:
    """GET the PEM over HTTPS (the URL was checked by the caller and is checked again here)."""
    if not url.startswith("https://"):
        raise UntrustedMessage("certificate URL is not HTTPS")
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(url, timeout=FETCH_TIMEOUT_SECONDS) as response:
            pem: bytes = response.read(MAX_CERTIFICATE_BYTES + 1)
    except urllib.error.HTTPError as error:
        if 400 <= error.code < 500:
            raise UntrustedMessage(f"no such certificate ({error.code})") from None
        raise CertificateUnavailable(f"certificate fetch failed ({error.code})") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise CertificateUnavailable(f"certificate fetch failed ({type(error).__name__})") from None
    if len(pem) > MAX_CERTIFICATE_BYTES or b"BEGIN CERTIFICATE" not in pem:
        raise UntrustedMessage("not a certificate")
    return pem


_DOMAINS = "|".join(re.escape(domain) for domain in set(PARTITION_DOMAINS.values()))
_SNS_CERTIFICATE_URL = re.compile(
    rf"https://sns\.(?:{REGION_PATTERN.pattern})\.(?:{_DOMAINS})/SimpleNotificationService-[0-9a-f]{{32}}\.pem"
)


def _require_sns_host(url: str) -> None:
    """Defence in depth: `verify_sns_message` has already matched the host to the topic's own."""
    if _SNS_CERTIFICATE_URL.fullmatch(url) is None:
        raise UntrustedMessage("certificate URL is not an SNS certificate")


class SnsCertificates:
    """SigningCertURL -> PEM bytes, cached; a `CertificateFetcher` for `verify_sns_message`."""

    def __init__(
        self,
        download: Callable[[str], bytes] = download_certificate,
        max_entries: int = 8,
    ) -> None:
        self._download = download
        self._max = max_entries
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._pinned: dict[str, bytes] = {}

    def __call__(self, url: str) -> bytes:
        if url in self._pinned:
            return self._pinned[url]
        if url in self._cache:
            self._cache.move_to_end(url)
            return self._cache[url]
        _require_sns_host(url)
        pem = self._download(url)  # raises for a missing certificate: nothing is cached then
        self._cache[url] = pem
        if len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return pem

    def preload(self, url: str, pem: bytes) -> None:
        """Pin a certificate for a URL (a test or the local stack playing SNS; nothing is fetched)."""
        _require_sns_host(url)
        self._pinned[url] = pem
