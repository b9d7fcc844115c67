"""Shared fixtures: the demo news site with broken pages, served on 127.0.0.1 for the session,
and a helper that runs a real ``scrapy crawl news`` against it; a text's signature and a near
copy's, for the near-duplicate indexes."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataset import run_history
from dataset.layout import data_files
from demo.site import Response, Site, base_url, load_site, serve
from extraction.signature import Signer
from tests.redis_server import client, redis_url, shared_redis  # noqa: F401 (fixtures)

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# Loopback needs no politeness delays; everything else is the project's configuration.
FAST_SETTINGS = ("AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0")

# Broken or non-article responses served beside the real articles.
NO_ARTICLE_HTML = (
    b"<!DOCTYPE html><html><head><title>Contact us</title></head><body>"
    b"<nav><a href='/'>Home</a> <a href='/world/'>World</a></nav>"
    b"<p>Write to us.</p><footer>(c) Demo</footer></body></html>"
)
BROKEN_ROUTES = {
    "/bad/photo.png": Response(
        200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n" + bytes(512)
    ),
    "/bad/report.pdf": Response(
        200, {"Content-Type": "application/pdf"}, b"%PDF-1.4\n%\xe2\xe3\n1 0 obj"
    ),
    "/bad/empty.html": Response(200, {"Content-Type": "text/html"}, b""),
    "/bad/binary.html": Response(200, {"Content-Type": "text/html"}, bytes(range(256)) * 16),
    "/bad/contact.html": Response(200, {"Content-Type": "text/html"}, NO_ARTICLE_HTML),
    "/bad/not-a-feed.xml": Response(200, {"Content-Type": "text/html"}, NO_ARTICLE_HTML),
    "/bad/not-a-sitemap.xml": Response(200, {"Content-Type": "text/xml"}, b"<<<garbage"),
    "/bad/server-error.html": Response(500, {"Content-Type": "text/html"}, b"oops"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden files of the extraction tests from the current output",
    )


@pytest.fixture(scope="session")
def site() -> Site:
    site = load_site()
    site.routes.update(BROKEN_ROUTES)
    return site


@pytest.fixture(scope="session")
def site_server(site: Site) -> Iterator[Any]:
    with serve(site) as server:
        yield server


@pytest.fixture(scope="session")
def site_url(site_server: Any) -> str:
    return base_url(site_server)


@dataclass
class CrawlResult:
    returncode: int
    log: str
    report: dict[str, Any]
    requested: list[str] = field(default_factory=list)
    """Paths the site server was asked for during the crawl (when the test records them)."""

    @property
    def stats(self) -> dict[str, Any]:
        return self.report.get("stats", {})


def session_processes(session: int) -> list[str]:
    """The processes of a session that still run (``ps`` lines; a zombie has exited): a crawl
    started as a session's leader (``start_new_session``) holds in it every process it
    starts."""
    return [
        line
        for line in subprocess.run(
            ["ps", "-e", "-o", "sid=,pid=,stat=,args="], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        if line.split()[0] == str(session) and not line.split()[2].startswith("Z")
    ]


def dataset_rows(output_dir: Path) -> list[dict[str, Any]]:
    """Every row of the dataset under ``output_dir``, read back with pyarrow."""
    return [
        row
        for path in data_files(output_dir / "articles")
        for row in pq.read_table(path).to_pylist()
    ]


def run_crawl(
    output_dir: Path,
    *arguments: str,
    settings: tuple[str, ...] = (),
    log_file: Path | None = None,
) -> CrawlResult:
    """Run ``scrapy crawl news`` (a real subprocess) into ``output_dir`` (its log in
    ``output_dir/crawl.log`` unless ``log_file`` says elsewhere)."""
    log_file = log_file or output_dir / "crawl.log"
    output_dir.mkdir(parents=True, exist_ok=True)
    reports_before = set((output_dir / "state" / "crawls").glob("*.json"))
    command = [sys.executable, "-m", "scrapy", "crawl", "news", *arguments]
    for setting in (f"OUTPUT_DIR={output_dir}", *FAST_SETTINGS, *settings):
        command += ["-s", setting]
    command += ["--logfile", str(log_file)]
    completed = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    log = (
        (log_file.read_text(encoding="utf-8") if log_file.exists() else "")
        + completed.stderr
        + completed.stdout
    )
    log_file.unlink(missing_ok=True)
    new_reports = sorted(set((output_dir / "state" / "crawls").glob("*.json")) - reports_before)
    report = json.loads(new_reports[-1].read_text(encoding="utf-8")) if new_reports else {}
    return CrawlResult(completed.returncode, log, report)


@pytest.fixture
def files_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the run-history files read from now on (the health judgement's and the
    report's reads are bounded: the tests count them)."""
    read: list[str] = []
    real = run_history.read_table_at

    def counted(location: Any, name: str, **options: Any) -> pa.Table:
        read.append(name)
        return real(location, name, **options)

    monkeypatch.setattr(run_history, "read_table_at", counted)
    return read


@pytest.fixture(scope="module")
def signatures() -> tuple[np.ndarray, np.ndarray]:
    """A text's signature and the signature of a near copy of it."""
    signer = Signer()
    words = [f"word{i}" for i in range(200)]
    signature = signer.signature(" ".join(words))
    near = signer.signature(" ".join(words[:190] + ["other"] * 10))
    assert signature is not None
    assert near is not None
    return signature, near
