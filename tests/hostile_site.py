"""A hostile web server for the tests: every way a response can be broken, slow or malicious.

:class:`HostileServer` is a threaded HTTP server (large listen backlog, one daemon thread per
connection) serving a table of routes on 127.0.0.1 in a background thread (:func:`serve`). A
route is either a plain :class:`~demo.site.Response` or a function given the request handler,
which may write anything to the raw socket: a body cut before its ``Content-Length``, one byte
every few seconds, a response that never comes, an endless stream. The helpers below build
those routes and the decompression bombs.

Everything the server is asked for is recorded (``requested``), so a test can tell whether a
URL was fetched (an external entity resolved, a disallowed page requested).
"""

from __future__ import annotations

import struct
import threading
import zlib
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from demo.site import Response

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    RouteHandler = Callable[["HostileHandler"], None]

NOT_FOUND = Response(404, {"Content-Type": "text/html"}, b"<html><body>Not found</body></html>")
_CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class HostileHandler(BaseHTTPRequestHandler):
    server: HostileServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        with self.server.lock:
            self.server.requested.append(path)
        route = self.server.route(path)
        try:
            if isinstance(route, Response):
                self.send(route)
            else:
                route(self)
        except _CLIENT_GONE:
            self.close_connection = True  # the crawler hung up: nothing more to do

    def send(self, response: Response) -> None:
        """Send a complete response with its ``Content-Length``."""
        self.send_head(response.status, response.headers, len(response.body))
        self.wfile.write(response.body)

    def send_head(self, status: int, headers: dict[str, str], length: int | None) -> None:
        """Status line and headers; without ``length`` the body ends when the connection
        closes (no ``Content-Length``, ``Connection: close``)."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if length is None:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class HostileServer(ThreadingHTTPServer):
    """Serves ``routes``; ``hostname`` is the name put in its URLs (``localhost`` makes a
    second server another host for the crawler)."""

    # http.server's default backlog of 5 stalls under a crawler's concurrent connections.
    request_queue_size = 1024
    daemon_threads = True

    def __init__(self, hostname: str = "127.0.0.1") -> None:
        super().__init__(("127.0.0.1", 0), HostileHandler)
        self.hostname = hostname
        self.routes: dict[str, Response | RouteHandler] = {}
        self.prefix_routes: dict[str, RouteHandler] = {}
        """Routes for every path under a prefix (when ``routes`` has no exact match)."""
        self.requested: list[str] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        """Set when the server shuts down: slow routes give up."""

    def route(self, path: str) -> Response | RouteHandler:
        if path in self.routes:
            return self.routes[path]
        for prefix, route in self.prefix_routes.items():
            if path.startswith(prefix):
                return route
        return NOT_FOUND

    @property
    def base_url(self) -> str:
        return f"http://{self.hostname}:{self.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a crawler that hangs up on a slow or huge response is what these tests want


@contextmanager
def serve(hostname: str = "127.0.0.1") -> Iterator[HostileServer]:
    """A :class:`HostileServer` on a free port of 127.0.0.1, in a background thread."""
    server = HostileServer(hostname)
    thread = threading.Thread(target=server.serve_forever, name="hostile-site", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- routes ----------------------------------------------------------------------------------


def redirect(location: str, status: int = 302) -> Response:
    return Response(status, {"Location": location, "Content-Type": "text/html"}, b"")


def truncated(body: bytes, content_type: str = "text/html", *, declared: int) -> RouteHandler:
    """``Content-Length: declared``, then only ``body``, then the connection closes."""

    def route(handler: HostileHandler) -> None:
        handler.send_head(200, {"Content-Type": content_type}, declared)
        handler.wfile.write(body)
        handler.wfile.flush()
        handler.close_connection = True

    return route


def trickle(body: bytes, content_type: str = "text/html", *, interval: float = 2.0) -> RouteHandler:
    """The headers at once, then one byte of ``body`` every ``interval`` seconds."""

    def route(handler: HostileHandler) -> None:
        handler.send_head(200, {"Content-Type": content_type}, len(body))
        for index in range(len(body)):
            if handler.server.stopping.wait(0 if index == 0 else interval):
                break
            handler.wfile.write(body[index : index + 1])
            handler.wfile.flush()
        handler.close_connection = True

    return route


def hang(*, limit: float = 120.0) -> RouteHandler:
    """Read the request, never answer; give up when the client hangs up (or after ``limit``
    seconds)."""

    def route(handler: HostileHandler) -> None:
        handler.connection.settimeout(0.5)
        waited = 0.0
        while waited < limit and not handler.server.stopping.is_set():
            try:
                if not handler.connection.recv(1024):
                    break  # the client closed the connection
            except TimeoutError:
                waited += 0.5
        handler.close_connection = True

    return route


def stream(
    size: int,
    content_type: str = "text/html",
    *,
    declare_length: bool = True,
    chunk: bytes = b"<p>" + b"Filler text of an endless page. " * 60 + b"</p>\n",
) -> RouteHandler:
    """``size`` bytes made of ``chunk`` repeated, generated as they are sent (never held in
    memory); with ``declare_length=False`` the body ends when the connection closes."""

    def route(handler: HostileHandler) -> None:
        handler.send_head(200, {"Content-Type": content_type}, size if declare_length else None)
        block = chunk * max(1, 65536 // len(chunk))
        sent = 0
        while sent < size and not handler.server.stopping.is_set():
            piece = block[: size - sent]
            handler.wfile.write(piece)
            sent += len(piece)
        handler.close_connection = True

    return route


# --- decompression bombs ---------------------------------------------------------------------

_BLOCK = 1 << 20  # bombs are built from 1 MiB blocks of zeros


def _deflate_zeros(blocks: int) -> bytes:
    """A raw deflate stream of ``blocks`` MiB of zeros, built in milliseconds: after a full
    flush, compressing the same block again gives the same bytes, so they are repeated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = bytes(_BLOCK)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    return first + repeated * (blocks - 1) + compressor.flush()


