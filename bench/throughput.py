"""Crawl throughput benchmark: ``scrapy crawl news`` end to end over loopback, against a loop of
plain ``trafilatura.extract`` over the same bytes in the same run.

    .venv/bin/python -m bench.throughput [--sizes 2000[,10000,50000]] [--workers default,0]
        [--baseline-pages N] [--stage-pages N] [--no-profile] [--workdir DIR] [--write-results]

The pages. A local server (a separate process: a ``ThreadingHTTPServer`` with a listen backlog of
1,024, HTTP/1.1 keep-alive) serves page ``i`` at ``/a/<i>/<name>.html``: the corpus page
``i mod P`` (``$NEWS_CORPUS_DIR``, else ``../shared/corpus``: P = 282 pages), made a variant of its
own. In the visible text of its ``<body>`` (link text included; not scripts, styles, attributes),
70% of the words are replaced by words drawn from the same page's text (characters, for the
scripts written without spaces), with a generator seeded by ``i``; its ``<link rel=canonical>``
and ``og:url`` get ``?variant=<i>``. Each page so keeps the markup, size, language and charset of
its original, but its text is its own, and no copy is dropped as a duplicate: on the corpus two
variants of a page share at most about a tenth of their word 3-gram (character 5-gram) shingles,
where the near-duplicate threshold is half. Sitemaps of at most 10,000 URLs behind a sitemap
index list the first ``N`` pages; robots.txt allows everything.

Per size ``N`` (``--sizes``) and per ``EXTRACT_WORKERS`` value (``--workers``; ``default`` leaves
the setting out), one crawl in a fresh ``OUTPUT_DIR``::

    python -m scrapy crawl news -a sitemaps=<index> -s OUTPUT_DIR=... -s AUTOTHROTTLE_ENABLED=False
        -s DOWNLOAD_DELAY=0 -s CONCURRENT_REQUESTS_PER_DOMAIN=32 -s CONCURRENT_REQUESTS=32
        [-s EXTRACT_WORKERS=n] -s LOG_LEVEL=INFO --logfile ...

Pages per second are the article responses (``news/fetch/pages``) over the wall time of the crawl
process, start-up included; the crawl's own ``elapsed_time_seconds`` is shown beside it. The ratio
is that rate over the rate of a single-process loop of ``trafilatura.extract(body)`` over the
first ``--baseline-pages`` pages (default: the smallest size, at most 2,000), run in this process
before the crawls (wall time of the calls alone). In the same loop, page by page (which goes
first alternates), the extraction workers' whole work on the page (``process_page``: extraction,
language, normalized text, signature) gives a second ratio, to our own work in one process: how
well the crawl uses the cores for it. Memory: every 0.2 s the RSS (``VmRSS``) and PSS
(``smaps_rollup``) of the crawl process and of all its descendants (extraction workers) are read
from ``/proc``; the peaks are reported, the sum over the tree and the main process alone. CPU:
of the crawl's process tree (the larger of ``RUSAGE_CHILDREN``, which misses workers the crawl
did not wait for, and the sum of the last ``/proc`` sample of every process seen) and of the
server, per page.

Cost per stage: the crawl's stages as plain calls, in this process, on the first
``--stage-pages`` pages, in the crawl's order (decode ``pipelines._charset.decode_html``; extract
``pipelines.extract.extract_article`` minus its decode; site boilerplate; language; normalize;
dedupe, the crawl's ``DedupePipeline`` with its state in a scratch ``OUTPUT_DIR``; write:
``to_row``/``to_batch`` per row and ``DatasetWriter`` row groups of 1,000 and the commit).

What the target needs: the smallest crawl once more with no item pipeline (``ITEM_PIPELINES={}``:
what Scrapy's fetching costs, start-up included), the server's CPU in it, and the stage costs'
share of trafilatura (its ``load_html`` parse and the ``bare_extraction`` calls of
``pipelines.extract.main_text``) and of language detection make a floor: what a page costs
whatever the rest costs. It gives the best ratio the crawl could reach with everything else free,
and what the target leaves for everything else.

Where the time goes: the crawl of the smallest size with ``EXTRACT_WORKERS=0``, once more under
``cProfile`` (main thread only: the Parquet writer thread is not in it), summarized by package:
self time, and self time with the builtins and standard-library functions (``str`` methods,
``re``, ``copy``, the asyncio loop ...) charged to the packages that called them.

``make bench-throughput`` runs the defaults (2,000 pages; default workers and 0; about 6 minutes
on 2 quiet cores); ``make bench-scale`` the crawls of 2,000, 10,000 and 50,000 pages with the
default workers only (about half an hour). ``--write-results`` writes the section
``throughput`` (``throughput-scale`` for several sizes) of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import importlib.metadata
import itertools
import logging
import multiprocessing
import os
import platform
import pstats
import random
import re
import resource
import shlex
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from unittest import mock

import pyarrow as pa
import trafilatura
from scrapy.exceptions import DropItem
from w3lib.encoding import read_bom

import crawler
from bench.extraction import CORPUS_ENV, EXIT_NO_CORPUS, corpus_dir, corpus_missing, load_pages
from bench.results import RESULTS_FILE, update_section
from crawler.report import latest_report
from pipelines import extract as extract_module
from pipelines._charset import decode_html
from pipelines.dataset import state_dir
from pipelines.dedupe import DedupePipeline
from pipelines.extract import ExtractionError, apply_extraction, extract_article
from pipelines.language import LanguageDetector, apply_language
from pipelines.near_duplicates import Signer
from pipelines.normalize import DEFAULT_TRACKING_PARAMS, normalize_article
from pipelines.parquet import DatasetWriter
from pipelines.schema import ARTICLE_SCHEMA, to_batch, to_row
from pipelines.site_boilerplate import SiteBoilerplate, SiteBoilerplatePipeline
from pipelines.workers import PageOptions, process_page

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from multiprocessing.connection import Connection

    from scrapy.statscollectors import StatsCollector

ROOT = Path(__file__).resolve().parent.parent
SECTION = "throughput"
SCALE_SECTION = "throughput-scale"
DEFAULT_SIZES = (2000,)
DEFAULT_WORKERS: tuple[int | None, ...] = (None, 0)
MAX_DEFAULT_SAMPLE = 2000
"""Default of ``--baseline-pages`` and ``--stage-pages``: the smallest size, at most this."""
TARGET_RATIO = 1.6
"""Crawl pages/s over ``trafilatura.extract`` pages/s wanted with the default workers (2 cores)."""
MAX_RSS_GROWTH = 0.20
"""Peak RSS may grow this much from the second-largest size to the largest (10k to 50k)."""
REPLACED_SHARE = 0.7
"""Share of the words of a page's visible text that each variant replaces."""
SITEMAP_URLS = 10_000
"""URLs per sitemap (the protocol allows 50,000; smaller files stay under DOWNLOAD_WARNSIZE)."""
CONTENT_TYPE = "text/html"
SAMPLE_SECONDS = 0.2
NOISY_LOGGERS = ("trafilatura", "htmldate", "courlan")
MIB = 1024 * 1024


# --- the pages: variants of the corpus pages ----------------------------------------------------

