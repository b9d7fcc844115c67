"""Redis mode scaling benchmark: one crawl split over 1, 2 and 4 ``scrapy crawl news`` worker
processes that share a Redis server, against one embedded-mode crawl, over loopback.

    .venv/bin/python -m bench.workers [--pages 2000] [--workers 1,2,4]
        [--extract-workers default,1] [--no-embedded] [--workdir DIR] [--write-results]

The pages are those of ``bench/throughput.py``: page ``i`` is a variant of the corpus page
``i mod P`` (``$NEWS_CORPUS_DIR``, else ``../shared/corpus``), its text redrawn so that no page
is a copy of another, served with robots.txt by a ``ThreadingHTTPServer`` (listen backlog 1,024)
in a process of its own. Here the ``--pages`` pages are listed by ``SITEMAPS`` sitemaps behind
one sitemap index, so that the listings, too, are shared out among the workers; the server
counts the requests it answers for every path.

Measurements, one after the other, each into a fresh ``OUTPUT_DIR`` (and, in Redis mode, with a
fresh ``redis-server``, no persistence, on 127.0.0.1):

* embedded mode (no ``REDIS_URL``): one ``scrapy crawl news -a sitemaps=<index>``, the baseline;
* Redis mode, for every ``--extract-workers`` value and every ``--workers`` count ``N``: ``N``
  identical commands started together with ``-s REDIS_URL=... -s REDIS_KEY_PREFIX=bench`` and
  one ``OUTPUT_DIR``.

Every command has the loopback settings of ``bench/throughput.py``: ``AUTOTHROTTLE_ENABLED=False
DOWNLOAD_DELAY=0 CONCURRENT_REQUESTS=32 CONCURRENT_REQUESTS_PER_DOMAIN=32`` (one host serves
everything), and ``EXTRACT_WORKERS`` unset (``default``: one extraction process per usable core,
in every worker) or as given.

Pages per second: article responses (``news/fetch/pages``, summed over the workers' crawl reports
in ``OUTPUT_DIR/state/crawls/``) over the wall time from the first worker's start to the last
worker's exit, start-up included; it is split into start-up (to the server's first answer),
fetching (the server's first to last answer) and the tail (from the last answer to the last
exit: extraction, the last commits, and the wait until the shared work is done). Ratios are
against the Redis run with one worker (with the same ``EXTRACT_WORKERS``) and against the
embedded run. CPU per article response: the workers and their descendants (the
larger of ``RUSAGE_CHILDREN`` and the sum of the last ``/proc`` reading of every process seen in
their trees every 0.5 s), ``redis-server`` (``INFO cpu``) and the page server (``/proc``); and
what the rest of the machine used meanwhile (``/proc/stat`` less all those and this process), so
that a measurement disturbed by other programs shows it.

Checks, per measurement: every process exited 0 with ``finish_reason`` ``finished``; the
server answered every article path exactly once, and every sitemap once; the dataset holds one
row per distinct URL, and the same URLs as the first measurement (the embedded one); no fetch
error; nothing left in Redis (no queued, in-flight or parsed request, no claim, no registered
worker). Reported beside them, not failed: a process that finished (its crawl report's
``finished_at``) before the server's last answer, i.e. while another one was still fetching.
Redis at the end of the run: ``used_memory`` (and over an empty server's) per stored
article, commands processed per article response, and memory by key family (``MEMORY USAGE``).

``make bench-workers`` runs the defaults (2,000 pages; embedded, and 1, 2 and 4 workers with
``EXTRACT_WORKERS`` default and 1: seven crawls, about 7 minutes on 2 cores). ``--write-results``
writes the section ``workers`` of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
import redis

from bench.extraction import CORPUS_ENV, EXIT_NO_CORPUS, corpus_dir, corpus_missing
from bench.results import RESULTS_FILE, update_section
from bench.throughput import (
    NOISY_LOGGERS,
    ROOT,
    PageServer,
    PageSet,
    PeriodicSampler,
    RunningServer,
    crawl_command,
    extract_workers_list,
    load_templates,
    machine_line,
    markdown_table,
    process_cpu_seconds,
    process_trees,
    serving,
    sitemap_index_path,
    workers_label,
)
from pipelines.dataset import articles_dir, crawls_dir, data_files

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

SECTION = "workers"
DEFAULT_PAGES = 2000
DEFAULT_WORKERS = (1, 2, 4)
DEFAULT_EXTRACT_WORKERS: tuple[int | None, ...] = (None, 1)
SITEMAPS = 8
"""Sitemaps behind the index (the pages split evenly among them)."""
KEY_PREFIX = "bench"
SPIDER = "news"
REDIS_SERVER_ENV = "REDIS_SERVER"
EXIT_NO_REDIS = 3
CPU_SAMPLE_SECONDS = 0.5
REQUESTS_PATH = "/_bench/requests"
"""The counting server's own path: its request counts (JSON), which it then resets."""
_PAGE_PATH = re.compile(r"/a/\d+/[^/]+\.html")
_SITEMAP_PATH = re.compile(r"/sitemaps/\d+/(?:index|\d+)\.xml")
MIB = 1024 * 1024


