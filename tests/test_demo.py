"""``make demo`` end to end (without the virtualenv step): serve, crawl, summarize, write the
report, twice."""

from __future__ import annotations

import socket
import subprocess
import sys
from typing import TYPE_CHECKING

from tests.conftest import ROOT

if TYPE_CHECKING:
    from pathlib import Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _demo(output_dir: Path, port: int) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "demo", "--output-dir", str(output_dir), "--port", str(port)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def test_demo_crawls_the_site_then_adds_nothing(tmp_path: Path) -> None:
    port = _free_port()
    first = _demo(tmp_path, port)
    assert "rows       41" in first
    languages = next(line for line in first.splitlines() if line.startswith("  languages"))
    assert int(languages.split()[1].rstrip(":")) >= 10
    assert "dropped         ListingPage 1" in first
    assert "fetch errors    http_error/404 1" in first
    assert "  skipped         none" in first
    # the crawl's own summary, per source, before the dataset's
    assert first.index("Run finished in ") < first.index("Dataset ")
    assert "  127.0.0.1     43        0       42      41        1       1  2026-08-02" in first
    assert "  unhealthy: none" in first
    # then the report, with the same figures
    report = tmp_path / "report.html"
    assert (
        f"Report written to {report.resolve().as_uri()} (41 articles, 1 source, 1 run; "
        "no unhealthy source)\n"
    ) in first
    assert 'data-total="rows" data-value="41"' in report.read_text(encoding="utf-8")
    second = _demo(tmp_path, port)
    assert "rows       41" in second
    # stored articles are not downloaded again, nor the home page (given as an article page,
    # dropped as a listing), and the run says what it skipped and why, not only that it wrote
    # nothing
    assert "pages fetched   0" in second
    assert (
        "  skipped         41 known articles not fetched again (stored already); 1 pages "
        "dropped as no article before, not due for a re-check (ListingPage 1)"
    ) in second
    assert "rows written    0" in second
    assert "(41 articles, 1 source, 2 runs; no unhealthy source)" in second