# Scripts written without spaces, as ``pipelines.near_duplicates`` shingles them (by character).
_UNSPACED = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u9fff"
_TOKENS = re.compile(
    r"<!--.*?-->|<(script|style|noscript|textarea|template|title)\b[^>]*>.*?</\1\s*>|<[^>]*>",
    re.DOTALL | re.IGNORECASE,
)
_WORDS = re.compile(rf"&#?\w+;|(?P<char>[{_UNSPACED}])|(?P<word>(?:(?![{_UNSPACED}])[^\W\d_])+)")
_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][\w:-]*)")
_ATTRIBUTE = re.compile(r"""([^\s"'=<>/]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_BODY_START = re.compile(r"<body\b|</head\s*>", re.IGNORECASE)
_NAME = re.compile(r"[^A-Za-z0-9._-]+")
WORD, CHAR, CANONICAL = 0, 1, 2
"""Kinds of slots: a word, a character of an unspaced script, the value of a canonical URL."""


def _attributes(tag: str) -> dict[str, tuple[str, int, int]]:
    """Lower-cased attribute names of a tag, with their values and the values' spans."""
    found: dict[str, tuple[str, int, int]] = {}
    for match in _ATTRIBUTE.finditer(tag):
        group = next(g for g in (2, 3, 4) if match.group(g) is not None)
        found.setdefault(match.group(1).lower(), (match.group(group), *match.span(group)))
    return found


def _canonical_span(name: str, tag: str) -> tuple[int, int] | None:
    """Where the URL of a ``<link rel=canonical>`` or ``<meta property=og:url>`` tag is."""
    if name not in {"link", "meta"}:
        return None
    attributes = _attributes(tag)
    if name == "link" and "canonical" in attributes.get("rel", ("",))[0].lower().split():
        value = attributes.get("href")
    elif name == "meta" and "og:url" in (
        attributes.get("property", ("",))[0].lower(),
        attributes.get("name", ("",))[0].lower(),
    ):
        value = attributes.get("content")
    else:
        return None
    return (value[1], value[2]) if value and value[0].strip() else None


@dataclass(frozen=True)
class Template:
    """A corpus page cut into fixed text and slots (words, characters, canonical URLs)."""

    name: str
    encoding: str
    bom: bytes
    parts: tuple[str, ...]
    """Fixed text: one more than there are slots."""
    kinds: tuple[int, ...]
    originals: tuple[str, ...]
    words: tuple[str, ...]
    chars: tuple[str, ...]

    def render(self, seed: int, share: float = REPLACED_SHARE) -> bytes:
        """The variant ``seed``: ``share`` of the words replaced, the canonical URL marked."""
        rng = random.Random(seed)
        draw, chance = rng.choice, rng.random
        vocabulary = (self.words, self.chars)
        out = [self.parts[0]]
        for kind, original, part in zip(self.kinds, self.originals, self.parts[1:], strict=True):
            if kind == CANONICAL:
                value = f"{original}{'&amp;' if '?' in original else '?'}variant={seed}"
            elif chance() < share:
                value = draw(vocabulary[kind])
            else:
                value = original
            out += (value, part)
        return self.bom + "".join(out).encode(self.encoding, errors="xmlcharrefreplace")


class _Cutter:
    """Cuts decoded HTML into a :class:`Template`."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.kinds: list[int] = []
        self.originals: list[str] = []
        self.pending: list[str] = []

    def fixed(self, text: str) -> None:
        self.pending.append(text)

    def slot(self, kind: int, original: str) -> None:
        self.parts.append("".join(self.pending))
        self.pending = []
        self.kinds.append(kind)
        self.originals.append(original)

    def text(self, text: str) -> None:
        last = 0
        for match in _WORDS.finditer(text):
            if match.lastgroup is None:
                continue  # an entity
            self.fixed(text[last : match.start()])
            self.slot(CHAR if match.lastgroup == "char" else WORD, match.group())
            last = match.end()
        self.fixed(text[last:])

    def tag(self, tag: str, in_body: bool) -> bool:
        """Add a tag; whether the body starts with it (or was already started)."""
        match = _TAG.match(tag)
        if match is None:
            self.fixed(tag)
            return in_body
        closing, name = bool(match.group(1)), match.group(2).lower()
        span = None if closing else _canonical_span(name, tag)
        if span is None:
            self.fixed(tag)
        else:
            self.fixed(tag[: span[0]])
            self.slot(CANONICAL, tag[span[0] : span[1]])
            self.fixed(tag[span[1] :])
        return in_body or (name == "body" and not closing) or (name == "head" and closing)


def make_template(name: str, body: bytes) -> Template:
    """Cut a page: every word of the visible text after ``<body>`` (or ``</head>``; all of it
    in a page with neither) becomes a slot, and so do canonical URLs."""
    html, encoding = decode_html(body, CONTENT_TYPE)
    bom = read_bom(body)[1] or b""  # decode_html drops it: put it back
    cutter = _Cutter()
    in_body = _BODY_START.search(html) is None
    position = 0
    for match in _TOKENS.finditer(html):
        if in_body:
            cutter.text(html[position : match.start()])
        else:
            cutter.fixed(html[position : match.start()])
        in_body = cutter.tag(match.group(), in_body)
        position = match.end()
    if in_body:
        cutter.text(html[position:])
    else:
        cutter.fixed(html[position:])
    cutter.parts.append("".join(cutter.pending))
    kinds, originals = tuple(cutter.kinds), tuple(cutter.originals)
    return Template(
        name=_NAME.sub("-", name).strip("-") or "page",
        encoding=encoding,
        bom=bom,
        parts=tuple(cutter.parts),
        kinds=kinds,
        originals=originals,
        words=tuple(o for k, o in zip(kinds, originals, strict=True) if k == WORD),
        chars=tuple(o for k, o in zip(kinds, originals, strict=True) if k == CHAR),
    )


def read_body(file: Path) -> bytes:
    """A corpus file's bytes (gunzipped when gzipped)."""
    data = file.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def load_templates(directory: Path) -> list[Template]:
    """A template for every page of ``directory/manifest.jsonl``, in manifest order."""
    return [make_template(page.id, read_body(page.file)) for page in load_pages(directory)]


@dataclass(frozen=True)
class PageSet:
    """Page ``i`` is template ``i mod len(templates)``, variant ``i``."""

    templates: Sequence[Template]

    def template(self, index: int) -> Template:
        return self.templates[index % len(self.templates)]

    def path(self, index: int) -> str:
        return f"/a/{index}/{self.template(index).name}.html"

    def body(self, index: int) -> bytes:
        return self.template(index).render(index)


# --- the server ---------------------------------------------------------------------------------

_PAGE_PATH = re.compile(r"/a/(\d+)/([^/]+)\.html")
_SITEMAP_PATH = re.compile(r"/sitemaps/(\d+)/(index|\d+)\.xml")
ROBOTS_TXT = b"User-agent: *\nAllow: /\n"


def sitemap_index_path(count: int) -> str:
    """The sitemap index that lists the first ``count`` pages."""
    return f"/sitemaps/{count}/index.xml"


class PageServer(ThreadingHTTPServer):
    """Serves the first ``max_pages`` pages of a :class:`PageSet`, sitemaps and robots.txt."""

    # http.server's default backlog of 5 drops connections under 32 concurrent requests.
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
        page = _PAGE_PATH.fullmatch(path)
        if page is not None:
            index = int(page.group(1))
            if index < self.max_pages and path == self.pages.path(index):
                return 200, CONTENT_TYPE, self.pages.body(index)
        sitemap = _SITEMAP_PATH.fullmatch(path)
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
        if not receiver.poll(120):
            raise RuntimeError("the page server did not start within 120 s")
        assert process.pid is not None
        yield RunningServer(base_url=receiver.recv(), pid=process.pid)
    finally:
        receiver.close()
        process.terminate()
        process.join(10)


# --- process tree memory and CPU ----------------------------------------------------------------


def _proc_field(pid: int, file: str, name: str) -> int:
    """A ``kB`` field of ``/proc/<pid>/<file>`` in bytes (0 when the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/{file}").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(name):
            return int(line.split()[1]) * 1024
    return 0


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants that are alive (parents read from ``/proc/*/stat``)."""
    return process_trees([root])


def process_trees(roots: Iterable[int]) -> list[int]:
    """The ``roots`` and all their descendants that are alive, from one reading of ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def _command_line(pid: int) -> str:
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    return " ".join(a.decode(errors="replace") for a in arguments if a)[:120]


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a running process (all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class MemorySample:
    seconds: float
    main_rss: int
    tree_rss: int
    tree_pss: int
    processes: int


class PeriodicSampler:
    """Calls :meth:`sample` every ``interval`` seconds in a thread of its own, from
    :meth:`start` until :meth:`stop`."""

    interval: float
    _stop: threading.Event
    _thread: threading.Thread | None
    thread_name = "sampler"

    def sample(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return


@dataclass
class MemorySampler(PeriodicSampler):
    """Samples the RSS of a process and its descendants every ``interval`` seconds."""

    pid: int
    interval: float = SAMPLE_SECONDS
    samples: list[MemorySample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _started: float = 0.0
    cpu_seen: dict[int, float] = field(default_factory=dict)
    """The last CPU seconds read of every process seen in the tree."""
    commands: dict[int, str] = field(default_factory=dict)
    thread_name = "rss-sampler"

    def start(self) -> None:
        self._started = time.perf_counter()
        super().start()

    def sample(self) -> None:
        tree = process_tree(self.pid)
        main = _proc_field(self.pid, "status", "VmRSS:")
        if not main:
            return  # gone
        for pid in tree:
            self.cpu_seen[pid] = max(self.cpu_seen.get(pid, 0.0), process_cpu_seconds(pid))
            if pid not in self.commands:
                self.commands[pid] = _command_line(pid)
        self.samples.append(
            MemorySample(
                seconds=time.perf_counter() - self._started,
                main_rss=main,
                tree_rss=sum(_proc_field(pid, "status", "VmRSS:") for pid in tree),
                tree_pss=sum(_proc_field(pid, "smaps_rollup", "Pss:") for pid in tree),
                processes=len(tree),
            )
        )

    def peak(self, attribute: str) -> int:
        return max((getattr(sample, attribute) for sample in self.samples), default=0)

    def at(self, share: float) -> int:
        """The main process's RSS at ``share`` of the samples (0.5: half-way)."""
        if not self.samples:
            return 0
        return self.samples[min(len(self.samples) - 1, int(share * len(self.samples)))].main_rss


# --- crawls -------------------------------------------------------------------------------------

_LOG_PROBLEM = re.compile(r"\] (ERROR|CRITICAL): ")
_LOG_STATS = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) .*\bCrawled (\d+) pages \(at ")
STALL_SECONDS = 90.0
"""Scrapy logs its progress every 60 s; a longer silence means the reactor was blocked."""


def workers_label(workers: int | None) -> str:
    return "default" if workers is None else str(workers)


def crawl_command(
    sitemap_url: str,
    output_dir: Path,
    log_file: Path,
    workers: int | None,
    profile: Path | None = None,
    *,
    pipelines: bool = True,
) -> list[str]:
    """The ``scrapy crawl`` command; without ``pipelines``, the pages are fetched and handed to
    no item pipeline (what Scrapy itself costs)."""
    python = [sys.executable] + (["-m", "cProfile", "-o", str(profile)] if profile else [])
    settings = {
        "OUTPUT_DIR": str(output_dir),
        "AUTOTHROTTLE_ENABLED": "False",
        "DOWNLOAD_DELAY": "0",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
        "CONCURRENT_REQUESTS": "32",
        "LOG_LEVEL": "INFO",
    }
    if workers is not None:
        settings["EXTRACT_WORKERS"] = str(workers)
    if not pipelines:
        settings["ITEM_PIPELINES"] = "{}"
    command = [*python, "-m", "scrapy", "crawl", "news", "-a", f"sitemaps={sitemap_url}"]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    return [*command, "--logfile", str(log_file)]


@dataclass(frozen=True)
class CrawlRun:
    """What one crawl did, and what it cost."""

    size: int
    workers: int | None
    wall: float
    pipelines: bool
    returncode: int | None
    report: dict[str, Any]
    cpu_seconds: float
    server_cpu_seconds: float
    peak_main_rss: int
    peak_tree_rss: int
    peak_tree_pss: int
    max_processes: int
    main_rss_quarters: tuple[int, int, int, int]
    log_problems: tuple[str, ...]
    progress: tuple[tuple[datetime, int], ...]
    """Time and pages crawled of every progress line Scrapy logged (every 60 s and at close)."""
    log_file: Path

    @property
    def stats(self) -> dict[str, Any]:
        return cast("dict[str, Any]", self.report.get("stats") or {})

    @property
    def article_responses(self) -> int:
        return int(self.stats.get("news/fetch/pages", 0))

    @property
    def rows(self) -> int:
        return int(self.stats.get("news/parquet/rows_written", 0))

    @property
    def elapsed(self) -> float | None:
        value = self.stats.get("elapsed_time_seconds")
        return float(value) if value is not None else None

    @property
    def pages_per_second(self) -> float:
        return self.article_responses / self.wall if self.wall else 0.0

    @property
    def drops(self) -> dict[str, int]:
        prefix = "item_dropped_reasons_count/"
        return {
            key.removeprefix(prefix): int(value)
            for key, value in sorted(self.stats.items())
            if key.startswith(prefix)
        }

    @property
    def rates(self) -> list[float]:
        """Pages per minute between consecutive progress lines."""
        return [
            (pages - before) * 60 / (when - then).total_seconds()
            for (then, before), (when, pages) in itertools.pairwise(self.progress)
            if when > then
        ]

    @property
    def longest_silence(self) -> tuple[float, datetime | None]:
        """The longest time between two progress lines, and when it began."""
        gaps = [
            ((when - then).total_seconds(), then)
            for (then, _), (when, _) in itertools.pairwise(self.progress)
        ]
        return max(gaps, default=(0.0, None), key=lambda gap: gap[0])

    @property
    def fetch_errors(self) -> int:
        return sum(
            int(value)
            for key, value in self.stats.items()
            if key.startswith(("news/fetch/http_error/", "news/fetch/error/"))
        )


def _log_summary(
    log_file: Path,
) -> tuple[tuple[str, ...], tuple[tuple[datetime, int], ...]]:
    """The log's ERROR/CRITICAL lines (first 5), and its progress lines."""
    problems: list[str] = []
    progress: list[tuple[datetime, int]] = []
    with contextlib.suppress(OSError), log_file.open(encoding="utf-8", errors="replace") as log:
        for line in log:
            if _LOG_PROBLEM.search(line) and len(problems) < 5:
                problems.append(line.strip()[:300])
            stats = _LOG_STATS.search(line)
            if stats is not None:
                when = datetime.strptime(stats.group(1), "%Y-%m-%d %H:%M:%S")
                progress.append((when, int(stats.group(2))))
    return tuple(problems), tuple(progress)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_crawl(
    server: RunningServer,
    size: int,
    workers: int | None,
    work_dir: Path,
    *,
    profile: Path | None = None,
    timeout: float | None = None,
    pipelines: bool = True,
) -> CrawlRun:
    """One ``scrapy crawl news`` of the first ``size`` pages, in a fresh ``OUTPUT_DIR``
    (without ``pipelines``: fetched only, see :func:`crawl_command`)."""
    label = (
        f"crawl-{size}-w{workers_label(workers)}"
        + ("-profile" if profile else "")
        + ("" if pipelines else "-fetch-only")
    )
    output_dir = work_dir / label
    output_dir.mkdir(parents=True)
    log_file = work_dir / f"{label}.log"
    command = crawl_command(
        server.base_url + sitemap_index_path(size),
        output_dir,
        log_file,
        workers,
        profile,
        pipelines=pipelines,
    )
    cpu_before, server_before = _children_cpu(), server.cpu_seconds()
    with (work_dir / f"{label}.out").open("wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        sampler = MemorySampler(process.pid)
        sampler.start()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            _progress(f"{label}: no end after {timeout:.0f} s, killed")
            for pid in reversed(process_tree(process.pid)):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            process.wait()
        wall = time.perf_counter() - started
        sampler.stop()
    problems, progress = _log_summary(log_file)
    # Workers the crawl did not wait for are missing from RUSAGE_CHILDREN; the samples miss
    # the last 0.2 s of each process: the larger of the two.
    cpu = max(_children_cpu() - cpu_before, sum(sampler.cpu_seen.values()))
    for pid, command_line in sampler.commands.items():
        _progress(f"  process {pid}: {command_line}")
    return CrawlRun(
        size=size,
        workers=workers,
        wall=wall,
        pipelines=pipelines,
        returncode=process.returncode,
        report=latest_report(output_dir) or {},
        cpu_seconds=cpu,
        server_cpu_seconds=server.cpu_seconds() - server_before,
        peak_main_rss=sampler.peak("main_rss"),
        peak_tree_rss=sampler.peak("tree_rss"),
        peak_tree_pss=sampler.peak("tree_pss"),
        max_processes=sampler.peak("processes"),
        main_rss_quarters=(sampler.at(0.25), sampler.at(0.5), sampler.at(0.75), sampler.at(1.0)),
        log_problems=problems,
        progress=progress,
        log_file=log_file,
    )


# --- the baseline -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    pages: int
    seconds: float
    cpu_seconds: float
    ours_seconds: float = 0.0
    """:func:`pipelines.workers.process_page` on the same pages: the extraction worker's whole
    work on a page (extraction, language, normalized text, MinHash signature)."""
    ours_cpu_seconds: float = 0.0

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def ours_pages_per_second(self) -> float:
        return self.pages / self.ours_seconds if self.ours_seconds else 0.0


def run_baseline(pages: PageSet, count: int, base_url: str = "http://127.0.0.1") -> Baseline:
    """``trafilatura.extract(body)`` and our worker's ``process_page`` on pages
    ``0 .. count-1``, one page after the other, each page through both (which goes first
    alternates); only the calls are timed (making the variant bytes is not)."""
    options = PageOptions()

    def ours(index: int, body: bytes) -> Any:
        return process_page(body, base_url + pages.path(index), CONTENT_TYPE, options)

    def theirs(index: int, body: bytes) -> Any:
        return trafilatura.extract(body)

    calls = (theirs, ours)
    wall, cpu = dict.fromkeys(calls, 0.0), dict.fromkeys(calls, 0.0)
    for call in calls:  # warm-up: lazy imports and first-call set-up
        call(0, pages.body(0))
    for index in range(count):
        body = pages.body(index)
        for call in calls if index % 2 == 0 else calls[::-1]:
            started, started_cpu = time.perf_counter(), time.process_time()
            call(index, body)
            wall[call] += time.perf_counter() - started
            cpu[call] += time.process_time() - started_cpu
    return Baseline(
        pages=count,
        seconds=wall[theirs],
        cpu_seconds=cpu[theirs],
        ours_seconds=wall[ours],
        ours_cpu_seconds=cpu[ours],
    )


# --- cost per stage -----------------------------------------------------------------------------

STAGES = ("decode", "extract", "site boilerplate", "language", "normalize", "dedupe", "write")
TRAFILATURA = "trafilatura"
"""Timed beside the stages, inside extract: trafilatura's own work (its ``load_html`` parse and
the ``bare_extraction`` calls of ``pipelines.extract.main_text``)."""


class _Stats:
    """Enough of a Scrapy stats collector for the pipelines' counters."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] += count


@dataclass(frozen=True)
class StageCosts:
    pages: int
    rows: int
    seconds: dict[str, float]
    """Wall seconds per stage."""
    cpu_seconds: dict[str, float]
    signature_seconds: float
    drops: dict[str, int]

    def per_page_ms(self, stage: str, *, cpu: bool = False) -> float:
        seconds = (self.cpu_seconds if cpu else self.seconds)[stage]
        return 1000 * seconds / self.pages if self.pages else 0.0

    def total_ms(self, *, cpu: bool = False) -> float:
        return sum(self.per_page_ms(stage, cpu=cpu) for stage in STAGES)


class _StageRunner:
    """The crawl's stages as plain calls, each timed."""

    def __init__(self, output_dir: Path) -> None:
        self.stats = _Stats()
        stats = cast("StatsCollector", self.stats)
        self.detector = LanguageDetector()
        self.signer = Signer()
        self.boilerplate = SiteBoilerplatePipeline(
            stats,
            state_folder=state_dir(output_dir),
            learner=SiteBoilerplate(),
            save_every=SiteBoilerplatePipeline.DEFAULT_SAVE_EVERY,
            min_text_chars=200,
        )
        self.dedupe = DedupePipeline(stats, output_dir=output_dir)
        self.writer = DatasetWriter(output_dir)
        self.seconds = dict.fromkeys((*STAGES, TRAFILATURA), 0.0)
        self.cpu_seconds = dict.fromkeys((*STAGES, TRAFILATURA), 0.0)
        self.signature_seconds = 0.0
        self.batches: list[pa.RecordBatch] = []
        self.rows = 0
        self.drops: Counter[str] = Counter()

    def open(self) -> None:
        self.boilerplate.open_spider()
        self.dedupe.open_spider()
        self.writer.open()

    def timing_trafilatura(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function`` (trafilatura's work inside extract), timed into the runner."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            return self._timed(TRAFILATURA, lambda: function(*args, **kwargs))

        return timed

    def _timed(self, stage: str, call: Callable[[], Any]) -> Any:
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            return call()
        finally:
            self.seconds[stage] += time.perf_counter() - started
            self.cpu_seconds[stage] += time.process_time() - started_cpu

    def page(self, body: bytes, url: str) -> None:
        self._timed("decode", lambda: decode_html(body, CONTENT_TYPE))
        try:
            # extract_article decodes too: run() takes the decode measured above off it
            extraction = self._timed("extract", lambda: extract_article(body, url, CONTENT_TYPE))
        except ExtractionError as exc:
            self.drops[exc.drop.__name__] += 1
            return
        record: dict[str, Any] = {
            "url": url,
            "fetched_at": datetime.now(UTC),
            "discovered_via": "sitemap",
        }
        apply_extraction(record, extraction)
        try:
            self._timed("site boilerplate", lambda: self.boilerplate.process_item(record))
            self._timed("language", lambda: apply_language(record, self.detector))
            self._timed("normalize", lambda: normalize_article(record, DEFAULT_TRACKING_PARAMS))
            self._timed("dedupe", lambda: self.dedupe.process_item(record))
        except DropItem as exc:
            self.drops[type(exc).__name__] += 1
            return
        started = time.perf_counter()
        self.signer.signature(record["text"])
        self.signature_seconds += time.perf_counter() - started
        self._timed("write", lambda: self.batches.append(to_batch(to_row(record))))
        if len(self.batches) >= 1000:
            self._timed("write", self._write)

    def _write(self) -> None:
        if self.batches:
            self.writer.write(pa.Table.from_batches(self.batches, schema=ARTICLE_SCHEMA))
            self.rows += len(self.batches)
            self.batches = []

    def close(self) -> None:
        self._timed("write", self._write)
        committed = self._timed("write", self.writer.commit)
        if committed is not None:
            self._timed(
                "dedupe", lambda: self.dedupe.on_articles_committed(committed.name, committed.keys)
            )
        self.boilerplate.close_store()
        self.dedupe.close_state()


def run_stages(pages: PageSet, count: int, output_dir: Path, base_url: str) -> StageCosts:
    """Time every stage on pages ``0 .. count-1`` (a page that is dropped skips the rest)."""
    runner = _StageRunner(output_dir)
    with contextlib.suppress(ExtractionError):  # warm-up: lazy imports, first-call set-up
        text = extract_article(pages.body(0), base_url, CONTENT_TYPE).text
        apply_language({"text": text}, runner.detector)
    runner.open()
    with contextlib.ExitStack() as patches:
        for name in ("load_html", "main_text"):  # trafilatura's parse and its extraction calls
            patches.enter_context(
                mock.patch.object(
                    extract_module, name, runner.timing_trafilatura(getattr(extract_module, name))
                )
            )
        for index in range(count):
            runner.page(pages.body(index), base_url + pages.path(index))
    runner.close()
    runner.seconds["extract"] -= runner.seconds["decode"]
    runner.cpu_seconds["extract"] -= runner.cpu_seconds["decode"]
    return StageCosts(
        pages=count,
        rows=runner.rows,
        seconds=runner.seconds,
        cpu_seconds=runner.cpu_seconds,
        signature_seconds=runner.signature_seconds,
        drops=dict(runner.drops),
    )


# --- the profile --------------------------------------------------------------------------------

_PACKAGE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Scrapy, Twisted",
        (
            "/scrapy/", "/twisted/", "/w3lib/", "/parsel/", "/itemadapter/", "/zope/",
            "/queuelib/", "/protego/", "/tldextract/", "/service_identity/", "/OpenSSL/",
            "/cryptography/", "/itemloaders/", "/h2/", "/hpack/", "/hyperframe/",
        ),
    ),
    (
        "trafilatura, lxml, htmldate",
        (
            "/trafilatura/", "/lxml/", "/lxml_html_clean/", "/htmldate/", "/justext/",
            "/courlan/", "/charset_normalizer/", "/dateutil/", "/dateparser/",
        ),
    ),
    ("langdetect", ("/langdetect/",)),
    ("datasketch, numpy (MinHash)", ("/datasketch/", "/numpy/", "/scipy/")),
    ("pyarrow", ("/pyarrow/",)),
    ("feedparser", ("/feedparser/", "/sgmllib")),
)  # fmt: skip
_BUILTIN_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("waiting for the network (epoll)", ("epoll", "select.", "'poll'")),
    ("sqlite3", ("sqlite3",)),
    ("trafilatura, lxml, htmldate", ("lxml",)),
    ("pyarrow", ("pyarrow",)),
    ("datasketch, numpy (MinHash)", ("numpy",)),
)
_STDLIB = sysconfig.get_paths()["stdlib"]
_PURELIB = sysconfig.get_paths()["purelib"]


def package_group(filename: str, function: str) -> str:
    """Which part of the crawl a profiled function belongs to."""
    if filename == "~":
        for group, needles in _BUILTIN_GROUPS:
            if any(needle in function for needle in needles):
                return group
        return "builtins (other)"
    if filename.startswith((str(ROOT / "crawler"), str(ROOT / "pipelines"))):
        return "ours (crawler/, pipelines/)"
    if "sqlite3" in filename:
        return "sqlite3"
    for group, needles in _PACKAGE_GROUPS:
        if any(needle in filename for needle in needles):
            return group
    if filename.startswith("<frozen"):
        return "imports (start-up)"
    if filename.startswith(_STDLIB) and "site-packages" not in filename:
        return "Python standard library"
    return "other"


def _short(filename: str, line: int, function: str) -> str:
    if filename == "~":
        return function
    for prefix in (_PURELIB + "/", str(ROOT) + "/", _STDLIB + "/"):
        if filename.startswith(prefix):
            filename = filename.removeprefix(prefix)
            break
    return f"{filename}:{line}({function})"


@dataclass(frozen=True)
class ProfiledFunction:
    name: str
    group: str
    calls: int
    self_seconds: float
    cumulative_seconds: float


_NEUTRAL_GROUPS = frozenset({"builtins (other)", "Python standard library"})
"""Groups whose time is charged to the package that called them (``str.join``, ``re``,
``copy.copy`` ...) in the second view of the profile."""
_FunctionKey = tuple[str, int, str]
_RawStats = dict[_FunctionKey, tuple[int, int, float, float, dict[_FunctionKey, tuple[Any, ...]]]]


@dataclass(frozen=True)
class ProfileSummary:
    total_seconds: float
    groups: dict[str, float]
    """Self time per package group."""
    charged: dict[str, float]
    """Self time per package group, builtins and standard library charged to their callers."""
    functions: tuple[ProfiledFunction, ...]

    def top(self, key: Callable[[ProfiledFunction], float], count: int) -> list[ProfiledFunction]:
        return sorted(self.functions, key=key, reverse=True)[:count]


class _Charger:
    """Charges the time of neutral functions (builtins, standard library) to the groups of the
    functions that called them, through neutral callers, in proportion to the time spent in
    the callee from each caller."""

    def __init__(self, raw: _RawStats) -> None:
        self.raw = raw
        self.group = {key: package_group(key[0], key[2]) for key in raw}
        self.shares: dict[_FunctionKey, dict[str, float]] = {}

    def owners(self, key: _FunctionKey) -> dict[str, float]:
        """The groups a call of ``key`` is charged to, with their shares."""
        group = self.group.get(key, "other")
        if group not in _NEUTRAL_GROUPS:
            return {group: 1.0}
        if key in self.shares:
            return self.shares[key]
        self.shares[key] = {group: 1.0}  # until known: a recursive call charges itself
        callers = {c: v for c, v in self.raw[key][4].items() if c in self.raw and v[3] > 0}
        total = sum(v[3] for v in callers.values())
        if total > 0:
            shares: dict[str, float] = {}
            for caller, values in callers.items():
                for owner, share in self.owners(caller).items():
                    shares[owner] = shares.get(owner, 0.0) + share * values[3] / total
            self.shares[key] = shares
        return self.shares[key]

    def charged(self) -> dict[str, float]:
        groups: dict[str, float] = {}
        for key, (_, _, self_time, _, callers) in self.raw.items():
            charges: list[tuple[str, float]] = [(self.group[key], self_time)]
            if self.group[key] in _NEUTRAL_GROUPS and callers:
                # the callee's self time from each direct caller is in the profile
                charges = [
                    (owner, share * values[2])
                    for caller, values in callers.items()
                    if caller in self.raw
                    for owner, share in self.owners(caller).items()
                ]
                charges.append((self.group[key], self_time - sum(v[2] for v in callers.values())))
            for owner, seconds in charges:
                groups[owner] = groups.get(owner, 0.0) + seconds
        return groups


def _by_time(groups: dict[str, float]) -> dict[str, float]:
    return dict(sorted(groups.items(), key=lambda item: item[1], reverse=True))


def summarize_profile(path: Path) -> ProfileSummary:
    """Self time per package group, and every function's calls, self and cumulative time."""
    stats = pstats.Stats(str(path))
    raw = cast("_RawStats", stats.stats)  # type: ignore[attr-defined]
    groups: dict[str, float] = {}
    functions = []
    for (filename, line, function), (_, calls, self_time, cumulative, _) in raw.items():
        group = package_group(filename, function)
        groups[group] = groups.get(group, 0.0) + self_time
        functions.append(
            ProfiledFunction(_short(filename, line, function), group, calls, self_time, cumulative)
        )
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    return ProfileSummary(
        total_seconds=float(stats.total_tt),  # type: ignore[attr-defined]
        groups=_by_time(groups),
        charged=_by_time(_Charger(raw).charged()),
        functions=tuple(functions),
    )


# --- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    sizes: tuple[int, ...] = DEFAULT_SIZES
    workers: tuple[int | None, ...] = DEFAULT_WORKERS
    baseline_pages: int | None = None
    stage_pages: int | None = None
    profile: bool = True

    @property
    def sample(self) -> int:
        return min(*self.sizes, MAX_DEFAULT_SAMPLE)


@dataclass(frozen=True)
class Results:
    options: Options
    corpus: Path
    corpus_pages: int
    baseline: Baseline
    crawls: tuple[CrawlRun, ...]
    stages: StageCosts | None
    fetch_only: CrawlRun | None
    """The smallest crawl once more with no item pipeline: what fetching costs."""
    profile: ProfileSummary | None
    profile_run: CrawlRun | None
    durations: dict[str, float]


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _timed_step(durations: dict[str, float], name: str, call: Callable[[], Any]) -> Any:
    _progress(f"{name} ...")
    started = time.perf_counter()
    result = call()
    durations[name] = time.perf_counter() - started
    _progress(f"{name}: {durations[name]:.1f} s")
    return result


def run_benchmark(options: Options, corpus: Path, work_dir: Path) -> Results:
    """Everything, in this order: baseline, crawls, stage costs, profiled crawl."""
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    templates = load_templates(corpus)
    pages = PageSet(templates)
    baseline_pages = options.baseline_pages or options.sample
    stage_pages = options.sample if options.stage_pages is None else options.stage_pages
    durations: dict[str, float] = {}
    stages = profile = profile_run = None
    with serving(pages, max(options.sizes)) as server:
        baseline = _timed_step(
            durations,
            f"baseline: trafilatura.extract on {baseline_pages:,} pages",
            lambda: run_baseline(pages, baseline_pages),
        )
        crawls = [
            _timed_step(
                durations,
                f"crawl of {size:,} pages, EXTRACT_WORKERS={workers_label(workers)}",
                partial(run_crawl, server, size, workers, work_dir, timeout=300 + size * 0.5),
            )
            for size in options.sizes
            for workers in options.workers
        ]
        size = min(options.sizes)
        fetch_only = _timed_step(
            durations,
            f"crawl of {size:,} pages, no item pipeline",
            partial(run_crawl, server, size, None, work_dir, timeout=300, pipelines=False),
        )
        if stage_pages:
            stages = _timed_step(
                durations,
                f"stage costs on {stage_pages:,} pages",
                lambda: run_stages(pages, stage_pages, work_dir / "stages", server.base_url),
            )
        if options.profile:
            size = min(options.sizes)
            profile_file = work_dir / "crawl-inline.prof"
            profile_run = _timed_step(
                durations,
                f"profiled crawl of {size:,} pages, EXTRACT_WORKERS=0",
                lambda: run_crawl(
                    server, size, 0, work_dir, profile=profile_file, timeout=600 + size * 1.0
                ),
            )
            if profile_file.exists():
                profile = summarize_profile(profile_file)
    return Results(
        options=options,
        corpus=corpus,
        corpus_pages=len(templates),
        baseline=baseline,
        crawls=tuple(crawls),
        stages=stages,
        fetch_only=fetch_only,
        profile=profile,
        profile_run=profile_run,
        durations=durations,
    )


# --- the report ---------------------------------------------------------------------------------


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _mib(size: int) -> str:
    return f"{size / MIB:,.0f}"


def _drops(drops: dict[str, int]) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in drops.items()) or "none"


