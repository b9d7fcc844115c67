"""Start-up benchmark: from the command to the crawl's first request, and to its exit, for a
crawl of one page, in this checkout and (``--baseline DIR``, a ``git worktree`` of an older
commit) in another, the runs of the two taken in turn; Scrapy's own start (``scrapy version``,
no project code loaded) in the same run as the floor.

    .venv/bin/python -m bench.startup [--runs 7] [--baseline DIR] [--scrapy PATH]

Each run: ``scrapy crawl news -a urls=<page>`` from the checkout's directory (Scrapy puts the
project there first on ``sys.path``), with ``OUTPUT_DIR`` a new folder, against a page server
in this process that notes the time of the first request it answers. The page is a short
article of its own (no corpus needed): what is measured is the crawl's start, not extraction.
Medians over the runs are printed as a Markdown table.

Each checkout's packages are byte-compiled first (``compileall``), as an installed package is
at its installation and a checkout after its first run: otherwise, where
``PYTHONDONTWRITEBYTECODE`` is set (as on the machine these numbers were first taken on), every
run compiles the project's ~65 modules again, ~60 ms that no user's scheduled run pays.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.harness.corpus import ROOT
from bench.harness.crawls import console_scrapy

ARTICLE = (
    b"<!DOCTYPE html><html lang='en'><head><title>Start-up</title></head><body><article>"
    b"<h1>A page to crawl</h1>" + b"<p>Words of an article written for the benchmark. </p>" * 40
    + b"</article></body></html>"
)  # fmt: skip
PACKAGES = ("crawler", "pipelines", "dataset", "extraction")
LOOPBACK = ("AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0", "LOG_LEVEL=WARNING")


class _FirstRequest(ThreadingHTTPServer):
    """Serves the article at every path; notes when the first request came."""

    daemon_threads = True
    request_queue_size = 128
    first = 0.0


class _Handler(BaseHTTPRequestHandler):
    server: _FirstRequest

    def do_GET(self) -> None:
        self.server.first = self.server.first or time.time()
        status, body = (404, b"") if self.path == "/robots.txt" else (200, ARTICLE)
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass(frozen=True)
class Run:
    first_request: float
    """Seconds from the command to the server's first request."""
    exit: float
    """Seconds from the command to its exit."""
    status: int


def crawl_once(
    checkout: Path, server: _FirstRequest, number: int, scrapy: list[str] | None = None
) -> Run:
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="startup-") as output:
        command = [
            *(scrapy or console_scrapy()), "crawl", "news", "-a", f"urls={base}/page-{number}.html",
            "-s", f"OUTPUT_DIR={output}",
        ]  # fmt: skip
        for setting in LOOPBACK:
            command += ["-s", setting]
        server.first = 0.0
        started = time.time()
        done = subprocess.run(command, cwd=checkout, capture_output=True, check=False)
        ended = time.time()
    first = server.first - started if server.first else float("nan")
    return Run(first_request=first, exit=ended - started, status=done.returncode)


def byte_compile(checkout: Path) -> None:
    """Write the bytecode of the checkout's packages (what a run reads instead of the sources)."""
    packages = [str(checkout / name) for name in PACKAGES if (checkout / name).is_dir()]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *packages], capture_output=True, check=True
    )


def scrapy_version_seconds(scrapy: list[str] | None = None) -> float:
    started = time.time()
    subprocess.run(
        [*(scrapy or console_scrapy()), "version"], cwd="/", capture_output=True, check=True
    )
    return time.time() - started


def table(results: dict[str, list[Run]], floor: list[float]) -> str:
    head = "| checkout | runs | to the first request, s (median) | to exit, s (median) | exit |"
    lines = [head, "|---|---|---|---|---|"]
    for name, runs in results.items():
        statuses = ", ".join(sorted({str(run.status) for run in runs}))
        lines.append(
            f"| {name} | {len(runs)} | {statistics.median(r.first_request for r in runs):.2f} | "
            f"{statistics.median(r.exit for r in runs):.2f} | {statuses} |"
        )
    lines.append(
        f"| floor: `scrapy version` (no project) | {len(floor)} | | "
        f"{statistics.median(floor):.2f} | |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline", type=Path, help="a checkout of an older commit")
    parser.add_argument(
        "--scrapy",
        type=Path,
        help="the scrapy command of another environment, e.g. one with the runtime "
        "dependencies alone (without the dev extras, whose pydantic itemadapter imports); the "
        "project itself must not be installed there (its code comes from each checkout)",
    )
    args = parser.parse_args(argv)
    scrapy = [str(args.scrapy)] if args.scrapy else None
    checkouts = {"this checkout": ROOT}
    if args.baseline is not None:
        checkouts = {f"baseline ({args.baseline})": args.baseline.resolve(), **checkouts}
    for checkout in checkouts.values():
        byte_compile(checkout)
    server = _FirstRequest(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    results: dict[str, list[Run]] = {name: [] for name in checkouts}
    floor = []
    try:
        for number in range(args.runs):
            for name, checkout in checkouts.items():
                results[name].append(crawl_once(checkout, server, number, scrapy))
            floor.append(scrapy_version_seconds(scrapy))
    finally:
        server.shutdown()
        server.server_close()
    print(table(results, floor))
    failed = [run for runs in results.values() for run in runs if run.status != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
