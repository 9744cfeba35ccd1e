"""The certificates SNS signs with, fetched from their SigningCertURL once per process.

Only URLs that `trusted_certificate_url` accepts are ever fetched: HTTPS, an SNS host of the
partition, a .pem path; no redirects are followed and the answer is size-limited. A certificate
is kept (a handful at most: SNS rotates them rarely) so a burst of notifications costs one fetch.
"""

from __future__ import annotations

import urllib.request
from collections import OrderedDict
from collections.abc import Callable

from invoicing.domain.sns_messages import PARTITION_DOMAINS, UntrustedMessage, trusted_certificate_url

MAX_CERTIFICATE_BYTES = 16 * 1024
FETCH_TIMEOUT_SECONDS = 3


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def download_certificate(url: str) -> bytes:
    """GET the PEM over HTTPS (the URL was checked by the caller and is checked again here)."""
    if not url.startswith("https://"):
        raise UntrustedMessage("certificate URL is not HTTPS")
    opener = urllib.request.build_opener(_NoRedirects)
    with opener.open(url, timeout=FETCH_TIMEOUT_SECONDS) as response:
        pem: bytes = response.read(MAX_CERTIFICATE_BYTES + 1)
    if len(pem) > MAX_CERTIFICATE_BYTES or b"BEGIN CERTIFICATE" not in pem:
        raise UntrustedMessage("not a certificate")
    return pem


def _require_sns_host(url: str) -> None:
    """Defence in depth: `verify_sns_message` has already matched the host to the topic's partition."""
    if not any(trusted_certificate_url(url, partition) for partition in PARTITION_DOMAINS):
        raise UntrustedMessage("certificate URL is not an SNS host")


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

    def __call__(self, url: str) -> bytes:
        if url in self._cache:
            self._cache.move_to_end(url)
            return self._cache[url]
        _require_sns_host(url)
        pem = self._download(url)
        self._cache[url] = pem
        if len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return pem

    def preload(self, url: str, pem: bytes) -> None:
        """Pin a certificate for a URL (a test or the local stack playing SNS; nothing is fetched)."""
        _require_sns_host(url)
        self._cache[url] = pem