def machine_line() -> str:
    cores = len(os.sched_getaffinity(0))
    return (
        f"{os.cpu_count()} CPUs ({cores} usable), {platform.platform()}, Python "
        f"{platform.python_version()}; Scrapy {importlib.metadata.version('scrapy')}, "
        f"trafilatura {trafilatura.__version__}, crawler {crawler.__version__}"
    )


def throughput_table(results: Results) -> str:
    base = results.baseline.pages_per_second
    ours = results.baseline.ours_pages_per_second
    rows = []
    for run in results.crawls:
        elapsed = run.elapsed
        rows.append(
            [
                f"{run.size:,}",
                workers_label(run.workers),
                str(run.max_processes),
                f"{run.article_responses:,}",
                f"{run.rows:,}",
                _drops(run.drops),
                f"{run.wall:.1f}",
                f"{elapsed:.1f}" if elapsed is not None else "-",
                f"{run.pages_per_second:.1f}",
                f"{run.article_responses / elapsed:.1f}" if elapsed else "-",
                f"**{run.pages_per_second / base:.2f}**" if base else "-",
                f"{run.pages_per_second / ours:.2f}" if ours else "-",
                f"{1000 * run.cpu_seconds / max(run.article_responses, 1):.1f}",
                f"{run.cpu_seconds / run.wall:.2f}" if run.wall else "-",
                f"{1000 * run.server_cpu_seconds / max(run.article_responses, 1):.1f}",
            ]
        )
    headers = [
        "pages",
        "EXTRACT_WORKERS",
        "processes",
        "article responses",
        "rows written",
        "dropped",
        "wall s",
        "crawl elapsed s",
        "pages/s (wall)",
        "pages/s (elapsed)",
        "ratio to trafilatura.extract",
        "ratio to our extraction loop",
        "crawl CPU ms/page",
        "cores busy (crawl CPU / wall)",
        "server CPU ms/page",
    ]
    return markdown_table(headers, rows)


