"""The address guard: no other schemes than HTTP(S), no internal addresses a crawl was not
given."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.address_guard import (
    AddressGuardMiddleware,
    GuardRefused,
    is_internal_host,
    origin,
    refusal,
)
from crawler.sources import Source


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST.", "api.localhost", "10.1.2.3",
        "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "[::1]",
        "::1", "fc00::1", "fe80::1", "::ffff:127.0.0.1", "224.0.0.1", "240.0.0.1",
    ],
)  # fmt: skip
def test_internal_hosts(host: str) -> None:
    assert is_internal_host(host)


@pytest.mark.parametrize(
    "host", ["example.com", "8.8.8.8", "2001:4860:4860::8888", "localhost.example.com"]
)
def test_public_hosts(host: str) -> None:
    assert not is_internal_host(host)


def test_origin() -> None:
    assert origin("https://News.Example.com./a?b") == ("https", "news.example.com", 443)
    assert origin("http://127.0.0.1:8765/x") == ("http", "127.0.0.1", 8765)
    assert origin("http://[::1]/x") == ("http", "::1", 80)
    assert origin("http://host:notaport/") is None
    assert origin("file:///etc/passwd") is None


def test_refusal() -> None:
    trusted = {("http", "127.0.0.1", 8765)}
    assert refusal("http://127.0.0.1:8765/news/1", trusted, allow_private=False) is None
    assert refusal("https://example.com/", trusted, allow_private=False) is None
    for url in ("http://127.0.0.1:8766/", "http://localhost:8765/", "http://10.0.0.1/"):
        assert refusal(url, trusted, allow_private=False) == "private_address", url
        assert refusal(url, trusted, allow_private=True) is None
    for url in ("file:///etc/passwd", "ftp://example.com/a", "data:text/html,hi", "http:///x"):
        assert refusal(url, trusted, allow_private=True) == "scheme", url


def test_middleware_refuses_and_counts() -> None:
    crawler = get_crawler()
    guard = AddressGuardMiddleware.from_crawler(crawler)
    guard.trust(["http://127.0.0.1:8765/sitemap.xml"])
    assert guard.process_request(Request("http://127.0.0.1:8765/a.html")) is None
    request = Request(
        "http://169.254.169.254/latest/meta-data/",
        meta={"redirect_urls": ["http://127.0.0.1:8765/b.html"]},
    )
    with pytest.raises(GuardRefused):
        guard.process_request(request)
    assert crawler.stats.get_value("news/guard/refused/private_address") == 1


def test_switched_off() -> None:
    with pytest.raises(NotConfigured):
        AddressGuardMiddleware.from_crawler(
            get_crawler(settings_dict={"ADDRESS_GUARD_ENABLED": False})
        )


def test_a_redirect_may_not_leave_its_sources_site() -> None:
    crawler = get_crawler()
    guard = AddressGuardMiddleware.from_crawler(crawler)

    spider = SimpleNamespace(
        given_urls=["https://news.example/"],
        sources={"news": Source(name="news", home="https://news.example/")},
    )
    guard.spider_opened(spider)

    def request(url: str, *, redirected: bool, source: str | None = "news") -> Request:
        meta = {"redirect_urls": ["https://news.example/a"]} if redirected else {}
        return Request(url, meta=meta, cb_kwargs={"source": source})

    assert guard.process_request(request("https://www.news.example/b", redirected=True)) is None
    assert guard.process_request(request("https://cdn.other.example/x", redirected=False)) is None
    # no source (a URL given directly): a redirect to another site is followed
    assert (
        guard.process_request(request("https://other.example/x", redirected=True, source=None))
        is None
    )
    with pytest.raises(GuardRefused, match="offsite_redirect"):
        guard.process_request(request("https://other.example/x", redirected=True))
    assert crawler.stats.get_value("news/guard/refused/offsite_redirect") == 1
