"""The local page server: its page set, sitemaps and robots.txt, over keep-alive connections,
from a process of its own."""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.request

import pytest

from bench.harness.pages import PageSet, load_templates
from bench.harness.server import (
    PAGE_PATH,
    CountingPageServer,
    PageServer,
    read_requests,
    serving,
    sitemap_index_path,
)
from demo.site import PAGES_DIR


@pytest.fixture(scope="module")
def pages() -> PageSet:
    return PageSet(load_templates(PAGES_DIR))


def test_server_lists_and_serves_the_pages(pages: PageSet) -> None:
    with serving(pages, 45) as server:
        assert server.pid != os.getpid()
        with urllib.request.urlopen(server.base_url + "/robots.txt") as response:
            assert b"Allow: /" in response.read()
        with urllib.request.urlopen(server.sitemap_url(45)) as response:
            index = response.read().decode()
        assert index.count("<sitemap>") == 1
        with urllib.request.urlopen(f"{server.base_url}/sitemaps/45/0.xml") as response:
            sitemap = response.read().decode()
        assert sitemap.count("<url>") == 45
        assert f"{server.base_url}{pages.path(44)}" in sitemap
        with urllib.request.urlopen(server.base_url + pages.path(44)) as response:
            assert response.headers["Content-Type"] == "text/html"
            assert response.read() == pages.body(44)
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(server.base_url + pages.path(45))  # beyond the set
        assert missing.value.code == 404
        missing.value.close()
        assert server.cpu_seconds() > 0


def test_sitemaps_split_and_keep_alive(pages: PageSet) -> None:
    with serving(pages, 10, sitemap_urls=4) as server:
        host, port = server.base_url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            bodies = []
            for path in (sitemap_index_path(10), "/sitemaps/10/2.xml", "/sitemaps/10/3.xml"):
                connection.request("GET", path)  # one connection: HTTP/1.1 keep-alive
                response = connection.getresponse()
                bodies.append((response.status, response.read().decode()))
        finally:
            connection.close()
    (_, index), (_, last), (missing, _) = bodies
    assert index.count("<sitemap>") == 3  # 4 + 4 + 2 pages
    assert last.count("<url>") == 2
    assert missing == 404


def test_the_listen_backlog_takes_a_crawl_s_concurrency() -> None:
    assert PageServer.request_queue_size == 1024  # the default of 5 drops connections
    assert PageServer.daemon_threads


def test_the_counting_server_counts_every_path_until_read(pages: PageSet) -> None:
    with serving(pages, 5, server_class=CountingPageServer) as server:
        for path in ("/robots.txt", pages.path(1), pages.path(1), pages.path(2)):
            with urllib.request.urlopen(server.base_url + path) as response:
                response.read()
        requests = read_requests(server)
        assert requests.counts == {"/robots.txt": 1, pages.path(1): 2, pages.path(2): 1}
        assert requests.matching(PAGE_PATH) == {pages.path(1): 2, pages.path(2): 1}
        assert 0 <= requests.span < 10
        assert requests.first <= requests.last
        assert read_requests(server).counts == {}  # reading resets them