def target_lines(results: Results) -> list[str]:
    base = results.baseline.pages_per_second
    lines = []
    for run in results.crawls:
        if run.workers is None and run.size == min(results.options.sizes) and base:
            ratio = run.pages_per_second / base
            verdict = "met" if ratio >= TARGET_RATIO else "**not met**"
            cores = len(os.sched_getaffinity(0))
            pages = max(run.article_responses, 1)
            cpu_ms = 1000 * (run.cpu_seconds + run.server_cpu_seconds) / pages
            ceiling = cores * 1000 / cpu_ms / base if cpu_ms else 0.0
            lines.append(
                f"Target: ratio at least {TARGET_RATIO} with the default workers on {cores} "
                f"cores: {ratio:.2f}, {verdict}. At {cpu_ms:.1f} ms of CPU per page (crawl and "
                f"server), {cores} cores kept busy all the time would reach {ceiling:.2f}."
            )
        if run.returncode != 0 or run.report.get("finish_reason") != "finished":
            lines.append(
                f"The crawl of {run.size:,} pages (EXTRACT_WORKERS={workers_label(run.workers)}) "
                f"ended with status {run.returncode}, reason "
                f"{run.report.get('finish_reason')!r}: see {run.log_file}."
            )
        if run.article_responses < run.size or run.fetch_errors:
            lines.append(
                f"The crawl of {run.size:,} pages (EXTRACT_WORKERS={workers_label(run.workers)}) "
                f"got {run.article_responses:,} article responses and {run.fetch_errors} fetch "
                "errors."
            )
        silence, since = run.longest_silence
        if silence > STALL_SECONDS and since is not None:
            lines.append(
                f"The crawl of {run.size:,} pages (EXTRACT_WORKERS={workers_label(run.workers)}) "
                f"logged no progress for {silence:.0f} s from {since:%H:%M:%S} (Scrapy logs it "
                "every 60 s): its reactor was blocked."
            )
        lines += [
            f"Log ({run.size:,}, {workers_label(run.workers)}): `{problem}`"
            for problem in run.log_problems
        ]
    return lines


