"""The certificate cache: fetched once per URL, and never from a host that is not SNS's."""

from __future__ import annotations

import pytest

from invoicing.adapters.sns_certificates import SnsCertificates, download_certificate
from invoicing.domain.sns_messages import UntrustedMessage

URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc00000000000000000000000000000.pem"
PEM = b"-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"


def test_a_certificate_is_fetched_once_and_then_served_from_the_cache() -> None:
    fetched: list[str] = []
    certificates = SnsCertificates(download=lambda url: fetched.append(url) or PEM)

    assert certificates(URL) == PEM and certificates(URL) == PEM
    assert fetched == [URL]


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem",
        "https://evil.example/sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com:8443/cert.pem",
        "https://sns.eu-west-1.amazonaws.com/cert.txt",
    ],
)
def test_an_untrusted_url_is_never_fetched(url: str) -> None:
    fetched: list[str] = []
    certificates = SnsCertificates(download=lambda u: fetched.append(u) or PEM)

    with pytest.raises(UntrustedMessage):
        certificates(url)
    with pytest.raises(UntrustedMessage):
        certificates.preload(url, PEM)
    assert not fetched


def test_the_cache_keeps_a_handful_of_certificates() -> None:
    fetched: list[str] = []
    certificates = SnsCertificates(download=lambda u: fetched.append(u) or PEM, max_entries=2)
    urls = [URL.replace("abc", name) for name in ("aaa", "bbb", "ccc")]
    for url in [*urls, urls[0]]:
        certificates(url)
    assert fetched == [*urls, urls[0]]  # the oldest was evicted, so fetched again


def test_the_downloader_refuses_plain_http_before_any_request() -> None:
    with pytest.raises(UntrustedMessage):
        download_certificate("http://sns.eu-west-1.amazonaws.com/cert.pem")


def test_posts_naming_made_up_certificates_cannot_evict_a_pinned_one() -> None:
    def missing(url: str) -> bytes:
        raise UntrustedMessage("no such certificate (404)")

    certificates = SnsCertificates(download=missing, max_entries=8)
    certificates.preload(URL, PEM)
    for index in range(50):
        with pytest.raises(UntrustedMessage):
            certificates(URL.replace("abc", f"{index:03x}"))
    assert certificates(URL) == PEM


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.s3.amazonaws.com/SimpleNotificationService-abc00000000000000000000000000000.pem",
        "https://sns.s3-eu-west-1.amazonaws.com/SimpleNotificationService-abc00000000000000000000000000000.pem",
        "https://sns.execute-api.amazonaws.com/SimpleNotificationService-abc00000000000000000000000000000.pem",
        "https://sns.nonexistent-region-1.amazonaws.com/SimpleNotificationService-abc00000000000000000000000000000.pem",
    ],
)
def test_hosts_shaped_like_sns_but_not_an_sns_region_are_refused_by_the_adapter_too(url: str) -> None:
    certificates = SnsCertificates(download=lambda u: PEM)
    with pytest.raises(UntrustedMessage):
        certificates(url)