# --- the server: the throughput benchmark's, counting requests ---------------------------------


class CountingPageServer(PageServer):
    """:class:`bench.throughput.PageServer` that counts the requests of every path and tells
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


def sitemap_urls(pages: int) -> int:
    """URLs per sitemap so that ``pages`` are listed by ``SITEMAPS`` sitemaps."""
    return max(1, -(-pages // SITEMAPS))


# --- redis-server -------------------------------------------------------------------------------


def redis_server_binary() -> str | None:
    """``$REDIS_SERVER`` when set, else ``redis-server`` on the ``PATH``."""
    configured = os.environ.get(REDIS_SERVER_ENV)
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class RedisHandle:
    url: str
    process: subprocess.Popen[bytes]
    client: redis.Redis


@contextlib.contextmanager
def redis_server(binary: str, folder: Path) -> Iterator[RedisHandle]:
    """A throwaway ``redis-server`` on 127.0.0.1 (no persistence) for the block."""
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(folder), "--logfile", str(folder / "redis.log")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start: see {folder}") from None
                time.sleep(0.05)
        yield RedisHandle(url, process, client)
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def key_family(key: str, prefix: str = KEY_PREFIX) -> str:
    """A key's first two parts after the prefix, ``*`` for the rest (``near:bands:*``)."""
    parts = key.removeprefix(f"{prefix}:").split(":")
    return ":".join(parts[:2]) + (":*" if len(parts) > 2 else "")


@dataclass(frozen=True)
class RedisUsage:
    """The Redis server after the workers exited."""

    used_memory: int
    empty_memory: int
    """``used_memory`` of the server before the crawl."""
    peak_memory: int
    cpu_seconds: float
    commands: int
    command_calls: dict[str, int]
    """Calls by command (``INFO commandstats``; a script's own calls included), most first."""
    families: dict[str, tuple[int, int]]
    """Key family -> (keys, bytes by ``MEMORY USAGE``), largest first."""
    left: dict[str, int]
    """Work left behind: queued requests, in-flight and parsed entries, claims, workers."""


def _info_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def redis_usage(client: redis.Redis, empty_memory: int, cpu_seconds: float) -> RedisUsage:
    """What the server holds and did (read before anything else asks it more)."""
    commands = int(client.info("stats")["total_commands_processed"])
    calls = {
        name.removeprefix("cmdstat_"): int(stats["calls"])
        for name, stats in client.info("commandstats").items()
    }
    memory = client.info("memory")
    keys = [key.decode() for key in client.scan_iter(count=1000)]
    sizes: list[int] = []
    for start in range(0, len(keys), 1000):
        with client.pipeline(transaction=False) as pipe:
            for key in keys[start : start + 1000]:
                pipe.memory_usage(key, samples=0)
            sizes += [int(size or 0) for size in pipe.execute()]
    families: dict[str, list[int]] = {}
    for key, size in zip(keys, sizes, strict=True):
        entry = families.setdefault(key_family(key), [0, 0])
        entry[0] += 1
        entry[1] += size
    base = f"{KEY_PREFIX}:{SPIDER}"
    left = {
        "queued": int(client.zcard(f"{base}:requests")),
        "in flight": sum(int(client.hlen(k)) for k in client.scan_iter(f"{base}:in-flight:*")),
        "parsed": sum(int(client.hlen(k)) for k in client.scan_iter(f"{base}:done:*")),
        "claims": int(client.hlen(f"{KEY_PREFIX}:claims")),
        "workers": int(client.scard(f"{KEY_PREFIX}:workers")),
    }
    return RedisUsage(
        used_memory=int(memory["used_memory"]),
        empty_memory=empty_memory,
        peak_memory=int(memory["used_memory_peak"]),
        cpu_seconds=cpu_seconds,
        commands=commands,
        command_calls=dict(sorted(calls.items(), key=lambda kv: -kv[1])),
        families={
            name: (count, size)
            for name, (count, size) in sorted(families.items(), key=lambda kv: -kv[1][1])
        },
        left=left,
    )


