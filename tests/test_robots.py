"""robots.txt holds for every request, including those made while it downloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.conftest import run_crawl

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
