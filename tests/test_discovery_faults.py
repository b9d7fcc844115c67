"""What a crawl's discovery missed without a word (the eleventh fault hunt): sites without a
robots.txt, articles linked as sections, a source's patterns, feeds on another host, listings
that cannot be read; each crawl against a local site."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from demo.site import Response as Route
from tests.conftest import dataset_rows, run_crawl
from tests.hostile_site import serve
from tests.newssite import Article

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.hostile_site import HostileHandler, HostileServer

HTML = {"Content-Type": "text/html; charset=utf-8"}
XML = {"Content-Type": "application/xml"}
RESOLVER = "TWISTED_DNS_RESOLVER=tests.local_names.LocalNamesResolver"


def _articles(server: HostileServer, paths: list[str], first: int = 40) -> None:
    for number, path in enumerate(paths):
        server.routes[path] = Route(200, HTML, Article(first + number, "x").html())


def _urlset(urls: list[str]) -> bytes:
    entries = "".join(f"<url><loc>{url}</loc></url>" for url in urls)
    return (
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'.encode()
    )


def _home(paths: list[str], head: str = "") -> Route:
    links = "".join(f'<a href="{path}">story</a> ' for path in paths)
    return Route(200, HTML, f"<html><head>{head}</head><body>{links}</body></html>".encode())


def _stored_paths(out: Path) -> set[str]:
    return {urlsplit(row["url"]).path for row in dataset_rows(out)}


def test_a_site_without_robots_txt_is_looked_at_for_its_sitemap(tmp_path: Path) -> None:
    # robots.txt answered 404: the usual sitemap paths were never tried (0 found, exit 0),
    # and the missing robots.txt counted as a failed fetch
    paths = ["/2024/05/01/quake-hits-town-1.html", "/2024/05/02/budget-passes-2.html"]
    with serve() as server:
        _articles(server, paths)
        server.routes["/"] = _home([])
        server.routes["/sitemap.xml"] = Route(200, XML, _urlset([server.url(p) for p in paths]))
        result = run_crawl(tmp_path, "-a", f"sites={server.url('/')}")
    assert result.returncode == 0, result.log[-3000:]
    assert _stored_paths(tmp_path) == set(paths)
    stats = result.report["stats"]
    assert stats["news/discovery/robots_missing"] == 1
    assert not any(key.startswith("news/fetch/http_error/") for key in stats)


def test_an_article_linked_as_a_section_is_still_fetched_as_an_article(tmp_path: Path) -> None:
    # the home page's links without an article's shape were asked for as listings; the
    # sitemap's requests for the same URLs were then dropped as duplicates, without a word
    paths = ["/news/quake-hits-town", "/news/budget-passes"]
    with serve() as server:
        _articles(server, paths)
        server.routes["/"] = _home(paths)
        robots = f"User-agent: *\nSitemap: {server.url('/sitemap.xml')}\n".encode()
        server.routes["/robots.txt"] = Route(200, {"Content-Type": "text/plain"}, robots)
        # read after the home page (a robots.txt read once made it come sooner, at times first)
        sitemap = Route(200, XML, _urlset([server.url(p) for p in paths]))
        server.routes["/sitemap.xml"] = _later(sitemap)
        result = run_crawl(tmp_path, "-a", f"sites={server.url('/')}")
    assert result.returncode == 0, result.log[-3000:]
    assert _stored_paths(tmp_path) == set(paths)
    assert result.report["stats"]["news/discovery/listing_articles"] == 2


def _later(response: Route, seconds: float = 1.5) -> Callable[[HostileHandler], None]:
    """``response``, sent ``seconds`` after it was asked for."""

    def route(handler: HostileHandler) -> None:
        time.sleep(seconds)
        handler.send(response)

    return route


def test_a_sources_patterns_say_what_its_articles_are(tmp_path: Path) -> None:
    # allow = ['/story/']: the home page's /story/ links, without an article's shape, were
    # never asked for; a deny pattern written as the page shows the URL (/vidéo/) let the
    # page's percent-encoded link (/vid%C3%A9o/) through, and an allow pattern so written
    # kept it out
    with serve() as server:
        port = urlsplit(server.url("/")).port
        story = ["/story/quake-hits-town", "/story/budget-passes"]
        accented = ["/actualité/2024/05/01/quake-hits-town-100001.html"]
        denied = ["/vidéo/2024/05/02/budget-passes-100002.html"]
        _articles(server, [*story, *accented, *denied])
        for path in (*accented, *denied):  # the server sees the encoded path
            encoded = path.replace("é", "%C3%A9")
            server.routes[encoded] = server.routes[path]
        server.routes["/"] = _home([*story, *accented, *denied])
        sources = tmp_path / "sources.toml"
        sources.write_text(
            f'[[source]]\nname = "stories"\nhome = "http://alpha.test:{port}/"\n'
            "allow = ['/story/', '/actualité/']\ndeny = ['/vidéo/']\nfollow_links = false\n",
            encoding="utf-8",
        )
        result = run_crawl(tmp_path / "out", "-a", f"sources={sources}", settings=(RESOLVER,))
    assert result.returncode == 0, result.log[-3000:]
    assert _stored_paths(tmp_path / "out") == {
        *story,
        "/actualit%C3%A9/2024/05/01/quake-hits-town-100001.html",
    }


def test_a_feed_the_site_advertises_on_another_host_is_read(tmp_path: Path) -> None:
    # <link rel=alternate> to feeds.alphacdn.test (as bbc.com's feeds.bbci.co.uk): ignored
    # without a word, its articles missed
    with serve() as server:
        port = urlsplit(server.url("/")).port
        paths = ["/2024/05/01/quake-hits-town-1.html", "/2024/05/02/budget-passes-2.html"]
        _articles(server, paths)
        items = "".join(
            f"<item><title>t</title><link>http://www.alpha.test:{port}{p}</link></item>"
            for p in paths
        )
        feed = f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
        server.routes["/rss.xml"] = Route(200, {"Content-Type": "application/rss+xml"}, feed)
        link = (
            '<link rel="alternate" type="application/rss+xml" '
            f'href="http://feeds.alphacdn.test:{port}/rss.xml">'
        )
        server.routes["/"] = _home([], head=link)
        result = run_crawl(
            tmp_path, "-a", f"sites=http://www.alpha.test:{port}/", settings=(RESOLVER,)
        )
    assert result.returncode == 0, result.log[-3000:]
    assert _stored_paths(tmp_path) == set(paths)


def test_a_crawl_that_could_read_none_of_its_listings_fails(tmp_path: Path) -> None:
    # an HTML page given as a feed, a sitemap index whose sitemaps are gone: "0 articles
    # found", exit status 0
    with serve() as server:
        server.routes["/page.html"] = _home([])
        index = (
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{server.url('/gone-1.xml')}</loc></sitemap>"
            f"<sitemap><loc>{server.url('/gone-2.xml')}</loc></sitemap></sitemapindex>"
        ).encode()
        server.routes["/index.xml"] = Route(200, XML, index)
        not_a_feed = run_crawl(tmp_path / "a", "-a", f"feeds={server.url('/page.html')}")
        gone = run_crawl(tmp_path / "b", "-a", f"sitemaps={server.url('/index.xml')}")
    assert not_a_feed.returncode == 1
    assert "crawl failed: no listing could be read" in not_a_feed.log
    assert gone.returncode == 1
    assert "crawl failed: every request failed" in gone.log


def test_entries_the_sources_rules_leave_out_are_said(tmp_path: Path) -> None:
    # an allow pattern that matches none of the feed's URLs: a counter, no line, exit 0
    with serve() as server:
        paths = [f"/2024/05/0{n}/story-{n}.html" for n in range(1, 4)]
        items = "".join(f"<item><title>t</title><link>{server.url(p)}</link></item>" for p in paths)
        feed = f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
        server.routes["/rss.xml"] = Route(200, {"Content-Type": "application/rss+xml"}, feed)
        sources = tmp_path / "sources.toml"
        sources.write_text(
            f'[[source]]\nname = "typo"\nfeeds = ["{server.url("/rss.xml")}"]\n'
            "allow = ['/2042/']\n",
            encoding="utf-8",
        )
        result = run_crawl(tmp_path / "out", "-a", f"sources={sources}")
    assert f"WARNING: Feed {server.url('/rss.xml')}: 3 of its 3 entries left out (not allowed" in (
        result.log
    )


def test_listing_links_a_sources_max_depth_leaves_unread_are_counted(tmp_path: Path) -> None:
    # max_depth = 1: the section's next page and its sub-section (two hops from home) were
    # left unread without a counter or a line, the articles they list missed silently
    with serve() as server:
        port = urlsplit(server.url("/")).port
        near = ["/2024/05/01/quake-hits-town-1.html"]
        far = ["/2024/05/02/budget-passes-2.html"]
        _articles(server, [*near, *far])
        server.routes["/"] = _home(["/world/"])
        section = _home([*near, "/world/africa/"]).body.replace(
            b"</head>", b'<link rel="next" href="/world/page/2/"></head>'
        )
        server.routes["/world/"] = Route(200, HTML, section)
        server.routes["/world/page/2/"] = _home(far)
        server.routes["/world/africa/"] = _home(far)
        sources = tmp_path / "sources.toml"
        sources.write_text(
            f'[[source]]\nname = "alpha"\nhome = "http://alpha.test:{port}/"\nmax_depth = 1\n',
            encoding="utf-8",
        )
        result = run_crawl(
            tmp_path / "out", "-a", f"sources={sources}", settings=(RESOLVER, "LOG_LEVEL=DEBUG")
        )
    assert result.returncode == 0, result.log[-3000:]
    assert _stored_paths(tmp_path / "out") == set(near)
    assert result.report["stats"]["news/discovery/depth_limited"] == 2
    assert "2 listing links of http://alpha.test:" in result.log
    assert "the page is at its source's max_depth (depth 1)" in result.log


def test_a_text_sitemap_robots_txt_names_is_read(tmp_path: Path) -> None:
    # a sitemap of one URL a line (the protocol's text format): "Not a sitemap, ignored"
    paths = ["/2024/05/01/quake-hits-town-1.html", "/2024/05/02/budget-passes-2.html"]
    with serve() as server:
        _articles(server, paths)
        server.routes["/"] = _home([])
        robots = f"User-agent: *\nSitemap: {server.url('/sitemap.txt')}\n".encode()
        server.routes["/robots.txt"] = Route(200, {"Content-Type": "text/plain"}, robots)
        listing = "\n".join(server.url(p) for p in paths).encode()
        server.routes["/sitemap.txt"] = Route(200, {"Content-Type": "text/plain"}, listing)
        result = run_crawl(tmp_path, "-a", f"sites={server.url('/')}")
    assert result.returncode == 0, result.log[-3000:]
    assert _stored_paths(tmp_path) == set(paths)
    assert result.report["stats"]["news/discovery/sitemap_urls"] == 2
    assert "(text) lists 2 URLs" in result.log


def test_a_json_feed_is_read(tmp_path: Path) -> None:
    # a JSON Feed (jsonfeed.org): "Not a feed, ignored", its articles never asked for
    paths = ["/2024/05/01/quake-hits-town-1.html", "/2024/05/02/budget-passes-2.html"]
    with serve() as server:
        _articles(server, paths)
        items = ",".join(f'{{"id": "{p}", "url": "{server.url(p)}"}}' for p in paths)
        feed = f'{{"version": "https://jsonfeed.org/version/1.1", "items": [{items}]}}'
        server.routes["/feed.json"] = Route(
            200, {"Content-Type": "application/feed+json"}, feed.encode()
        )
        result = run_crawl(tmp_path, "-a", f"feeds={server.url('/feed.json')}")
    assert result.returncode == 0, result.log[-3000:]
    assert _stored_paths(tmp_path) == set(paths)
    assert result.report["stats"]["news/discovery/feed_entries"] == 2
