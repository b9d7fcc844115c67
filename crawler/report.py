"""The crawl report: each crawl's final stats and finish reason, kept beside the dataset.

Written to ``STATE_DIR/crawls/<start time>-<pid>.json`` (``OUTPUT_DIR/state/crawls/`` by
default) when the spider closes, so that
schedulers, monitoring and ``scrapy summary`` can see what every run did (dropped items by
reason, fetch errors, rows written).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured

from dataset.layout import CRAWLS
from pipelines.locations import state_dir_setting
from pipelines.setting import flag, integer

if TYPE_CHECKING:
    from pathlib import Path

    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

REPORT_ENABLED = flag("REPORT_ENABLED", True, "write each crawl's stats to `STATE_DIR/crawls/`")
REPORT_KEEP = integer(
    "REPORT_KEEP",
    1000,
    "crawl reports kept in `STATE_DIR/crawls/`: a crawl that writes its own deletes the oldest "
    "(by name: their start) beyond this many; `0` keeps every one",
    minimum=0,
)
SETTINGS = (REPORT_ENABLED, REPORT_KEEP)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


def latest_report_in(state: Path) -> dict[str, Any] | None:
    """The newest crawl report kept in the ``STATE_DIR`` ``state``, or ``None``; ``ValueError``
    (naming it) when it cannot be read."""
    reports = sorted((state / CRAWLS).glob("*.json"))
    if not reports:
        return None
    try:
        report = json.loads(reports[-1].read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError too
        raise ValueError(f"cannot read the crawl report {reports[-1]}: {exc}") from None
    if not isinstance(report, dict):
        raise ValueError(f"cannot read the crawl report {reports[-1]}: not a crawl report")
    return report


class CrawlReport:
    """Extension writing the crawl report."""

    def __init__(self, crawler: Crawler, state: Path, keep: int = 0) -> None:
        self.crawler = crawler
        self.state = state
        """The ``STATE_DIR``: reports go to its ``crawls/`` folder."""
        self.keep = keep
        """Reports kept (:data:`REPORT_KEEP`); ``0``: every one."""
        self.started = datetime.now(UTC)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not REPORT_ENABLED.read(crawler.settings):
            raise NotConfigured("REPORT_ENABLED is off")
        settings = crawler.settings
        extension = cls(crawler, state_dir_setting(settings), REPORT_KEEP.read(settings))
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider: Spider, reason: str) -> None:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        report = {
            "spider": spider.name,
            "started_at": _jsonable(self.started),
            "finished_at": _jsonable(datetime.now(UTC)),
            "finish_reason": reason,
            "pid": os.getpid(),
            "stats": {key: _jsonable(value) for key, value in sorted(stats.items())},
        }
        folder = self.state / CRAWLS
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.started:%Y%m%dT%H%M%S.%fZ}-{os.getpid()}.json"
        tmp = path.with_suffix(".json.tmp")
        try:
            tmp.write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:  # a full disk: the stats are still in the log
            tmp.unlink(missing_ok=True)
            logger.error("Cannot write the crawl report %s: %s", path, exc)
            return
        logger.info("Crawl report written to %s", path)
        if self.keep:
            self._prune(folder, path)

    def _prune(self, folder: Path, written: Path) -> None:
        """Delete the oldest reports beyond :attr:`keep` (never the one just written: a clock
        set ahead may have named others after it), so that the folder does not grow with the
        runs."""
        reports = sorted(path for path in folder.glob("*.json") if path != written)
        failed: list[OSError] = []
        for path in reports[: max(len(reports) + 1 - self.keep, 0)]:
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:  # a read-only folder: the reports stay, the crawl goes on
                failed.append(exc)
        if failed:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("news/report/prune_error")
            logger.warning(
                "Cannot delete %d old crawl reports beyond REPORT_KEEP=%d in %s: %s",
                len(failed),
                self.keep,
                folder,
                failed[0],
            )
