"""Redis mode: several crawler processes, on one or many machines, crawl into one dataset.

Switched on by ``REDIS_URL`` (e.g. ``redis://host:6379/0``); without it nothing here runs and
the crawl needs no server. :class:`RedisModeAddon` chooses, once, the components that share
the work:

* the shared request queue and request dupefilter (scrapy-redis, extended in
  ``crawler/frontier/`` so that a worker that dies loses nothing), and the spider middleware
  that tells the queue which requests are done;
* the crawl state's backend in Redis (``STATE_STORES``: :mod:`dataset.state.redis`): the
  stored keys, the near-duplicate index, the claims of pending articles, the copies log, the
  site boilerplate, and each worker's heartbeat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.settings import SETTINGS_PRIORITIES

from crawler.spiders.news import DISCOVERY_REFETCH_START
from pipelines.state import REDIS_STORES, REDIS_URL, STATE_STORES

if TYPE_CHECKING:
    from scrapy.settings import Settings

ACK_MIDDLEWARE = "crawler.frontier.FrontierAckMiddleware"
# Outermost spider middleware (closest to the engine): sees a callback's whole output.
ACK_MIDDLEWARE_ORDER = 1


class RedisModeAddon:
    """Turns Redis mode on when ``REDIS_URL`` is set: the shared scheduler and dupefilter, the
    crawl state in Redis, start listings through the shared request filter, and the spider
    middleware that tells the queue which requests are done. A ``SCHEDULER``,
    ``DUPEFILTER_CLASS``, ``STATE_STORES`` or ``DISCOVERY_REFETCH_START`` given on the command
    line or by a spider stays."""

    def update_settings(self, settings: Settings) -> None:
        if not REDIS_URL.read(settings):
            return
        for name, value in (
            ("SCHEDULER", "crawler.frontier.SharedScheduler"),
            ("DUPEFILTER_CLASS", "crawler.frontier.SharedDupeFilter"),
            (STATE_STORES.name, REDIS_STORES),
            # each worker runs start(); the shared request filter lets one fetch each listing
            (DISCOVERY_REFETCH_START.name, False),
        ):
            if (settings.getpriority(name) or 0) <= SETTINGS_PRIORITIES["project"]:
                settings.set(name, value, priority="project")
        # by class path (as set_in_component_priority_dict does with a class): importing the
        # frontier here would import scrapy-redis in every crawl
        middlewares = settings.getdict("SPIDER_MIDDLEWARES")
        middlewares[ACK_MIDDLEWARE] = ACK_MIDDLEWARE_ORDER
        settings.set(
            "SPIDER_MIDDLEWARES", middlewares, settings.getpriority("SPIDER_MIDDLEWARES") or 0
        )