@dataclass(frozen=True)
class Floor:
    """What a page costs at least, whatever the rest costs (CPU ms per page)."""

    trafilatura: float
    language: float
    fetching: float
    server: float

    @property
    def total(self) -> float:
        return self.trafilatura + self.language + self.fetching + self.server


def floor_of(results: Results) -> Floor | None:
    """The floor, from the stage costs and the crawl with no item pipeline."""
    stages, fetched = results.stages, results.fetch_only
    if stages is None or fetched is None or not stages.pages or not fetched.article_responses:
        return None
    pages = fetched.article_responses
    return Floor(
        trafilatura=stages.per_page_ms(TRAFILATURA, cpu=True),
        language=stages.per_page_ms("language", cpu=True),
        fetching=1000 * fetched.cpu_seconds / pages,
        server=1000 * fetched.server_cpu_seconds / pages,
    )


def floor_section(results: Results) -> list[str]:
    """What the target needs: the floor, and what it leaves for everything else."""
    floor, base = floor_of(results), results.baseline.pages_per_second
    # the crawl with the default workers (else the most workers) of the smallest size
    pooled = [run for run in results.crawls if run.workers != 0]
    if floor is None or not base or not pooled:
        return []
    run = min(pooled, key=lambda r: (r.size, r.workers is not None, -(r.workers or 0)))
    cores = len(os.sched_getaffinity(0))
    now = 1000 * (run.cpu_seconds + run.server_cpu_seconds) / max(run.article_responses, 1)
    budget = cores * 1000 / (TARGET_RATIO * base)
    ceiling = cores * 1000 / floor.total / base
    fetched = results.fetch_only
    assert fetched is not None
    fetching = (
        f"Scrapy fetching the page (the crawl of {fetched.size:,} pages with no item pipeline, "
        "start-up included)"
    )
    rest = (
        f"everything else now (the crawl of {run.size:,} pages, EXTRACT_WORKERS="
        f"{workers_label(run.workers)}: all its processes and the server, minus the floor)"
    )
    rows: list[tuple[str, float]] = [
        ("trafilatura's work in our extraction (its parse, `bare_extraction`)", floor.trafilatura),
        ("language detection (langdetect)", floor.language),
        (fetching, floor.fetching),
        ("the page server", floor.server),
        ("**floor**", floor.total),
        (rest, now - floor.total),
        (f"the target: at most ({cores} cores busy all the time)", budget),
        ("… which leaves for everything else", budget - floor.total),
    ]  # fmt: skip
    return [
        (
            "### What the target needs\n\nCPU per page. The floor is what a page costs "
            "whatever the rest costs: trafilatura's share of our extraction and the language "
            "detection (from the stage costs), Scrapy's fetching and the page server (from a "
            "crawl of the same pages with no item pipeline). Everything else is our "
            "extraction's own rules (boilerplate scan, metadata, lead, dates), the normalized "
            "text, the MinHash signature, handing pages to the workers and back, site "
            "boilerplate, dedupe and writing."
        ),
        markdown_table(["part", "CPU ms/page"], [[part, f"{ms:.1f}"] for part, ms in rows]),
        (
            f"With everything else free and {cores} cores busy all the time, the ratio would be "
            f"at most {ceiling:.2f}; the target {TARGET_RATIO} needs everything else to cost "
            f"at most {max(budget - floor.total, 0.0):.1f} ms per page, against "
            f"{now - floor.total:.1f} ms now."
        ),
    ]


