"""Site boilerplate stage: lines that repeat on many pages of one site are not article text.

Every site has furniture that no generic rule knows ("Subscribe to our Telegram channel",
"Sputnik Africa is now on X", a standard disclaimer). Within a crawl this stage counts, per
site, on how many pages each paragraph occurs; once a site has ``min_pages`` pages and a
paragraph occurs on at least ``min_share`` of them, that paragraph is stripped from the site's
articles. What was learned is kept in ``OUTPUT_DIR/state/site-boilerplate.sqlite3``, so the next
crawl strips it from the first page on.

:class:`SiteBoilerplate` is the plain learner (no Scrapy); :class:`SiteBoilerplatePipeline`
the Scrapy component.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import redis
from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.redis_mode import WorkerRegistry, redis_url
from crawler.shared_state import RedisSiteBoilerplateStore
from pipelines.dataset import state_dir_setting
from pipelines.extract import NotAnArticle
from pipelines.normalize import text_size

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

STATE_FILE = "site-boilerplate.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sites (site TEXT PRIMARY KEY, pages INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pages (digest BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lines (
    site TEXT NOT NULL, digest BLOB NOT NULL, pages INTEGER NOT NULL,
    PRIMARY KEY (site, digest)
) WITHOUT ROWID;
"""


def line_key(paragraph: str) -> bytes:
    """The identity of a paragraph: its text without case and white space, hashed."""
    text = "".join(paragraph.split()).casefold()
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()


def site_of(url: str) -> str:
    """The site a URL belongs to: its host without ``www.``."""
    return (urlsplit(url).hostname or "").removeprefix("www.")


@dataclass
class SiteLines:
    """What is known of one site: pages seen, and on how many of them each line occurred."""

    pages: int = 0
    counts: dict[bytes, int] = field(default_factory=dict)
    dirty: bool = False
    added: dict[bytes, int] = field(default_factory=dict)
    """Pages each line was counted on since the last save (saved alone, unless ``rewrite``)."""
    pages_added: int = 0
    """Pages counted since the last save."""
    rewrite: bool = False
    """Lines were forgotten since the last save: the site's table is written whole."""


class SiteBoilerplate:
    """Learns each site's repeated lines and strips them.

    Memory stays bounded: a site keeps at most ``max_lines`` line counts; beyond that the
    rarest are forgotten (they cannot be boilerplate soon).
    """

    def __init__(
        self,
        *,
        min_pages: int = 6,
        min_share: float = 0.4,
        max_lines: int = 5000,
        max_line_chars: int = 500,
    ) -> None:
        self.min_pages = min_pages
        self.min_share = min_share
        self.max_lines = max_lines
        self.max_line_chars = max_line_chars
        self.sites: dict[str, SiteLines] = {}

    def site(self, name: str) -> SiteLines:
        """The site's table, made the most recently used one (``sites`` keeps that order)."""
        site = self.sites.pop(name, None) or SiteLines()
        self.sites[name] = site
        return site

    def forget_oldest(self, keep: int) -> list[str]:
        """Drop the tables of the least recently used sites, keeping ``keep``; returns their
        names (save them first: what was learned is lost otherwise)."""
        names = list(self.sites)[: max(len(self.sites) - keep, 0)]
        for name in names:
            del self.sites[name]
        return names

    def observe(self, name: str, paragraphs: Iterable[str]) -> None:
        """Count the (distinct) paragraphs of one page of site ``name``."""
        site = self.site(name)
        site.pages += 1
        site.pages_added += 1
        site.dirty = True
        for digest in {line_key(p) for p in paragraphs if len(p) <= self.max_line_chars}:
            site.counts[digest] = site.counts.get(digest, 0) + 1
            site.added[digest] = site.added.get(digest, 0) + 1
        if len(site.counts) > self.max_lines:
            self.forget_rarest(site)
            site.rewrite = True

    def forget_rarest(self, site: SiteLines) -> None:
        """Keep the most frequent half of ``max_lines`` of the site's line counts."""
        floor = 1
        while len(site.counts) > self.max_lines // 2:
            site.counts = {d: n for d, n in site.counts.items() if n > floor}
            floor += 1

    def is_boilerplate(self, name: str, paragraph: str) -> bool:
        site = self.sites.get(name)
        if site is None or site.pages < self.min_pages or len(paragraph) > self.max_line_chars:
            return False
        seen = site.counts.get(line_key(paragraph), 0)
        return seen >= self.min_pages and seen >= self.min_share * site.pages

    def strip(self, name: str, paragraphs: list[str]) -> list[str]:
        """The paragraphs that are not boilerplate of site ``name``."""
        return [p for p in paragraphs if not self.is_boilerplate(name, p)]