# --- CPU of the workers' process trees ----------------------------------------------------------


@dataclass
class TreeSampler(PeriodicSampler):
    """Reads the CPU time of every process in the trees of ``roots`` every ``interval`` s."""

    roots: list[int]
    interval: float = CPU_SAMPLE_SECONDS
    cpu_seen: dict[int, float] = field(default_factory=dict)
    max_processes: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    thread_name = "cpu-sampler"

    def sample(self) -> None:
        alive = [pid for pid in process_trees(self.roots) if Path(f"/proc/{pid}").exists()]
        self.max_processes = max(self.max_processes, len(alive))
        for pid in alive:
            self.cpu_seen[pid] = max(self.cpu_seen.get(pid, 0.0), process_cpu_seconds(pid))


def _system_cpu() -> float:
    """CPU seconds the machine has been busy (all cores), from ``/proc/stat``."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _kill_tree(roots: list[int]) -> None:
    for pid in reversed(process_trees(roots)):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


# --- one measurement ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    workers: int | None
    """Worker processes in Redis mode; ``None``: embedded mode (one process, no Redis)."""
    extract_workers: int | None
    """``EXTRACT_WORKERS`` of every worker; ``None``: the default."""

    @property
    def redis(self) -> bool:
        return self.workers is not None

    @property
    def processes(self) -> int:
        return self.workers or 1

    @property
    def mode(self) -> str:
        return "Redis" if self.redis else "embedded"

    @property
    def label(self) -> str:
        extract = f"EXTRACT_WORKERS={workers_label(self.extract_workers)}"
        if not self.redis:
            return f"embedded, {extract}"
        return f"Redis, {self.workers} worker{'s' if self.processes > 1 else ''}, {extract}"

    @property
    def slug(self) -> str:
        head = f"redis-{self.workers}" if self.redis else "embedded"
        return f"{head}-x{workers_label(self.extract_workers)}"


@dataclass(frozen=True)
class Run:
    setup: Setup
    pages: int
    started_at: float
    """Epoch seconds when the first process was started."""
    wall: float
    returncodes: tuple[int | None, ...]
    reports: tuple[dict[str, Any], ...]
    cpu_seconds: float
    """The workers and their descendants."""
    server_cpu_seconds: float
    other_cpu_seconds: float
    """CPU the rest of the machine used meanwhile (``/proc/stat`` less the measured processes
    and this one): other programs, and kernel work charged to none."""
    max_processes: int
    requests: Requests
    urls: Counter[str]
    """Stored rows by URL."""
    redis: RedisUsage | None
    log_files: tuple[Path, ...]

    def _stat(self, key: str) -> int:
        return sum(int(report.get("stats", {}).get(key, 0)) for report in self.reports)

    @property
    def article_responses(self) -> int:
        return self._stat("news/fetch/pages")

    @property
    def pages_by_worker(self) -> list[int]:
        return sorted(
            (int(report.get("stats", {}).get("news/fetch/pages", 0)) for report in self.reports),
            reverse=True,
        )

    @property
    def early_exits(self) -> list[tuple[int, float]]:
        """Processes that finished while the server was still answering (another process was
        fetching: the shared work was not done): pages each fetched, and how many seconds
        before the last answer it finished."""
        found = []
        for report in self.reports:
            finished = report.get("finished_at")
            if not finished or not self.requests.last:
                continue
            early = self.requests.last - datetime.fromisoformat(finished).timestamp()
            if early > 0:
                pages = int(report.get("stats", {}).get("news/fetch/pages", 0))
                found.append((pages, early))
        return sorted(found, key=lambda exit_: -exit_[1])

    @property
    def startup(self) -> float:
        """From the first process's start to the server's first answer."""
        return self.requests.first - self.started_at if self.requests.first else 0.0

    @property
    def tail(self) -> float:
        """From the server's last answer to the last process's exit."""
        return self.started_at + self.wall - self.requests.last if self.requests.last else 0.0

    @property
    def rows(self) -> int:
        return sum(self.urls.values())

    @property
    def pages_per_second(self) -> float:
        return self.article_responses / self.wall if self.wall else 0.0

    @property
    def drops(self) -> dict[str, int]:
        prefix = "item_dropped_reasons_count/"
        found: Counter[str] = Counter()
        for report in self.reports:
            for key, value in report.get("stats", {}).items():
                if key.startswith(prefix):
                    found[key.removeprefix(prefix)] += int(value)
        return dict(sorted(found.items()))

    @property
    def fetch_errors(self) -> int:
        return sum(
            int(value)
            for report in self.reports
            for key, value in report.get("stats", {}).items()
            if key.startswith(("news/fetch/http_error/", "news/fetch/error/"))
        )

    @property
    def redis_cpu_seconds(self) -> float:
        return self.redis.cpu_seconds if self.redis else 0.0

    @property
    def total_cpu_seconds(self) -> float:
        return self.cpu_seconds + self.redis_cpu_seconds + self.server_cpu_seconds

    def per_page_ms(self, seconds: float) -> float:
        return 1000 * seconds / max(self.article_responses, 1)

    def problems(self, reference: set[str] | None) -> list[str]:
        """What went wrong: nothing when every check holds."""
        found = []
        failed = [code for code in self.returncodes if code != 0]
        if failed:
            found.append(f"exit statuses {failed}")
        if len(self.reports) != self.setup.processes:
            found.append(f"{len(self.reports)} crawl reports for {self.setup.processes} processes")
        reasons = [report.get("finish_reason") for report in self.reports]
        if any(reason != "finished" for reason in reasons):
            found.append(f"finish reasons {reasons}")
        articles = self.requests.matching(_PAGE_PATH)
        if len(articles) != self.pages:
            found.append(f"{len(articles)} of the {self.pages} article pages fetched")
        twice = sum(1 for count in articles.values() if count > 1)
        if twice:
            found.append(f"{twice} article pages fetched more than once")
        sitemaps = self.requests.matching(_SITEMAP_PATH)
        if len(sitemaps) != SITEMAPS + 1 or any(count != 1 for count in sitemaps.values()):
            found.append(f"sitemaps fetched: {sorted(sitemaps.values())}")
        doubled = sum(1 for count in self.urls.values() if count > 1)
        if doubled:
            found.append(f"{doubled} URLs stored more than once")
        if reference is not None and set(self.urls) != reference:
            missing, extra = len(reference - set(self.urls)), len(set(self.urls) - reference)
            found.append(f"stored URLs differ from the reference: {missing} missing, {extra} more")
        if self.rows + sum(self.drops.values()) != self.article_responses:
            found.append(
                f"{self.rows} rows and {sum(self.drops.values())} drops for "
                f"{self.article_responses} article responses"
            )
        if self.fetch_errors:
            found.append(f"{self.fetch_errors} fetch errors")
        if self.redis is not None and any(self.redis.left.values()):
            left = ", ".join(f"{name} {n}" for name, n in self.redis.left.items() if n)
            found.append(f"left in Redis: {left}")
        return found


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _reports(output_dir: Path) -> tuple[dict[str, Any], ...]:
    return tuple(
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(crawls_dir(output_dir).glob("*.json"))
    )


def stored_urls(output_dir: Path) -> Counter[str]:
    urls: Counter[str] = Counter()
    for path in data_files(articles_dir(output_dir)):
        urls.update(pq.read_table(path, columns=["url"]).column("url").to_pylist())
    return urls


def _run_workers(
    commands: list[list[str]], log_files: list[Path], timeout: float
) -> tuple[float, float, list[int | None], float, TreeSampler]:
    """Start the commands together and wait for all; start (epoch seconds), wall time, exit
    statuses, CPU."""
    cpu_before = _children_cpu()
    outputs = [log.with_suffix(".out").open("wb") for log in log_files]
    started_at, started = time.time(), time.perf_counter()
    processes: list[subprocess.Popen[bytes]] = []
    sampler = TreeSampler([])
    try:
        for command, output in zip(commands, outputs, strict=True):
            processes.append(
                subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
            )
        sampler.roots = [process.pid for process in processes]
        sampler.start()
        deadline = started + timeout
        try:
            for process in processes:
                process.wait(max(deadline - time.perf_counter(), 0.1))
        except subprocess.TimeoutExpired:
            _progress(f"  no end after {timeout:.0f} s: killed")
        wall = time.perf_counter() - started
    finally:
        sampler.stop()
        running = [process.pid for process in processes if process.poll() is None]
        if running:  # a timeout, or an error in this process
            _kill_tree(running)
        for process in processes:
            process.wait()
        for output in outputs:
            output.close()
    cpu = max(_children_cpu() - cpu_before, sum(sampler.cpu_seen.values()))
    return started_at, wall, [process.returncode for process in processes], cpu, sampler


def run_setup(
    setup: Setup,
    server: RunningServer,
    pages: int,
    work_dir: Path,
    redis_binary: str | None,
    *,
    timeout: float,
) -> Run:
    """One measurement: the setup's processes crawl the first ``pages`` pages into a fresh
    ``OUTPUT_DIR`` (with a fresh Redis server in Redis mode)."""
    output_dir = work_dir / setup.slug
    output_dir.mkdir(parents=True)
    sitemap = server.base_url + sitemap_index_path(pages)
    log_files = [work_dir / f"{setup.slug}-{n}.log" for n in range(setup.processes)]
    commands = [crawl_command(sitemap, output_dir, log, setup.extract_workers) for log in log_files]
    with contextlib.ExitStack() as stack:
        handle = None
        if setup.redis:
            assert redis_binary is not None
            handle = stack.enter_context(redis_server(redis_binary, work_dir / f"{setup.slug}-r"))
            settings = [f"REDIS_URL={handle.url}", f"REDIS_KEY_PREFIX={KEY_PREFIX}"]
            commands = [
                [*command, *(part for s in settings for part in ("-s", s))] for command in commands
            ]
            empty_memory = int(handle.client.info("memory")["used_memory"])
            redis_cpu_before = _info_cpu(handle.client)
        read_requests(server)  # resets the counts
        server_before = server.cpu_seconds()
        system_before, own_before = _system_cpu(), _own_cpu()
        started_at, wall, returncodes, cpu, sampler = _run_workers(commands, log_files, timeout)
        server_cpu = server.cpu_seconds() - server_before
        redis_cpu = _info_cpu(handle.client) - redis_cpu_before if handle is not None else 0.0
        system, own = _system_cpu() - system_before, _own_cpu() - own_before
        requests = read_requests(server)
        usage = None
        if handle is not None:
            usage = redis_usage(handle.client, empty_memory, redis_cpu)
    return Run(
        setup=setup,
        pages=pages,
        started_at=started_at,
        wall=wall,
        returncodes=tuple(returncodes),
        reports=_reports(output_dir),
        cpu_seconds=cpu,
        server_cpu_seconds=server_cpu,
        other_cpu_seconds=max(system - cpu - server_cpu - redis_cpu - own, 0.0),
        max_processes=sampler.max_processes,
        requests=requests,
        urls=stored_urls(output_dir),
        redis=usage,
        log_files=tuple(log_files),
    )


# --- the benchmark ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    pages: int = DEFAULT_PAGES
    workers: tuple[int, ...] = DEFAULT_WORKERS
    extract_workers: tuple[int | None, ...] = DEFAULT_EXTRACT_WORKERS
    embedded: bool = True

    def setups(self) -> list[Setup]:
        found = [Setup(None, self.extract_workers[0])] if self.embedded else []
        found += [Setup(n, x) for x in self.extract_workers for n in self.workers]
        return found


@dataclass(frozen=True)
class Results:
    options: Options
    corpus: Path
    corpus_pages: int
    runs: tuple[Run, ...]
    durations: dict[str, float]
    cores: int
    busy: tuple[str, ...] = ()
    """Other processes that used the CPU during the benchmark (a note for the reader)."""

    @property
    def reference(self) -> Run | None:
        return self.runs[0] if self.runs else None

    def problems(self, run: Run) -> list[str]:
        reference = self.reference
        if reference is None or reference is run:
            return run.problems(None)
        return run.problems(set(reference.urls))

    def one_worker(self, run: Run) -> Run | None:
        for other in self.runs:
            if other.setup == Setup(1, run.setup.extract_workers):
                return other
        return None

    def embedded(self) -> Run | None:
        return next((run for run in self.runs if not run.setup.redis), None)


def _busy_processes(exclude: set[int], threshold: float = 0.05) -> dict[int, float]:
    """CPU seconds of every process (outside ``exclude``), to tell what else ran."""
    found = {}
    for pid in (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()):
        if pid not in exclude:
            seconds = process_cpu_seconds(pid)
            if seconds >= threshold:
                found[pid] = seconds
    return found


def _command_name(pid: int) -> str:
    try:
        parts = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        name = " ".join(part.decode(errors="replace") for part in parts if part)
        return name[:80] or f"[{Path(f'/proc/{pid}/comm').read_text().strip()}]"
    except OSError:
        return "?"


def _own_tree() -> set[int]:
    return set(process_trees([os.getpid()]))


def run_benchmark(
    options: Options, corpus: Path, work_dir: Path, redis_binary: str | None
) -> Results:
    """Every measurement of ``options``, one after the other, against one page server."""
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    templates = load_templates(corpus)
    pages = PageSet(templates)
    durations: dict[str, float] = {}
    runs = []
    before = _busy_processes(_own_tree())
    with serving(
        pages,
        options.pages,
        server_class=CountingPageServer,
        sitemap_urls=sitemap_urls(options.pages),
    ) as server:
        for setup in options.setups():
            _progress(f"{setup.label}: {options.pages:,} pages ...")
            started = time.perf_counter()
            run = run_setup(
                setup,
                server,
                options.pages,
                work_dir,
                redis_binary,
                timeout=300 + options.pages * 0.5,
            )
            durations[setup.label] = time.perf_counter() - started
            _progress(
                f"{setup.label}: {run.wall:.1f} s, {run.pages_per_second:.1f} pages/s, "
                f"pages per worker {run.pages_by_worker}"
            )
            runs.append(run)
    after = _busy_processes(_own_tree())
    busy = tuple(
        f"{_command_name(pid)} ({seconds - before.get(pid, 0.0):.0f} s CPU)"
        for pid, seconds in sorted(after.items())
        if seconds - before.get(pid, 0.0) >= 1.0
    )
    return Results(
        options=options,
        corpus=corpus,
        corpus_pages=len(templates),
        runs=tuple(runs),
        durations=durations,
        cores=len(os.sched_getaffinity(0)),
        busy=busy,
    )


# --- the report ---------------------------------------------------------------------------------


def _ratio(value: float, base: float | None) -> str:
    return f"{value / base:.2f}" if base else "-"


def throughput_table(results: Results) -> str:
    embedded = results.embedded()
    rows = []
    for run in results.runs:
        one = results.one_worker(run)
        total_ms = run.per_page_ms(run.total_cpu_seconds)
        rows.append(
            [
                run.setup.mode,
                str(run.setup.processes),
                workers_label(run.setup.extract_workers),
                str(run.max_processes),
                f"{run.article_responses:,}",
                " / ".join(f"{n:,}" for n in run.pages_by_worker),
                f"{run.rows:,}",
                f"{run.wall:.1f}",
                f"{run.startup:.1f} / {run.requests.span:.1f} / {run.tail:.1f}",
                f"**{run.pages_per_second:.1f}**",
                _ratio(run.pages_per_second, one.pages_per_second) if one else "-",
                _ratio(run.pages_per_second, embedded.pages_per_second if embedded else None),
                f"{run.per_page_ms(run.cpu_seconds):.1f}",
                f"{run.per_page_ms(run.redis_cpu_seconds):.1f}" if run.redis else "-",
                f"{run.per_page_ms(run.server_cpu_seconds):.1f}",
                f"{total_ms:.1f}",
                f"{run.total_cpu_seconds / run.wall:.2f}" if run.wall else "-",
                f"{run.other_cpu_seconds:.1f}",
            ]
        )
    headers = [
        "mode",
        "crawl processes",
        "EXTRACT_WORKERS (each)",
        "processes (peak, extraction included)",
        "article responses",
        "pages per crawl process",
        "rows",
        "wall s",
        "of which start-up / fetching / after the last fetch, s",
        "pages/s (wall)",
        "× Redis, 1 worker",
        "× embedded",
        "CPU ms/page: crawl",
        "Redis",
        "page server",
        "all",
        "cores busy (all CPU / wall)",
        "CPU s of the rest of the machine meanwhile",
    ]
    return markdown_table(headers, rows)


def checks_table(results: Results) -> str:
    rows = []
    for run in results.runs:
        articles = run.requests.matching(_PAGE_PATH)
        sitemaps = run.requests.matching(_SITEMAP_PATH)
        problems = results.problems(run)
        left = "-"
        if run.redis is not None:
            left = ", ".join(f"{n}" for n in run.redis.left.values())
        rows.append(
            [
                run.setup.label,
                f"{len(articles):,} / {run.pages:,}",
                str(sum(1 for count in articles.values() if count > 1)),
                f"{sum(sitemaps.values())} ({len(sitemaps)} distinct)",
                str(run.requests.counts.get("/robots.txt", 0)),
                f"{run.rows:,}",
                f"{len(run.urls):,}",
                ", ".join(f"{reason} {n}" for reason, n in run.drops.items()) or "none",
                left,
                "; ".join(
                    f"**one after {pages:,} pages, {early:.1f} s before the last fetch**"
                    for pages, early in run.early_exits
                )
                or "none",
                "ok" if not problems else "**" + "; ".join(problems) + "**",
            ]
        )
    headers = [
        "measurement",
        "article pages fetched",
        "fetched twice",
        "sitemap fetches",
        "robots.txt fetches",
        "rows",
        "distinct URLs",
        "dropped",
        "left in Redis (queued, in flight, parsed, claims, workers)",
        "processes that finished while others still fetched",
        "checks",
    ]
    return markdown_table(headers, rows)


def redis_table(results: Results) -> str:
    rows = []
    for run in results.runs:
        usage = run.redis
        if usage is None:
            continue
        stored = max(run.rows, 1)
        rows.append(
            [
                run.setup.label,
                f"{usage.used_memory / MIB:.1f}",
                f"{usage.peak_memory / MIB:.1f}",
                f"{usage.used_memory / stored:,.0f}",
                f"{(usage.used_memory - usage.empty_memory) / stored:,.0f}",
                f"{sum(keys for keys, _ in usage.families.values()):,}",
                f"{usage.commands:,}",
                f"{usage.commands / max(run.article_responses, 1):.1f}",
            ]
        )
    headers = [
        "measurement",
        "used_memory at the end (MiB)",
        "used_memory_peak (MiB)",
        "bytes per stored article",
        "bytes per stored article over an empty server",
        "keys",
        "commands processed",
        "commands per article response",
    ]
    return markdown_table(headers, rows)


def families_table(run: Run) -> str:
    assert run.redis is not None
    stored = max(run.rows, 1)
    rows = [
        [
            f"`{KEY_PREFIX}:{name}`",
            f"{keys:,}",
            f"{size / MIB:.2f}",
            f"{size / stored:,.0f}",
        ]
        for name, (keys, size) in run.redis.families.items()
    ]
    return markdown_table(["keys", "count", "MiB (MEMORY USAGE)", "bytes per stored article"], rows)


def commands_line(run: Run, top: int = 12) -> str:
    assert run.redis is not None
    responses = max(run.article_responses, 1)
    calls = list(run.redis.command_calls.items())
    shown = ", ".join(f"`{name}` {count / responses:.1f}" for name, count in calls[:top])
    return (
        f"Commands per article response, {run.setup.label} (`INFO commandstats`; the calls "
        f"scripts make are counted too, each `evalsha` besides): {shown}."
    )


def scaling_lines(results: Results) -> list[str]:
    """The CPU ceiling of every run: how fast the cores could go at its CPU per page."""
    lines = []
    for run in results.runs:
        total_ms = run.per_page_ms(run.total_cpu_seconds)
        if not total_ms or not run.wall:
            continue
        ceiling = results.cores * 1000 / total_ms
        lines.append(
            f"- {run.setup.label}: {total_ms:.1f} ms of CPU per page, so {results.cores} cores "
            f"busy all the time would give {ceiling:.1f} pages/s; it reached "
            f"{run.pages_per_second:.1f} ({run.pages_per_second / ceiling:.0%} of that)."
        )
    return lines


def render(results: Results, command: str) -> str:
    options = results.options
    sections = [
        "## Redis mode: worker processes",
        (
            f"Command: `{command}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC); machine: "
            f"{machine_line()}. Pages: {options.pages:,} variants of the "
            f"{results.corpus_pages} pages of `{results.corpus}` (as in the crawl throughput "
            f"benchmark), listed by {SITEMAPS} sitemaps behind one index, served over loopback "
            "by a threaded server in its own process that counts its requests. Every "
            "measurement: a fresh `OUTPUT_DIR`, and in Redis mode a fresh `redis-server` "
            f"({_redis_version()}); the crawl processes are identical `scrapy crawl news "
            "-a sitemaps=<index>` commands with `AUTOTHROTTLE_ENABLED=False DOWNLOAD_DELAY=0 "
            "CONCURRENT_REQUESTS=32 CONCURRENT_REQUESTS_PER_DOMAIN=32` (and `REDIS_URL`, "
            f"`REDIS_KEY_PREFIX={KEY_PREFIX}`), started together."
        ),
        (
            "### Throughput\n\nPages/s: article responses (summed over the crawl reports) over "
            "the wall time from the first process's start to the last one's exit, start-up "
            "included, split into start-up (to the server's first answer), fetching (the "
            "server's first to last answer) and what follows the last fetch (extraction, the "
            "last commits, and the wait for the other workers to be done). × Redis, 1 worker: over "
            "the one-worker Redis run with the same `EXTRACT_WORKERS`. CPU per article "
            "response: the crawl processes with their extraction workers, `redis-server` "
            "(`INFO cpu`) and the page server; the rest of the machine: `/proc/stat` less those "
            "and this benchmark's process (other programs, kernel work charged to no process)."
        ),
        throughput_table(results),
    ]
    sections.append(
        "What bounds it: the CPU per page, on the cores there are.\n\n"
        + "\n".join(scaling_lines(results))
    )
    sections += [
        (
            "### Checks\n\nThe server's request counts and the dataset, per measurement: every "
            "article page fetched once, every sitemap once (the index and its "
            f"{SITEMAPS}), robots.txt at most once per process (before its first request); one "
            "row per URL, and the same URLs as the first measurement "
            f"({results.reference.setup.label if results.reference else '-'}); nothing left in "
            "Redis. Not counted as a failed check, but a defect of the shared end of the crawl: "
            "a process whose crawl report says it finished before the server's last answer "
            "(it stopped while another one was still fetching)."
        ),
        checks_table(results),
    ]
    redis_runs = [run for run in results.runs if run.redis is not None]
    if redis_runs:
        largest = max(redis_runs, key=lambda run: (run.setup.processes, run.rows))
        sections += [
            (
                "### Redis\n\nAt the end of each Redis run (the workers gone): `INFO memory` "
                "`used_memory` per stored article, and the commands processed (`INFO stats`: "
                "a Lua script counts once, and once more for every call it makes) per article "
                "response."
            ),
            redis_table(results),
            f"By key family, {largest.setup.label} (`MEMORY USAGE ... SAMPLES 0` of every key):",
            families_table(largest),
            commands_line(largest),
        ]
    busy = "; ".join(results.busy) if results.busy else "nothing else measurable"
    durations = ", ".join(f"{name}: {seconds:.0f} s" for name, seconds in results.durations.items())
    sections.append(f"Other processes using the CPU meanwhile: {busy}. Run times: {durations}.")
    return "\n\n".join(sections) + "\n"


def _redis_version() -> str:
    binary = redis_server_binary()
    if binary is None:
        return "not installed"
    try:
        output = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except OSError:
        return "redis-server"
    match = re.search(r"v=(\S+)", output)
    return f"redis-server {match.group(1)}" if match else "redis-server"


# --- command line -------------------------------------------------------------------------------


def _counts(value: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("worker counts are positive numbers, comma-separated")
    return tuple(dict.fromkeys(counts))


def _pages(value: str) -> int:
    number = int(value.replace("_", ""))
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.workers",
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog=f"The corpus is ${CORPUS_ENV}, else ../shared/corpus next to the repository; "
        f"redis-server is ${REDIS_SERVER_ENV}, else the one on the PATH.",
    )
    parser.add_argument("--pages", type=_pages, default=DEFAULT_PAGES, help="article pages")
    parser.add_argument(
        "--workers",
        type=_counts,
        default=DEFAULT_WORKERS,
        metavar="N,N",
        help="crawl processes of the Redis runs (default: 1,2,4)",
    )
    parser.add_argument(
        "--extract-workers",
        type=extract_workers_list,
        default=DEFAULT_EXTRACT_WORKERS,
        metavar="W,W",
        help="EXTRACT_WORKERS of every crawl process, 'default' to leave it unset; one set of "
        "Redis runs per value (default: default,1); the embedded run takes the first",
    )
    parser.add_argument("--no-embedded", action="store_true", help="skip the embedded run")
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
    if corpus_missing(directory, "bench-workers"):
        return EXIT_NO_CORPUS
    binary = redis_server_binary()
    if binary is None:
        print(
            "No redis-server found: looked for "
            + (
                f"${REDIS_SERVER_ENV} ({os.environ[REDIS_SERVER_ENV]}, not an executable)"
                if os.environ.get(REDIS_SERVER_ENV)
                else "redis-server on the PATH"
            )
            + ".\nInstall it (Debian: apt-get install redis-server) or set "
            f"{REDIS_SERVER_ENV} to the binary, e.g. {REDIS_SERVER_ENV}=/usr/bin/redis-server "
            "make bench-workers",
            file=sys.stderr,
        )
        return EXIT_NO_REDIS
    options = Options(
        pages=args.pages,
        workers=args.workers,
        extract_workers=args.extract_workers,
        embedded=not args.no_embedded,
    )
    given = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join([".venv/bin/python", "-m", "bench.workers", *given])
    with contextlib.ExitStack() as stack:
        if args.workdir is not None:
            args.workdir.mkdir(parents=True, exist_ok=True)
            work_dir = Path(tempfile.mkdtemp(prefix="workers-", dir=args.workdir))
        else:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="workers-")))
        results = run_benchmark(options, directory, work_dir, binary)
    text = render(results, command)
    print(text)
    if args.write_results:
        update_section(SECTION, text)
        print(f"Wrote {RESULTS_FILE}", file=sys.stderr)
    failed = [run for run in results.runs if results.problems(run)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