def memory_table(results: Results) -> str:
    rows = []
    for run in results.crawls:
        rates = run.rates
        rows.append(
            [
                f"{run.size:,}",
                workers_label(run.workers),
                _mib(run.peak_tree_rss),
                _mib(run.peak_tree_pss),
                _mib(run.peak_main_rss),
                " / ".join(_mib(size) for size in run.main_rss_quarters),
                f"{rates[0]:,.0f} → {min(rates):,.0f} → {rates[-1]:,.0f}" if rates else "-",
                f"{run.longest_silence[0]:.0f}" if len(run.progress) > 1 else "-",
            ]
        )
    headers = [
        "pages",
        "EXTRACT_WORKERS",
        "peak RSS, process tree (MiB)",
        "peak PSS, process tree (MiB)",
        "peak RSS, main process (MiB)",
        "main RSS at ¼ / ½ / ¾ / end of the crawl (MiB)",
        "pages/min between progress lines: first → lowest → last",
        "longest time between progress lines (s)",
    ]
    return markdown_table(headers, rows)


def growth_lines(results: Results) -> list[str]:
    """Peak RSS growth from the second-largest size to the largest, per workers value."""
    sizes = sorted(set(results.options.sizes))
    if len(sizes) < 2:
        return []
    small, large = sizes[-2], sizes[-1]
    lines = []
    for workers in results.options.workers:
        runs = {run.size: run for run in results.crawls if run.workers == workers}
        if small not in runs or large not in runs:
            continue
        parts = []
        for label, attribute in (
            ("process tree", "peak_tree_rss"),
            ("main process", "peak_main_rss"),
        ):
            before, after = getattr(runs[small], attribute), getattr(runs[large], attribute)
            if not before:
                continue
            growth = after / before - 1
            verdict = "within" if growth <= MAX_RSS_GROWTH else "**over**"
            parts.append(f"{label} {growth:+.0%} ({verdict} the {MAX_RSS_GROWTH:.0%} limit)")
        lines.append(
            f"Peak RSS from {small:,} to {large:,} pages, EXTRACT_WORKERS="
            f"{workers_label(workers)}: " + "; ".join(parts) + "."
        )
    return lines


