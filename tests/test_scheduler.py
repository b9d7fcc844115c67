"""The scheduler that keeps pending requests on disk."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import Spider
from scrapy.utils.test import get_crawler

from crawler.scheduler import DiskScheduler
from dataset.writer import remove_stale_tmp_files
from tests.conftest import run_crawl

if TYPE_CHECKING:
    from pathlib import Path


def test_without_jobdir_the_queue_lives_in_a_scratch_folder(tmp_path: Path) -> None:
    crawler = get_crawler(Spider, settings_dict={"OUTPUT_DIR": str(tmp_path)})
    scheduler = DiskScheduler.from_crawler(crawler)
    assert scheduler.scratch is not None
    assert scheduler.scratch.is_dir()
    assert scheduler.scratch.parent == tmp_path / "state" / "tmp"
    assert scheduler.dqdir == str(scheduler.scratch / "requests.queue")


def test_the_scratch_folder_of_a_killed_crawl_is_removed(tmp_path: Path) -> None:
    folder = tmp_path / "requests-queue-abcd.999999999.tmp"
    (folder / "requests.queue").mkdir(parents=True)
    (folder / "requests.queue" / "p0").write_bytes(b"pending")
    assert remove_stale_tmp_files(tmp_path) == [folder]
    assert not folder.exists()


def test_with_jobdir_it_is_scrapys_scheduler(tmp_path: Path) -> None:
    crawler = get_crawler(
        Spider, settings_dict={"OUTPUT_DIR": str(tmp_path), "JOBDIR": str(tmp_path / "job")}
    )
    scheduler = DiskScheduler.from_crawler(crawler)
    assert scheduler.scratch is None
    assert scheduler.dqdir == str(tmp_path / "job" / "requests.queue")
    scheduler.df.close("finished")


def test_a_crawl_queues_on_disk(tmp_path: Path, site_url: str) -> None:
    result = run_crawl(tmp_path, "-a", f"sitemaps={site_url}/sitemap.xml")
    assert result.returncode == 0, result.log[-3000:]
    assert result.stats["scheduler/enqueued/disk"] >= 20
    assert "scheduler/enqueued/memory" not in result.stats
    assert "scheduler/unserializable" not in result.stats
    assert list((tmp_path / "state" / "tmp").iterdir()) == []
