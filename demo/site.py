"""The bundled demo news site, served on 127.0.0.1: real article pages, a feed, a sitemap.

The pages are real news pages from the development corpus (see ``demo/pages/manifest.jsonl``
and ``demo/pages/LICENSES``) plus the seed article rebuilt in its site's template. The tests
serve the same site, with extra routes for broken input.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from extraction.dates import parse_datetime, to_utc

if TYPE_CHECKING:
    from collections.abc import Iterator

PAGES_DIR = Path(__file__).parent / "pages"
SEED_FILE = "seed/sputnik-africa-shoigu.html"
SEED_PATH = "/articles/seed/sputnik-africa-shoigu.html"


@dataclass(frozen=True, kw_only=True)
class Page:
    """One article page of the site."""

    path: str
    file: Path
    title: str | None
    published: str | None
    record: dict[str, Any]
    """The corpus record (with its expected extraction), empty for the seed page."""

    def body(self) -> bytes:
        data = self.file.read_bytes()
        return gzip.decompress(data) if self.file.suffix == ".gz" else data


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Site:
    """Routes of the demo site; ``routes`` may be extended (the tests add broken pages)."""

    pages: list[Page]
    routes: dict[str, Response] = field(default_factory=dict)

    @property
    def feed_pages(self) -> list[Page]:
        """Pages listed in ``/feed.xml``: every even-numbered page."""
        return self.pages[0::2]

    @property
    def sitemap_pages(self) -> list[Page]:
        """Pages listed in the sitemap: every odd-numbered page, and the first feed page too
        (listed twice on purpose: it must be stored once)."""
        return [*self.pages[1::2], self.pages[0]]

    def resolve(self, path: str, base_url: str) -> Response:
        if path in self.routes:
            return self.routes[path]
        if path == "/robots.txt":
            text = f"User-agent: *\nDisallow: /private/\nSitemap: {base_url}/sitemap.xml\n"
            return Response(200, {"Content-Type": "text/plain"}, text.encode())
        if path == "/feed.xml":
            return Response(200, {"Content-Type": "application/rss+xml"}, self.rss(base_url))
        if path == "/sitemap.xml":
            return Response(200, {"Content-Type": "application/xml"}, self.sitemap_index(base_url))
        if path == "/sitemap-articles.xml.gz":
            xml = self.urlset(base_url)
            return Response(200, {"Content-Type": "application/gzip"}, gzip.compress(xml, mtime=0))
        if path in ("/", "/index.html"):
            return Response(200, {"Content-Type": "text/html; charset=utf-8"}, self.home(base_url))
        for page in self.pages:
            if page.path == path:
                # No charset in the header: the page's own <meta> (or detection) decides,
                # as on many real servers.
                return Response(200, {"Content-Type": "text/html"}, page.body())
        return Response(404, {"Content-Type": "text/html"}, b"<html><body>Not found</body></html>")

    def rss(self, base_url: str) -> bytes:
        items = []
        for page in self.feed_pages:
            published = to_utc(parse_datetime(page.published))
            date = f"<pubDate>{format_datetime(published)}</pubDate>" if published else ""
            items.append(
                f"<item><title>{escape(page.title or '')}</title>"
                f"<link>{base_url}{page.path}</link>{date}</item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>Demo news</title><link>{base_url}/</link>"
            "<description>Demo feed</description>" + "".join(items) + "</channel></rss>"
        ).encode()

    def sitemap_index(self, base_url: str) -> bytes:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{base_url}/sitemap-articles.xml.gz</loc></sitemap>"
            "</sitemapindex>"
        ).encode()

    def urlset(self, base_url: str) -> bytes:
        urls = "".join(
            f"<url><loc>{base_url}{page.path}</loc></url>" for page in self.sitemap_pages
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + urls + "</urlset>"
        ).encode()

    def home(self, base_url: str) -> bytes:
        links = "".join(
            f'<li><a href="{page.path}">{escape(page.title or page.path)}</a></li>'
            for page in self.pages
        )
        return (
            "<!DOCTYPE html><html><head><title>Demo news</title>"
            f'<link rel="alternate" type="application/rss+xml" href="{base_url}/feed.xml">'
            f"</head><body><h1>Demo news</h1><ul>{links}</ul></body></html>"
        ).encode()


def load_site(pages_dir: Path = PAGES_DIR) -> Site:
    """The demo site: the seed page first, then the corpus pages in manifest order."""
    seed = Page(
        path=SEED_PATH,
        file=pages_dir / SEED_FILE,
        title="Russia to Expand Military Cooperation With African Countries: Defense Minister",
        published="2023-08-15T16:39:00+03:00",
        record={},
    )
    pages = [seed]
    with (pages_dir / "manifest.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            name = record["file"].removesuffix(".gz")
            pages.append(
                Page(
                    path=f"/articles/{name}",
                    file=pages_dir / record["file"],
                    title=record["expected"].get("title"),
                    published=record["expected"].get("date"),
                    record=record,
                )
            )
    return Site(pages)


class _Handler(BaseHTTPRequestHandler):
    server: _SiteServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        self.server.requested.append(path)
        response = self.server.site.resolve(path, base_url(self.server))
        etag = f'"{hashlib.blake2b(response.body, digest_size=8).hexdigest()}"'
        if response.status == 200 and self.headers.get("If-None-Match") == etag:
            # a conditional request for something unchanged: no body
            self.server.not_modified.append(path)
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status == 200:
            self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the crawler logs every request itself


class _SiteServer(ThreadingHTTPServer):
    # http.server's default backlog of 5 stalls under a crawler's concurrent connections.
    request_queue_size = 256
    daemon_threads = True

    def __init__(self, address: tuple[str, int], site: Site) -> None:
        super().__init__(address, _Handler)
        self.site = site
        self.requested: list[str] = []
        self.not_modified: list[str] = []
        """Paths answered 304 Not Modified (conditional requests of unchanged resources)."""


@contextmanager
def serve(site: Site, host: str = "127.0.0.1", port: int = 0) -> Iterator[_SiteServer]:
    """Serve ``site`` on ``host`` (a free port by default) in a background thread."""
    server = _SiteServer((host, port), site)
    thread = threading.Thread(target=server.serve_forever, name="demo-site", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def base_url(server: _SiteServer) -> str:
    host, port = server.server_address[:2]
    host = host.decode() if isinstance(host, bytes) else host
    return f"http://{host}:{port}"
