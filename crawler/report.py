"""The crawl report: each crawl's final stats and finish reason, kept beside the dataset.

Written to ``STATE_DIR/crawls/<start time>-<pid>.json`` (``OUTPUT_DIR/state/crawls/`` by
default) when the spider closes, so that
schedulers, monitoring and ``scrapy summary`` can see what every run did (dropped items by
reason, fetch errors, rows written). A report is written aside (``<name>.<host>-<pid>.tmp``) and
renamed: what a crawl killed meanwhile left is removed by the next crawl as it starts
(:func:`dataset.layout.left_behind`).
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured

from dataset.layout import CRAWLS, TMP_SUFFIX, left_behind, owner_tag
from pipelines.locations import state_dir_setting
from pipelines.setting import flag, integer
from pipelines.stats import REPORT_LEFTOVERS_REMOVED, REPORT_PRUNE_ERROR

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


CLOCK_SKEW = timedelta(minutes=5)
"""How far this machine's clock may differ from the one that wrote a crawl's times before a
time ahead of it is taken for a clock set wrong (the crawl's start checks it too)."""


def latest_report_in(state: Path, now: datetime | None = None) -> dict[str, Any] | None:
    """The report of the crawl that finished last (by its own ``finished_at``; by its start,
    its name, when it has none) among those kept in the ``STATE_DIR`` ``state``, or ``None``.
    Reports that finished after ``now`` (default: this machine's clock, :data:`CLOCK_SKEW`
    allowed) were written with a clock set ahead: the last crawl is one of them only when
    there is no other. ``ValueError`` (naming it) when one cannot be read."""
    found: list[tuple[datetime, str, dict[str, Any]]] = []
    for path in sorted((state / CRAWLS).glob("*.json")):
        report = _read_report(path)
        found.append((_finished(report, path.name), path.name, report))
    if not found:
        return None
    latest = (now or datetime.now(UTC)) + CLOCK_SKEW
    past = [entry for entry in found if entry[0] <= latest]
    return max(past or found, key=lambda entry: entry[:2])[2]


def _read_report(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError too
        raise ValueError(f"cannot read the crawl report {path}: {exc}") from None
    if not isinstance(report, dict):
        raise ValueError(f"cannot read the crawl report {path}: not a crawl report")
    return report


def _finished(report: dict[str, Any], name: str) -> datetime:
    """When the crawl of ``report`` (the file ``name``) finished, as far as it says: its
    ``finished_at``, else the start its name carries."""
    value = report.get("finished_at")
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None:
        try:
            when = datetime.strptime(name[:23], "%Y%m%dT%H%M%S.%fZ")
        except ValueError:
            return datetime.min.replace(tzinfo=UTC)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


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
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        """Remove the reports that crawls killed while writing them left (only of dead
        processes: :func:`dataset.layout.left_behind`), one line and a stat for them."""
        now = time.time()
        removed = 0
        for path in (self.state / CRAWLS).glob(f"*{TMP_SUFFIX}"):
            if left_behind(path, now):
                try:
                    path.unlink(missing_ok=True)
                except OSError:  # a read-only folder: the report cannot be written either
                    continue
                removed += 1
        if removed:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(REPORT_LEFTOVERS_REMOVED.name, removed)
            logger.info(
                "Removed %d unfinished crawl reports that killed crawls left in %s",
                removed,
                self.state / CRAWLS,
            )

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
        tmp = path.with_name(f"{path.name}.{owner_tag()}{TMP_SUFFIX}")
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
            self.crawler.stats.inc_value(REPORT_PRUNE_ERROR.name)
            logger.warning(
                "Cannot delete %d old crawl reports beyond REPORT_KEEP=%d in %s: %s",
                len(failed),
                self.keep,
                folder,
                failed[0],
            )
