"""Feed exports (``-o``/``-O``) that cannot be written (:mod:`crawler.exports`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import dataset_rows, run_crawl

if TYPE_CHECKING:
    from demo.site import Site

FULL = Path("/dev/full")  # every write fails: no space left on device


@pytest.mark.skipif(not FULL.exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("export_format", ["jsonl", "csv", "parquet"])
def test_an_export_that_cannot_be_written_is_one_error_line(
    tmp_path: Path, site_url: str, site: Site, export_format: str
) -> None:
    # a full disk: an error with a traceback for every item (jsonl, csv), or an asyncio "Task
    # exception was never retrieved" (parquet), hundreds of lines
    urls = ",".join(site_url + page.path for page in site.pages[:4])
    result = run_crawl(tmp_path, "-a", f"urls={urls}", "-O", f"{FULL}:{export_format}")
    assert result.returncode == 1  # the run did not do all it was asked
    assert result.log.count("Cannot write the export /dev/full (") == 1
    assert "Traceback" not in result.log
    assert "never retrieved" not in result.log
    if export_format != "parquet":  # written at the end: after the crawl report's stats
        assert result.stats["news/export/failed"] == 1
    assert len(dataset_rows(tmp_path)) == 4  # the dataset itself is written
