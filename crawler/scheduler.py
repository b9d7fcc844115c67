"""Scrapy's scheduler with its pending requests on disk even without ``JOBDIR``.

A sitemap can hand the crawl 50,000 article URLs at once; Scrapy keeps pending requests in
memory unless a job directory is set. This scheduler uses Scrapy's own disk queues
(``SCHEDULER_DISK_QUEUE``) in a scratch folder of ``STATE_DIR/tmp/`` when no
``JOBDIR`` is given, removed when the crawl ends (a folder a killed crawl left is removed by the
next one). With ``JOBDIR`` it is Scrapy's scheduler, unchanged.
"""

from __future__ import annotations

import logging
import shutil
from typing import TYPE_CHECKING, Any, Self

from scrapy.core.scheduler import Scheduler
from scrapy.utils.job import job_dir
from scrapy.utils.misc import build_from_crawler, load_object

from dataset.layout import TMP, scratch_name
from pipelines.locations import state_dir_setting

if TYPE_CHECKING:
    from pathlib import Path

    from scrapy.crawler import Crawler
    from twisted.internet.defer import Deferred


logger = logging.getLogger(__name__)


class DiskScheduler(Scheduler):
    """Pending requests in disk queues, in ``JOBDIR`` or a scratch folder."""

    scratch: Path | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        jobdir = job_dir(settings)
        scratch = None
        if not jobdir:
            # named like the writer's temporary files: removed if the crawl dies
            name = scratch_name("requests-queue")
            scratch = state_dir_setting(settings) / TMP / name
            scratch.mkdir(parents=True)
            jobdir = str(scratch)
        scheduler = cls(
            dupefilter=build_from_crawler(load_object(settings["DUPEFILTER_CLASS"]), crawler),
            jobdir=jobdir,
            dqclass=load_object(settings["SCHEDULER_DISK_QUEUE"]),
            mqclass=load_object(settings["SCHEDULER_MEMORY_QUEUE"]),
            logunser=settings.getbool("SCHEDULER_DEBUG"),
            stats=crawler.stats,
            pqclass=load_object(settings["SCHEDULER_PRIORITY_QUEUE"]),
            crawler=crawler,
        )
        scheduler.scratch = scratch
        return scheduler

    def close(self, reason: str) -> Deferred[Any] | None:
        if self.scratch is None:
            return super().close(reason)
        try:
            # Scrapy saves the queues' state for a resume; a scratch folder is never resumed
            return super().close(reason)
        except OSError as exc:  # a full disk: nothing to keep anyway
            logger.warning("Could not close the scratch request queues cleanly: %s", exc)
            self.df.close(reason)  # Scrapy closes it after the queues: not reached
            return None
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)
