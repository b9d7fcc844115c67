"""Scrapy's request dupefilter with its fingerprints on disk, so memory stays flat.

Scrapy's :class:`~scrapy.dupefilters.RFPDupeFilter` keeps every request fingerprint of the
crawl in a Python set (about 80 bytes each, for the whole crawl). This one keeps them in an
SQLite table: in ``JOBDIR`` when there is one (kept across pause and resume, like Scrapy's
``requests.seen``), else in a file of ``STATE_DIR/tmp/`` removed when the crawl ends.
Set ``DUPEFILTER_CLASS`` to Scrapy's class to go back to memory.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Self

from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.job import job_dir

from dataset.layout import TMP, scratch_name
from dataset.state.embedded import connect
from pipelines.locations import state_dir_setting

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request
    from scrapy.utils.request import RequestFingerprinterProtocol

logger = logging.getLogger(__name__)

SEEN_FILE = "requests-seen.sqlite3"
COMMIT_EVERY = 1000


class DiskDupeFilter(RFPDupeFilter):
    """Filters requests whose fingerprint was seen, looking them up in SQLite."""

    def __init__(
        self,
        database: Path,
        *,
        keep: bool,
        debug: bool = False,
        fingerprinter: RequestFingerprinterProtocol | None = None,
    ) -> None:
        super().__init__(None, debug, fingerprinter=fingerprinter)
        self.database = database
        self.keep = keep
        database.parent.mkdir(parents=True, exist_ok=True)
        self._db = connect(database, isolation_level=None)
        if not keep:  # a scratch file: no need to survive a power cut
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("CREATE TABLE IF NOT EXISTS seen (fp BLOB PRIMARY KEY) WITHOUT ROWID")
        self._db.execute("BEGIN")
        self._pending = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        jobdir = job_dir(settings)
        if jobdir:
            database, keep = Path(jobdir) / SEEN_FILE, True
        else:
            # named like the writer's temporary files: removed if the crawl dies
            name = scratch_name("requests-seen")
            database, keep = state_dir_setting(settings) / TMP / name, False
        return cls(
            database,
            keep=keep,
            debug=settings.getbool("DUPEFILTER_DEBUG"),
            fingerprinter=crawler.request_fingerprinter,
        )

    def request_seen(self, request: Request) -> bool:
        fingerprint = self._fingerprint(request)
        cursor = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (fingerprint,))
        if cursor.rowcount == 0:
            return True
        self._pending += 1
        if self._pending >= COMMIT_EVERY:
            self._db.execute("COMMIT")
            self._db.execute("BEGIN")
            self._pending = 0
        return False

    def close(self, reason: str) -> None:
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:  # a full disk: a scratch file is deleted anyway
            if self.keep:
                logger.error("Cannot save the seen requests in %s: %s", self.database, exc)
        finally:
            self._db.close()
            if not self.keep:
                self.database.unlink(missing_ok=True)
        super().close(reason)