def _checksums(blocks: int) -> tuple[int, int]:
    crc, adler, block = 0, 1, bytes(_BLOCK)
    for _ in range(blocks):
        crc = zlib.crc32(block, crc)
        adler = zlib.adler32(block, adler)
    return crc, adler


@cache
def gzip_bomb(mebibytes: int = 1024) -> bytes:
    """A valid gzip stream (about 1 KiB per MiB) that inflates to ``mebibytes`` MiB."""
    crc, _ = _checksums(mebibytes)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    size = (mebibytes * _BLOCK) & 0xFFFFFFFF
    return header + _deflate_zeros(mebibytes) + struct.pack("<II", crc, size)


@cache
def deflate_bomb(mebibytes: int = 1024) -> bytes:
    """A valid zlib stream (HTTP's ``deflate``) that inflates to ``mebibytes`` MiB."""
    _, adler = _checksums(mebibytes)
    return b"\x78\xda" + _deflate_zeros(mebibytes) + struct.pack(">I", adler)


@cache
def brotli_bomb(mebibytes: int = 1024) -> bytes:
    """A brotli stream that inflates to ``mebibytes`` MiB (needs the ``brotli`` module)."""
    import brotli  # noqa: PLC0415 -- optional: only the brotli case needs it

    compressor = brotli.Compressor(quality=1)
    block = bytes(_BLOCK)
    return b"".join([compressor.process(block) for _ in range(mebibytes)] + [compressor.finish()])


def encoded(body: bytes, encoding: str, content_type: str = "text/html") -> Response:
    """A response whose body is sent with ``Content-Encoding: encoding``."""
    return Response(200, {"Content-Type": content_type, "Content-Encoding": encoding}, body)


def endless_redirects(prefix: str) -> RouteHandler:
    """``<prefix><n>`` redirects to ``<prefix><n + 1>``, forever: never the same URL twice."""

    def route(handler: HostileHandler) -> None:
        number = int(handler.path.removeprefix(prefix) or 0)
        handler.send(redirect(f"{prefix}{number + 1}"))

    return route
