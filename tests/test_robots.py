"""robots.txt holds for every request, including those made while it downloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from demo.site import Response as Route
from demo.site import load_site
from tests.conftest import run_crawl
from tests.hostile_site import HostileServer, redirect, serve

if TYPE_CHECKING:
    from pathlib import Path


def test_every_concurrent_request_obeys_robots_txt(
    tmp_path: Path, site_url: str, site_server: Any
) -> None:
    private = [f"/private/page-{n}.html" for n in range(6)]
    allowed = "/articles/seed/sputnik-africa-shoigu.html"
    urls = ",".join(site_url + path for path in [allowed, *private])
    result = run_crawl(tmp_path, "-a", f"urls={urls}")
    assert result.returncode == 0
    assert result.stats.get("robotstxt/forbidden") == len(private)
    assert not set(private) & set(site_server.requested)
    assert allowed in site_server.requested
    assert result.stats.get("news/parquet/rows_written") == 1


def _serving_a_page(server: HostileServer) -> str:
    page = load_site().pages[0]
    server.routes["/a/1.html"] = Route(200, {"Content-Type": "text/html"}, page.body())
    return server.url("/a/1.html")


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_robots_txt_answered_with_a_server_error_disallows_the_site(
    tmp_path: Path, status: int
) -> None:
    # RFC 9309, 2.3.1.4; Scrapy read the error page as the site's rules and crawled it all
    with serve() as server:
        page = _serving_a_page(server)
        server.routes["/robots.txt"] = Route(
            status, {"Content-Type": "text/html"}, b"<h1>Down</h1>"
        )
        result = run_crawl(tmp_path, "-a", f"urls={page}", settings=("RETRY_TIMES=0",))
        assert "/a/1.html" not in server.requested
    assert result.stats[f"news/robots/error/http_{status}"] == 1
    assert (
        result.log.count(f"robots.txt of {server.base_url.split('//')[1]} answered {status}") == 1
    )
    assert result.returncode == 1  # nothing could be fetched
    assert "Traceback" not in result.log


def test_a_robots_txt_in_a_redirect_loop_is_one_line_and_a_counter(tmp_path: Path) -> None:
    with serve() as server:
        page = _serving_a_page(server)
        server.routes["/robots.txt"] = redirect(server.url("/robots.txt"))
        result = run_crawl(tmp_path, "-a", f"urls={page}")
        assert "/a/1.html" in server.requested  # crawled as if it had none
    assert result.returncode == 0
    assert result.stats["news/robots/error/too_many_redirects"] == 1
    assert result.log.count("robots.txt of") == 1


@pytest.mark.parametrize("robots", [200, 404])
def test_a_sites_robots_txt_is_downloaded_once(tmp_path: Path, robots: int) -> None:
    # the spider reads a site's robots.txt for its sitemaps and the middleware for its rules:
    # both downloaded it, every run, from every site with a home page
    with serve() as server:
        page = _serving_a_page(server)
        sitemap = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{page}</loc></url></urlset>'
        server.routes["/news-sitemap.xml"] = Route(
            200, {"Content-Type": "application/xml"}, sitemap.encode()
        )
        server.routes["/"] = Route(
            200, {"Content-Type": "text/html"}, b"<html><body></body></html>"
        )
        text = f"User-agent: *\nDisallow: /private/\nSitemap: {server.url('/news-sitemap.xml')}\n"
        if robots == 200:
            server.routes["/robots.txt"] = Route(200, {"Content-Type": "text/plain"}, text.encode())
        else:
            server.routes["/sitemap.xml"] = server.routes.pop("/news-sitemap.xml")
        result = run_crawl(tmp_path, "-a", f"sites={server.url('/')}")
        requested = list(server.requested)
    assert result.returncode == 0, result.log[-3000:]
    assert requested.count("/robots.txt") == 1
    assert "/a/1.html" in requested  # found in the sitemap robots.txt names, or at the usual path
    assert result.stats.get("news/parquet/rows_written") == 1