def stage_table(results: Results) -> str:
    stages = results.stages
    assert stages is not None
    wall, cpu = stages.total_ms(), stages.total_ms(cpu=True)
    rows = [
        [
            stage,
            f"{stages.per_page_ms(stage):.2f}",
            f"{stages.per_page_ms(stage, cpu=True):.2f}",
            f"{stages.per_page_ms(stage) / wall:.0%}" if wall else "-",
        ]
        for stage in STAGES
    ]
    rows.append(["**all stages**", f"**{wall:.2f}**", f"**{cpu:.2f}**", "100%"])
    signature = 1000 * stages.signature_seconds / stages.pages
    rows.append(["dedupe: of which the MinHash signature", f"{signature:.2f}", "", ""])
    base = results.baseline
    rows.append(
        [
            "for comparison: `trafilatura.extract`",
            f"{1000 * base.seconds / base.pages:.2f}",
            f"{1000 * base.cpu_seconds / base.pages:.2f}",
            "",
        ]
    )
    inline = [run for run in results.crawls if run.workers == 0]
    if inline:
        run = min(inline, key=lambda r: r.size)
        pages = max(run.article_responses, 1)
        wall_ms, cpu_ms = 1000 * run.wall / pages, 1000 * run.cpu_seconds / pages
        rows += [
            [
                f"crawl of {run.size:,} pages, EXTRACT_WORKERS=0 (whole process)",
                f"{wall_ms:.2f}",
                f"{cpu_ms:.2f}",
                "",
            ],
            [
                "… of which outside the stages (Scrapy, Twisted, HTTP, start-up, logging)",
                f"{wall_ms - wall:.2f}",
                f"{cpu_ms - cpu:.2f}",
                "",
            ],
        ]
    return markdown_table(["stage", "wall ms/page", "CPU ms/page", "share (wall)"], rows)


