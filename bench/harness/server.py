"""The local page server: a :class:`~bench.harness.pages.PageSet` over loopback, in a process of
its own so that its CPU is not the benchmark's or the crawl's.

A ``ThreadingHTTPServer`` with a listen backlog of 1,024 (http.server's default of 5 drops
connections under 32 concurrent requests) speaking HTTP/1.1 with keep-alive. It serves page
``i`` at ``/a/<i>/<name>.html`` for the first ``max_pages`` pages, sitemaps of at most
``sitemap_urls`` URLs behind a sitemap index per page count (``/sitemaps/<N>/index.xml`` lists
the first ``N`` pages), and a robots.txt that allows everything. :class:`CountingPageServer`
also counts the requests it answers for every path.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from bench.harness.pages import CONTENT_TYPE
from bench.harness.processes import process_cpu_seconds

if TYPE_CHECKING:
    from collections.abc import Iterator
    from multiprocessing.connection import Connection

    from bench.harness.pages import PageSet

SITEMAP_URLS = 10_000
"""URLs per sitemap (the protocol allows 50,000; smaller files stay under DOWNLOAD_WARNSIZE)."""
PAGE_PATH = re.compile(r"/a/(\d+)/([^/]+)\.html")
SITEMAP_PATH = re.compile(r"/sitemaps/(\d+)/(index|\d+)\.xml")
ROBOTS_TXT = b"User-agent: *\nAllow: /\n"
START_SECONDS = 120
REQUESTS_PATH = "/_bench/requests"
"""The counting server's own path: its request counts (JSON), which it then resets."""


def sitemap_index_path(count: int) -> str:
    """The sitemap index that lists the first ``count`` pages."""
    return f"/sitemaps/{count}/index.xml"


class PageServer(ThreadingHTTPServer):
    """Serves the first ``max_pages`` pages of a :class:`PageSet`, sitemaps and robots.txt.
    Subclasses (module-level, so that the server process can import them) may override
    :meth:`respond`."""

    request_queue_size = 1024
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        pages: PageSet,
        max_pages: int,
        sitemap_urls: int = SITEMAP_URLS,
    ) -> None:
        super().__init__(address, _Handler)
        self.pages = pages
        self.max_pages = max_pages
        self.sitemap_urls = sitemap_urls
        """URLs per sitemap behind the index."""
        self._sitemaps: dict[str, bytes] = {}

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def respond(self, path: str) -> tuple[int, str, bytes]:
        """Status, content type and body for a path."""
        if path == "/robots.txt":
            return 200, "text/plain", ROBOTS_TXT
        page = PAGE_PATH.fullmatch(path)
        if page is not None:
            index = int(page.group(1))
            if index < self.max_pages and path == self.pages.path(index):
                return 200, CONTENT_TYPE, self.pages.body(index)
        sitemap = SITEMAP_PATH.fullmatch(path)
        if sitemap is not None and 0 < int(sitemap.group(1)) <= self.max_pages:
            body = self._sitemaps.get(path) or self._sitemap(
                int(sitemap.group(1)), sitemap.group(2)
            )
            if body:
                self._sitemaps[path] = body
                return 200, "application/xml", body
        return 404, "text/plain", b"not found\n"

    def _sitemap(self, count: int, which: str) -> bytes:
        head = '<?xml version="1.0" encoding="UTF-8"?>\n'
        namespace = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        if which == "index":
            locs = "".join(
                f"<sitemap><loc>{self.base_url}/sitemaps/{count}/{chunk}.xml</loc></sitemap>"
                for chunk in range((count + self.sitemap_urls - 1) // self.sitemap_urls)
            )
            return f"{head}<sitemapindex {namespace}>{locs}</sitemapindex>\n".encode()
        start = int(which) * self.sitemap_urls
        if start >= count:
            return b""
        urls = "".join(
            f"<url><loc>{self.base_url}{self.pages.path(index)}</loc></url>"
            for index in range(start, min(count, start + self.sitemap_urls))
        )
        return f"{head}<urlset {namespace}>{urls}</urlset>\n".encode()


class _Handler(BaseHTTPRequestHandler):
    server: PageServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        status, content_type, body = self.server.respond(self.path.split("?", 1)[0])
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the crawl logs every request


class CountingPageServer(PageServer):
    """:class:`~bench.harness.server.PageServer` that counts the requests of every path and tells
    the counts (and the times of the first and last request) at ``REQUESTS_PATH``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._first = self._last = 0.0

    def respond(self, path: str) -> tuple[int, str, bytes]:
        if path == REQUESTS_PATH:
            with self._lock:
                body = json.dumps(
                    {"counts": self._counts, "first": self._first, "last": self._last}
                ).encode()
                self._counts, self._first, self._last = Counter(), 0.0, 0.0
            return 200, "application/json", body
        answer = super().respond(path)
        with self._lock:
            self._counts[path] += 1
            self._last = time.time()
            self._first = self._first or self._last
        return answer


@dataclass(frozen=True)
class Requests:
    """What the server answered between two readings."""

    counts: dict[str, int]
    first: float
    last: float

    @property
    def span(self) -> float:
        return self.last - self.first if self.first else 0.0

    def matching(self, pattern: re.Pattern[str]) -> dict[str, int]:
        return {path: n for path, n in self.counts.items() if pattern.fullmatch(path)}


def read_requests(server: RunningServer) -> Requests:
    """The server's request counts since the last reading (and reset them)."""
    with socket.create_connection(("127.0.0.1", int(server.base_url.rsplit(":", 1)[1]))) as s:
        s.sendall(f"GET {REQUESTS_PATH} HTTP/1.0\r\nHost: bench\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    found = json.loads(data.partition(b"\r\n\r\n")[2])
    return Requests(dict(found["counts"]), float(found["first"]), float(found["last"]))


def _serve(
    pages: PageSet,
    max_pages: int,
    ready: Connection,
    server_class: type[PageServer] = PageServer,
    sitemap_urls: int = SITEMAP_URLS,
) -> None:
    """Server process: bind a free port, report it, serve until killed."""
    server = server_class(("127.0.0.1", 0), pages, max_pages, sitemap_urls)
    ready.send(server.base_url)
    ready.close()
    server.serve_forever(poll_interval=0.5)


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    pid: int

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)

    def sitemap_url(self, count: int) -> str:
        """The sitemap index of the first ``count`` pages."""
        return self.base_url + sitemap_index_path(count)


@contextlib.contextmanager
def serving(
    pages: PageSet,
    max_pages: int,
    *,
    server_class: type[PageServer] = PageServer,
    sitemap_urls: int = SITEMAP_URLS,
) -> Iterator[RunningServer]:
    """The page server (``server_class``, a module-level :class:`PageServer`), in a process
    of its own (spawned: the caller may run threads) for the duration of the block."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_serve,
        args=(pages, max_pages, sender, server_class, sitemap_urls),
        name="page-server",
        daemon=True,
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(START_SECONDS):
            raise RuntimeError(f"the page server did not start within {START_SECONDS} s")
        assert process.pid is not None
        yield RunningServer(base_url=receiver.recv(), pid=process.pid)
    finally:
        receiver.close()
        process.terminate()
        process.join(10)
