"""extraction.memory and crawler.memory: the memory a process frees is given back to the
system (glibc's malloc_trim), every so many pages in a worker, every interval in the crawl."""

from __future__ import annotations

import subprocess
import sys

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.memory import MEMORY_TRIM_INTERVAL, MemoryTrim
from extraction import worker
from extraction.memory import WORKER_TRIM_PAGES, give_back
from extraction.worker import PageOptions, process_page
from pipelines.setting import SettingError

FREED_BUT_KEPT = """
from extraction.memory import give_back
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) >> 10
chunks = [bytes(4000) for _ in range(50_000)]  # ~200 MB of small blocks of the C heap
last = chunks[-1]  # the heap's top stays in use: free() alone gives nothing back
del chunks
before = rss()
print(before, give_back(), rss())
"""


def test_freed_memory_goes_back_to_the_system() -> None:
    done = subprocess.run(
        [sys.executable, "-c", FREED_BUT_KEPT], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    before, trimmed, after = done.stdout.split()
    if trimmed == "False":
        pytest.skip("not glibc: nothing to trim")
    assert int(before) > 150  # MiB: freed, still counted
    assert int(after) < int(before) - 150


def test_give_back_says_whether_it_could() -> None:
    assert give_back() in (True, False)


def test_a_worker_trims_every_so_many_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[int] = []

    def counted() -> bool:
        trims.append(1)
        return True

    monkeypatch.setattr(worker, "give_back", counted)
    for _ in range(3 * WORKER_TRIM_PAGES):
        process_page(b"", "https://x.test/a", "text/html", PageOptions())  # rejected: empty
    assert len(trims) == 3


def test_the_crawl_process_trims_on_an_interval_and_at_the_end() -> None:
    extension = MemoryTrim.from_crawler(get_crawler(settings_dict={"MEMORY_TRIM_INTERVAL": "5s"}))
    assert extension.interval == 5
    extension.spider_closed()
    assert extension.trims == (1 if give_back() else 0)


def test_settings() -> None:
    with pytest.raises(NotConfigured):
        MemoryTrim.from_crawler(get_crawler(settings_dict={"MEMORY_TRIM_ENABLED": False}))
    with pytest.raises(SettingError):
        MemoryTrim.from_crawler(get_crawler(settings_dict={"MEMORY_TRIM_INTERVAL": "0s"}))
    assert MEMORY_TRIM_INTERVAL.default.total_seconds() == 10
