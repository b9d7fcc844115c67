"""Dedupe stage: one row per story, across URLs, runs and outlets.

Exact duplicates: the normalized URL or canonical URL (AMP, mobile and print pages point
theirs to the article), or the content hash, is already in the dataset. Near-duplicates: the
text is close to a stored one (MinHash over shingles, see ``pipelines/near_duplicates.py``),
as when another outlet republishes a wire story in its own template with a sentence changed.

What is "already stored" is the persistent state of ``OUTPUT_DIR`` (from every earlier crawl)
plus what this crawl accepted and has not committed yet. The state learns a row only once the
data file holding it is committed (``articles_committed``), so an article whose file was lost
in a crash is fetched and stored again by the next crawl.

Policy ``drop`` (default) drops the copy and records it in the ``copies`` table of
``OUTPUT_DIR/state/near-duplicates.sqlite3`` (its URL, the kept row's id, how it matched);
``flag`` keeps the copy with ``duplicate_of`` set to the kept row's id.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Self

import redis
from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured

from crawler.redis_mode import WorkerRegistry, redis_url
from crawler.shared_state import Claims, CopiesLog, RedisCrawlState, RedisNearIndex
from crawler.state import CrawlState
from pipelines.dataset import state_dir, state_dir_setting
from pipelines.near_duplicates import (
    DEFAULT_THRESHOLD,
    NearDuplicateIndex,
    PendingIndex,
    Signer,
    reusable_signature,
)
from pipelines.signals import articles_committed
from pipelines.storage import DatasetLocation, dataset_location, location_of, read_table_at

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

NEAR_STATE_FILE = "near-duplicates.sqlite3"
POLICIES = frozenset({"drop", "flag"})
_COPIES = """
CREATE TABLE IF NOT EXISTS copies (
    url TEXT NOT NULL, kept_id TEXT, kind TEXT NOT NULL, similarity REAL, seen_at TEXT NOT NULL
);
"""


class DuplicateArticle(DropItem):
    """The article's URL, canonical URL or text is already in the dataset (or in this crawl),
    or its text is a near-copy of a stored one."""


class StateUnavailable(DropItem):
    """Redis mode: the shared state cannot be reached, so no duplicate check is possible."""


class DedupePipeline:
    """Drops (or flags) exact and near duplicates, within a crawl and across crawls.

    Settings: ``DEDUPE_ENABLED`` (``True``), ``DEDUPE_POLICY`` (``drop`` or ``flag``),
    ``DEDUPE_NEAR_ENABLED`` (``True``), ``DEDUPE_NEAR_THRESHOLD`` (``0.5``: estimated Jaccard
    similarity of shingle sets from which two texts are one story); state in ``OUTPUT_DIR``.
    """

    DEFAULT_POLICY = "drop"
    DEFAULT_NEAR_THRESHOLD = DEFAULT_THRESHOLD

    def __init__(
        self,
        stats: StatsCollector,
        *,
        output_dir: Path | None = None,
        location: DatasetLocation | None = None,
        state_folder: Path | None = None,
        policy: str = DEFAULT_POLICY,
        near: bool = True,
        near_threshold: float = DEFAULT_NEAR_THRESHOLD,
        registry: WorkerRegistry | None = None,
    ) -> None:
        self.stats = stats
        if location is None:
            assert output_dir is not None, "give output_dir or location"
            location = location_of(output_dir)
        self.location = location
        """The dataset (local or in an object store)."""
        self.state_folder = state_folder or state_dir(location.local_dir())
        """The local folder of the embedded state."""
        self.policy = policy
        self.near = near
        self.near_threshold = near_threshold
        self.registry = registry
        """Redis mode: the state is shared by every worker (``None``: embedded)."""
        self.state: CrawlState | RedisCrawlState | None = None
        self.index: NearDuplicateIndex | RedisNearIndex | None = None
        self.claims: Claims | None = None
        self.copies_log: CopiesLog | None = None
        self.pending_index = PendingIndex(threshold=near_threshold)
        # Keys of accepted articles whose data file is not committed yet.
        self.pending_urls: set[str] = set()
        self.pending_hashes: set[str] = set()
        self.copies: sqlite3.Connection | None = None

    @cached_property
    def signer(self) -> Signer:
        """Made when first needed: with extraction workers, they sign the texts (and making
        one imports datasketch and scipy, about 0.4 s)."""
        return Signer()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("DEDUPE_ENABLED", True):
            raise NotConfigured("DEDUPE_ENABLED is off")
        policy = str(settings.get("DEDUPE_POLICY", cls.DEFAULT_POLICY)).lower()
        if policy not in POLICIES:
            raise NotConfigured(f"DEDUPE_POLICY must be one of {sorted(POLICIES)}, not {policy!r}")
        threshold = settings.getfloat("DEDUPE_NEAR_THRESHOLD", cls.DEFAULT_NEAR_THRESHOLD)
        if not 0.0 < threshold <= 1.0:
            raise NotConfigured(f"DEDUPE_NEAR_THRESHOLD must be in (0, 1], not {threshold}")
        assert crawler.stats is not None
        pipeline = cls(
            crawler.stats,
            location=dataset_location(settings),
            state_folder=state_dir_setting(settings),
            policy=policy,
            near=settings.getbool("DEDUPE_NEAR_ENABLED", True),
            near_threshold=threshold,
            registry=WorkerRegistry.for_crawler(crawler) if redis_url(settings) else None,
        )
        crawler.signals.connect(pipeline.on_articles_committed, signal=articles_committed)
        # Closed after every pipeline has flushed (close_spider methods run concurrently).
        crawler.signals.connect(pipeline.close_state, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        if self.registry is not None:
            client, prefix = self.registry.client, self.registry.prefix
            self.state = RedisCrawlState(client, prefix)
            self.index = RedisNearIndex(
                client, prefix, self.registry, threshold=self.near_threshold
            )
            self.claims = Claims(client, prefix, self.registry)
            self.copies_log = CopiesLog(client, prefix)
        else:
            folder = self.state_folder
            self.state = CrawlState.open(folder)
            self.index = NearDuplicateIndex(folder / NEAR_STATE_FILE, threshold=self.near_threshold)
            self.copies = sqlite3.connect(folder / NEAR_STATE_FILE, timeout=30.0)
            with self.copies:
                self.copies.executescript(_COPIES)
        recovered = self.state.recover(self.location)
        if recovered:
            self._index_files(recovered)
            self.stats.inc_value("news/dedupe/files_recovered", len(recovered))
            logger.warning("Recorded %d data files the state did not know yet", len(recovered))

    def _index_files(self, names: list[str]) -> None:
        """Signatures of the rows of data files the near-duplicate index missed (a crawl died
        between writing them and recording them)."""
        assert self.index is not None
        for name in names:
            table = read_table_at(self.location, name, columns=["id", "content_hash", "text"])
            entries = []
            columns = (column.to_pylist() for column in table.columns)
            for row_id, content_hash, text in zip(*columns, strict=True):
                signature = self.signer.signature(text or "")
                if signature is not None:
                    entries.append((content_hash, row_id, signature))
            self.index.add_many(entries)

    def close_state(self) -> None:
        if self.claims is not None and self.registry is not None:
            # rows not committed (a write error): other workers may take these articles
            try:
                self.claims.release_all(self.registry.worker_id)
            except redis.RedisError as exc:  # they lapse with this worker's heartbeat
                logger.warning("Cannot release this worker's claims: %s", exc)
        for resource in (self.state, self.index, self.copies):
            if resource is not None:
                resource.close()
        self.pending_index.close()
        self.state = self.index = self.copies = None
        self.claims = self.copies_log = None

    def duplicate_of(
        self,
        url: str,
        canonical_url: str | None,
        content_hash: str,
        *,
        new_version: bool = False,
    ) -> str | None:
        """What the article duplicates exactly (``"url"`` or ``"content"``), or ``None``.

        A ``new_version`` (a stored page fetched again because it changed) may share its URL
        with a stored row, not its text.
        """
        assert self.state is not None, "open_spider() was not called"
        for key in dict.fromkeys(filter(None, (url, canonical_url))):
            if key in self.pending_urls or (not new_version and self.state.has_url(key)):
                return "url"
        if content_hash in self.pending_hashes or self.state.has_content(content_hash):
            return "content"
        return None

    def process_item(self, item: Any) -> Any:
        try:
            return self._process(item)
        except redis.RedisError as exc:
            # Redis mode with the server gone: the worker is stopping; the article's request
            # stays recorded in Redis, so the next worker fetches it again
            self.stats.inc_value("news/dedupe/state_unavailable")
            raise StateUnavailable(
                f"StateUnavailable: cannot reach the shared state ({exc}) "
                f"<{ItemAdapter(item).get('url')}>"
            ) from None

    def _process(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        url, canonical = adapter["url"], adapter.get("canonical_url")
        content_hash = adapter["content_hash"]
        new_version = bool(adapter.get("refetch"))
        kind = self.duplicate_of(url, canonical, content_hash, new_version=new_version)
        if kind is not None:
            self.stats.inc_value(f"news/dedupe/duplicate/{kind}")
            if kind == "content":
                self._record_copy(url, self._kept_id(content_hash), kind, 1.0)
            raise DuplicateArticle(f"DuplicateArticle: same {kind} already stored <{url}>")
        signature = self._signature(adapter) if self.near else None
        adapter["precomputed"] = None  # used up
        # a new version of a stored page resembles its old version, not a copy of another
        if signature is not None and not new_version:
            match = self.pending_index.find(signature) or self._stored_index().find(signature)
            if match is not None:
                self.stats.inc_value("news/dedupe/duplicate/near")
                if self.policy == "drop":
                    self._record_copy(url, match.row_id, "near", match.similarity)
                    raise DuplicateArticle(
                        f"DuplicateArticle: {match.similarity:.0%} like stored row "
                        f"{match.row_id} <{url}>"
                    )
                adapter["duplicate_of"] = match.row_id
                signature = None  # a flagged copy is not an original for later copies
        if self.claims is not None:
            self._claim(url, canonical, content_hash, new_version=new_version)
        self.pending_urls.update(filter(None, (url, canonical)))
        self.pending_hashes.add(content_hash)
        if signature is not None:
            self.pending_index.add(content_hash, adapter["id"], signature)
            if isinstance(self.index, RedisNearIndex):
                self.index.add_pending(content_hash, adapter["id"], signature)
        self.stats.inc_value("news/dedupe/unique")
        return item

    def _claim(
        self, url: str, canonical: str | None, content_hash: str, *, new_version: bool
    ) -> None:
        """Redis mode: claim the article's keys, so that no other worker accepts it before
        this one commits it; then look at the state again (a worker commits first and
        releases after, so the claim and this look leave no gap between them)."""
        assert self.claims is not None
        urls = [key for key in dict.fromkeys((url, canonical)) if key]
        kind = self.claims.claim(urls, content_hash)
        if kind is None:
            kind = self.duplicate_of(url, canonical, content_hash, new_version=new_version)
            if kind is not None:
                self.claims.release(urls, [content_hash])
        if kind is not None:
            self.stats.inc_value(f"news/dedupe/duplicate/{kind}")
            raise DuplicateArticle(f"DuplicateArticle: same {kind} taken by another worker <{url}>")

    def _signature(self, adapter: ItemAdapter) -> np.ndarray | None:
        """The text's signature: the extraction worker's when it signed this very text."""
        reused, signature = reusable_signature(adapter.get("precomputed"), adapter["content_hash"])
        if reused:
            self.stats.inc_value("news/dedupe/signature_reused")
            return signature
        return self.signer.signature(adapter.get("text") or "")

    def _stored_index(self) -> NearDuplicateIndex | RedisNearIndex:
        assert self.index is not None, "open_spider() was not called"
        return self.index

    def _kept_id(self, content_hash: str) -> str | None:
        return self.pending_index.row_id(content_hash) or self._stored_index().row_id(content_hash)

    def _record_copy(self, url: str, kept_id: str | None, kind: str, similarity: float) -> None:
        if self.copies_log is not None:
            self.copies_log.record(url, kept_id, kind, similarity)
        if self.copies is None:
            return
        with self.copies:
            self.copies.execute(
                "INSERT INTO copies VALUES (?, ?, ?, ?, ?)",
                (url, kept_id, kind, similarity, datetime.now(UTC).isoformat()),
            )

    def on_articles_committed(self, file: str, keys: list[tuple[Any, ...]]) -> None:
        if self.state is None:
            return
        try:
            self.state.record_file(file, keys)
        except (sqlite3.Error, redis.RedisError) as exc:
            # The file is in the dataset; the next crawl records it from there (recover()).
            self.stats.inc_value("news/dedupe/state_error")
            logger.error("Cannot record %s in the crawl state (%s): the next crawl will", file, exc)
        committed = []
        for url, canonical, content_hash, *_ in keys:
            self.pending_urls.discard(url)
            if canonical:
                self.pending_urls.discard(canonical)
            self.pending_hashes.discard(content_hash)
            pending = self.pending_index.entry(content_hash)
            if pending is not None:
                committed.append((content_hash, *pending))
        if committed and self.index is not None:
            try:
                self.index.add_many(committed)
            except (sqlite3.Error, redis.RedisError) as exc:
                self.stats.inc_value("news/dedupe/state_error")
                logger.error("Cannot add the texts of %s to the near index: %s", file, exc)
            self.pending_index.remove_many(content_hash for content_hash, *_ in committed)
        if self.claims is not None:
            # after the state learnt the rows: another worker now finds them there
            try:
                self.claims.release(
                    [key for url, canonical, *_ in keys for key in (url, canonical) if key],
                    [content_hash for _, _, content_hash, *_ in keys],
                )
            except redis.RedisError as exc:  # they expire with this worker's heartbeat
                logger.warning("Cannot release the claims of %s: %s", file, exc)