def profile_tables(summary: ProfileSummary, top: int = 15) -> list[str]:
    total = summary.total_seconds or 1.0
    charged = summary.charged
    names = list(charged) + [name for name in summary.groups if name not in charged]
    groups = markdown_table(
        ["package", "self time s", "share", "with the builtins and stdlib it calls, s", "share"],
        [
            [
                name,
                f"{summary.groups.get(name, 0.0):.1f}",
                f"{summary.groups.get(name, 0.0) / total:.0%}",
                f"{charged.get(name, 0.0):.1f}",
                f"{charged.get(name, 0.0) / total:.0%}",
            ]
            for name in names
        ],
    )

    def rows(functions: list[ProfiledFunction]) -> list[list[str]]:
        return [
            [
                f"`{function.name}`",
                function.group,
                f"{function.calls:,}",
                f"{function.self_seconds:.2f}",
                f"{function.cumulative_seconds:.2f}",
            ]
            for function in functions
        ]

    headers = ["function", "package", "calls", "self s", "cumulative s"]
    by_self = markdown_table(headers, rows(summary.top(lambda f: f.self_seconds, top)))
    ours = [f for f in summary.functions if f.group.startswith("ours")]
    ours.sort(key=lambda f: f.cumulative_seconds, reverse=True)
    by_cumulative = markdown_table(headers, rows(ours[:top]))
    return [
        groups,
        f"Top {top} functions by self time:",
        by_self,
        f"Our top {top} functions by cumulative time:",
        by_cumulative,
    ]


def render(results: Results, command: str) -> str:
    base = results.baseline
    sections = [
        "## Crawl throughput benchmark",
        (
            f"Command: `{command}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC); machine: "
            f"{machine_line()}. Pages: variants of the {results.corpus_pages} pages of "
            f"`{results.corpus}` (70% of the words of each page's visible text redrawn from "
            "its own text, canonical URL marked), served over loopback by a threaded server in "
            "its own process; crawled through a sitemap index."
        ),
        (
            f"### Throughput\n\nBaseline: `trafilatura.extract(body)` in a loop in one process "
            f"over the first {base.pages:,} of the same pages: {base.seconds:.1f} s, "
            f"**{base.pages_per_second:.1f} pages/s** ({1000 * base.seconds / base.pages:.1f} "
            f"ms/page wall, {1000 * base.cpu_seconds / base.pages:.1f} ms/page CPU). Our "
            "extraction loop: the extraction workers' whole work on a page "
            "(`pipelines.workers.process_page`: extraction, language, normalized text, MinHash "
            f"signature) in the same loop, page by page with the baseline: "
            f"{base.ours_pages_per_second:.1f} pages/s "
            f"({1000 * base.ours_cpu_seconds / base.pages:.1f} ms/page CPU). Crawl "
            "pages/s: article responses over the wall time of the crawl process, start-up "
            "included; the ratio is that over the baseline's pages/s. CPU: the crawl's "
            "processes (workers included) and the page server's, per article response; cores "
            "busy: the crawl's CPU seconds over its wall time."
        ),
        throughput_table(results),
    ]
    sections += target_lines(results)
    sections += floor_section(results)
    sections += [
        (
            "### Memory\n\nSampled every 0.2 s from `/proc`: the crawl process and all its "
            "descendants (RSS counts pages shared by forked workers once per process; PSS "
            "shares them out)."
        ),
        memory_table(results),
    ]
    sections += growth_lines(results)
    if results.stages is not None:
        stages = results.stages
        sections += [
            (
                f"### Cost per stage\n\nIn this process, on the first {stages.pages:,} pages in "
                f"the crawl's order, wall time per page served ({stages.rows:,} rows written; "
                f"dropped: {_drops(stages.drops)}). Extract excludes its decode (counted under "
                "decode); dedupe is the crawl's `DedupePipeline` (exact keys, MinHash "
                "signature, near-duplicate lookups, the commit into the stored index); write is "
                "`to_row`/`to_batch` per row and `DatasetWriter` row groups of 1,000 with the "
                "commit."
            ),
            stage_table(results),
        ]
    if results.profile is not None and results.profile_run is not None:
        run = results.profile_run
        sections += [
            (
                f"### Where the time goes\n\nThe crawl of {run.size:,} pages with "
                f"`EXTRACT_WORKERS=0` under cProfile ({run.wall:.1f} s wall under the "
                f"profiler, {results.profile.total_seconds:.1f} s profiled): self time of the "
                "main thread by package (the Parquet writer thread is not profiled; the "
                "profiler slows Python code more than C code)."
            ),
            *profile_tables(results.profile),
        ]
    durations = ", ".join(f"{name}: {seconds:.0f} s" for name, seconds in results.durations.items())
    sections.append(f"Run times: {durations}.")
    return "\n\n".join(sections) + "\n"


# --- command line -------------------------------------------------------------------------------


def _sizes(value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in value.split(",") if part.strip())
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) <= 0:
        raise argparse.ArgumentTypeError("sizes are positive page counts, comma-separated")
    return tuple(dict.fromkeys(sizes))


def extract_workers_list(value: str) -> tuple[int | None, ...]:
    """An argument listing EXTRACT_WORKERS values (``None`` for ``default``: left unset)."""
    workers: list[int | None] = []
    for part in (part.strip() for part in value.split(",")):
        if part == "default":
            workers.append(None)
        elif part.isdigit():
            workers.append(int(part))
        else:
            raise argparse.ArgumentTypeError(
                "EXTRACT_WORKERS values are 'default' or process counts, comma-separated, "
                f"not {part!r}"
            )
    return tuple(dict.fromkeys(workers))


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, not {number}")
    return number


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.throughput",
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog=f"The corpus is ${CORPUS_ENV}, else ../shared/corpus next to the repository.",
    )
    parser.add_argument(
        "--sizes", type=_sizes, default=DEFAULT_SIZES, metavar="N,N", help="pages per crawl"
    )
    parser.add_argument(
        "--workers",
        type=extract_workers_list,
        default=DEFAULT_WORKERS,
        metavar="W,W",
        help="EXTRACT_WORKERS values, 'default' to leave it unset (default: default,0)",
    )
    parser.add_argument(
        "--baseline-pages",
        type=_count,
        help=f"pages of the trafilatura.extract loop (default: the smallest size, at most "
        f"{MAX_DEFAULT_SAMPLE:,})",
    )
    parser.add_argument(
        "--stage-pages",
        type=_count,
        help="pages of the per-stage costs, 0 to skip them (default: as --baseline-pages)",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the crawl under cProfile")
    parser.add_argument("--workdir", type=Path, help="keep the crawls' outputs and logs here")
    parser.add_argument(
        "--write-results",
        action="store_true",
        help=f"also write the tables into {RESULTS_FILE.relative_to(ROOT)}",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    directory = corpus_dir()
    if corpus_missing(directory, "bench-throughput"):
        return EXIT_NO_CORPUS
    options = Options(
        sizes=args.sizes,
        workers=args.workers,
        baseline_pages=args.baseline_pages or None,
        stage_pages=args.stage_pages,
        profile=not args.no_profile,
    )
    given = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join([".venv/bin/python", "-m", "bench.throughput", *given])
    with contextlib.ExitStack() as stack:
        if args.workdir is not None:
            work_dir = args.workdir
            work_dir.mkdir(parents=True, exist_ok=True)
            work_dir = Path(tempfile.mkdtemp(prefix="throughput-", dir=work_dir))
        else:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="throughput-")))
        results = run_benchmark(options, directory, work_dir)
    text = render(results, command)
    print(text)
    if args.write_results:
        update_section(SCALE_SECTION if len(set(options.sizes)) > 1 else SECTION, text)
        print(f"Wrote {RESULTS_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