class SiteBoilerplateStore:
    """The learner's persistent state: an embedded SQLite database."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._db:
            self._db.executescript(_SCHEMA)

    def first_visit(self, url: str) -> bool:
        """Record a page; ``False`` when it was counted before (a recrawl of a stored page
        must not count its lines twice). Committed by :meth:`save`, with the counts."""
        digest = hashlib.blake2b(url.encode("utf-8"), digest_size=16).digest()
        cursor = self._db.execute("INSERT OR IGNORE INTO pages VALUES (?)", (digest,))
        return cursor.rowcount == 1

    def load(self, learner: SiteBoilerplate, name: str) -> None:
        """Load what is known of site ``name`` into the learner (once per crawl)."""
        if name in learner.sites:
            return
        row = self._db.execute("SELECT pages FROM sites WHERE site = ?", (name,)).fetchone()
        site = learner.site(name)
        if row is None:
            return
        site.pages = row[0]
        query = "SELECT digest, pages FROM lines WHERE site = ?"
        site.counts = {bytes(digest): pages for digest, pages in self._db.execute(query, (name,))}

    def save(self, learner: SiteBoilerplate) -> int:
        """Write what changed in every site (and the pages counted), in one transaction;
        returns how many sites."""
        changed = [(name, site) for name, site in learner.sites.items() if site.dirty]
        with self._db:
            for name, site in changed:
                self._db.execute("INSERT OR REPLACE INTO sites VALUES (?, ?)", (name, site.pages))
                if site.rewrite:
                    self._db.execute("DELETE FROM lines WHERE site = ?", (name,))
                    digests: Iterable[bytes] = site.counts
                else:
                    digests = [d for d in site.added if d in site.counts]
                self._db.executemany(
                    "INSERT OR REPLACE INTO lines VALUES (?, ?, ?)",
                    [(name, digest, site.counts[digest]) for digest in digests],
                )
                site.dirty = site.rewrite = False
                site.added, site.pages_added = {}, 0
        return len(changed)

    def close(self) -> None:
        self._db.close()


class SiteBoilerplatePipeline:
    """Strips lines that repeat across a site's pages (runs after the extract stage).

    Settings: ``SITE_BOILERPLATE_ENABLED`` (``True``), ``SITE_BOILERPLATE_MIN_PAGES`` (``6``:
    pages of a site seen before anything is stripped, and pages a line must occur on),
    ``SITE_BOILERPLATE_MIN_SHARE`` (``0.4``: share of the site's pages a line must occur on),
    ``SITE_BOILERPLATE_MAX_LINES`` (``5000``: line counts kept per site),
    ``SITE_BOILERPLATE_SAVE_EVERY`` (``500``: pages between two saves of the state),
    ``SITE_BOILERPLATE_MAX_SITES`` (``1000``: site tables kept in memory; beyond that the least
    recently seen are saved and dropped, and loaded again when their site comes back).
    """

    DEFAULT_MIN_PAGES = 6
    DEFAULT_MIN_SHARE = 0.4
    DEFAULT_MAX_LINES = 5000
    DEFAULT_SAVE_EVERY = 500
    DEFAULT_MAX_SITES = 1000

    def __init__(
        self,
        stats: StatsCollector,
        *,
        state_folder: Path,
        learner: SiteBoilerplate,
        save_every: int,
        min_text_chars: int,
        max_sites: int = DEFAULT_MAX_SITES,
        registry: WorkerRegistry | None = None,
    ) -> None:
        self.stats = stats
        self.state_folder = state_folder
        """The local folder of the embedded store."""
        self.learner = learner
        self.save_every = save_every
        self.min_text_chars = min_text_chars
        self.max_sites = max_sites
        self.registry = registry
        """Redis mode: what is learnt is shared by every worker (``None``: embedded)."""
        self.store: SiteBoilerplateStore | RedisSiteBoilerplateStore | None = None
        self.pages = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("SITE_BOILERPLATE_ENABLED", True):
            raise NotConfigured("SITE_BOILERPLATE_ENABLED is off")
        min_pages = settings.getint("SITE_BOILERPLATE_MIN_PAGES", cls.DEFAULT_MIN_PAGES)
        min_share = settings.getfloat("SITE_BOILERPLATE_MIN_SHARE", cls.DEFAULT_MIN_SHARE)
        max_lines = settings.getint("SITE_BOILERPLATE_MAX_LINES", cls.DEFAULT_MAX_LINES)
        save_every = settings.getint("SITE_BOILERPLATE_SAVE_EVERY", cls.DEFAULT_SAVE_EVERY)
        max_sites = settings.getint("SITE_BOILERPLATE_MAX_SITES", cls.DEFAULT_MAX_SITES)
        if max_sites < 1:
            raise NotConfigured(f"SITE_BOILERPLATE_MAX_SITES must be at least 1, not {max_sites}")
        if min_pages < 2:
            raise NotConfigured(f"SITE_BOILERPLATE_MIN_PAGES must be at least 2, not {min_pages}")
        if not 0.0 < min_share <= 1.0:
            raise NotConfigured(f"SITE_BOILERPLATE_MIN_SHARE must be in (0, 1], not {min_share}")
        if max_lines < 100 or save_every < 1:
            raise NotConfigured(
                "SITE_BOILERPLATE_MAX_LINES must be at least 100 and "
                f"SITE_BOILERPLATE_SAVE_EVERY at least 1 (got {max_lines}, {save_every})"
            )
        assert crawler.stats is not None
        pipeline = cls(
            crawler.stats,
            state_folder=state_dir_setting(settings),
            learner=SiteBoilerplate(min_pages=min_pages, min_share=min_share, max_lines=max_lines),
            save_every=save_every,
            min_text_chars=settings.getint("EXTRACT_MIN_TEXT_CHARS", 200),
            max_sites=max_sites,
            registry=WorkerRegistry.for_crawler(crawler) if redis_url(settings) else None,
        )
        crawler.signals.connect(pipeline.close_store, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        if self.registry is not None:
            self.store = RedisSiteBoilerplateStore(self.registry.client, self.registry.prefix)
        else:
            self.store = SiteBoilerplateStore(self.state_folder / STATE_FILE)

    def close_store(self) -> None:
        if self.store is None:
            return
        try:
            self.store.save(self.learner)
        # disk full, or Redis gone: what was learned since the last save is lost
        except (sqlite3.Error, redis.RedisError) as exc:
            self.stats.inc_value("news/site_boilerplate/save_error")
            logger.error("Cannot save the learned site boilerplate: %s", exc)
        finally:
            self.store.close()
            self.store = None

    def process_item(self, item: Any) -> Any:
        try:
            return self._process(item)
        except redis.RedisError as exc:
            # Redis mode with the server gone: the page goes on as extracted (the worker is
            # stopping, and the dedupe stage drops it: nothing can be checked)
            self.stats.inc_value("news/site_boilerplate/state_unavailable")
            logger.debug("Cannot reach the shared site boilerplate: %s", exc)
            return item

    def _process(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        site = site_of(adapter.get("canonical_url") or adapter["url"])
        if self.store is not None:
            self.store.load(self.learner, site)
            if len(self.learner.sites) > self.max_sites:
                self.store.save(self.learner)
                forgotten = self.learner.forget_oldest(self.max_sites // 2 or 1)
                self.stats.inc_value("news/site_boilerplate/sites_unloaded", len(forgotten))
        paragraphs = [p for p in (adapter.get("text") or "").split("\n\n") if p.strip()]
        if self.store is None or self.store.first_visit(adapter["url"]):
            self.learner.observe(site, paragraphs)
        kept = self.learner.strip(site, paragraphs)
        removed = len(paragraphs) - len(kept)
        if removed:
            self.stats.inc_value("news/site_boilerplate/lines_removed", removed)
            self.stats.inc_value("news/site_boilerplate/pages_cleaned")
            adapter["text"] = "\n\n".join(kept)
        self.pages += 1
        if self.store is not None and self.pages % self.save_every == 0:
            try:
                self.store.save(self.learner)
            except (sqlite3.Error, redis.RedisError) as exc:
                self.stats.inc_value("news/site_boilerplate/save_error")
                logger.error("Cannot save the learned site boilerplate: %s", exc)
        if removed and text_size(adapter["text"]) < self.min_text_chars:
            self.stats.inc_value("news/site_boilerplate/dropped")
            raise NotAnArticle(
                f"NotAnArticle: little text besides the site's boilerplate <{adapter['url']}>"
            )
        return item
