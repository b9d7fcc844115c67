"""Dedupe stage: one row per story, across URLs, runs and outlets.

Exact duplicates: the content hash is already in the dataset, or the normalized URL or
canonical URL (AMP, mobile and print pages point theirs to the article) is, with the same text
or a close one. Near-duplicates: the text is close to a stored one (MinHash over shingles, see
:mod:`extraction.signature`), as when another outlet republishes a wire story in its own
template with a sentence changed. A canonical URL is only the page's word: a page whose URL
or canonical URL is a stored row's, and whose text is unlike every stored one, is another
article (a CMS giving two articles one canonical URL, a live blog), kept
(``news/dedupe/canonical_conflict``).

What is "already stored" is the persistent state of ``OUTPUT_DIR`` (from every earlier crawl)
plus what this crawl accepted and has not committed yet. The state learns a row only once the
data file holding it is committed (``articles_committed``), so an article whose file was lost
in a crash is fetched and stored again by the next crawl.

Policy ``drop`` (default) drops the copy and records it in the crawl state's copies log (the
``copies`` table of ``STATE_DIR/near-duplicates.sqlite3`` in embedded mode: its URL, the kept
row's id, how it matched); ``flag`` keeps the copy with ``duplicate_of`` set to the kept row's
id. The state's stores come from its backend (``STATE_STORES``), whichever it is.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn, Self

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured

from dataset.layout import ARTICLES
from dataset.state.near_index import DEFAULT_THRESHOLD, PendingIndex
from dataset.storage import (
    UNREADABLE_FILE_ERRORS,
    DatasetLocation,
    location_of,
    read_table_at,
    stray_lines,
    unreadable_reason,
)
from extraction.signature import Signer, from_bytes
from pipelines.locations import dataset_location
from pipelines.setting import choice, flag, number
from pipelines.signals import articles_committed
from pipelines.state import state_stores
from pipelines.stats import (
    DEDUPE_CANONICAL_CONFLICT,
    DEDUPE_DUPLICATE,
    DEDUPE_DUPLICATE_NEAR,
    DEDUPE_FILES_FORGOTTEN,
    DEDUPE_FILES_RECOVERED,
    DEDUPE_FORGOTTEN,
    DEDUPE_SIGNATURE_REUSED,
    DEDUPE_STATE_ERROR,
    DEDUPE_STATE_UNAVAILABLE,
    DEDUPE_STRAY_FILES,
    DEDUPE_UNIQUE,
    DEDUPE_UNREADABLE_FILES,
)

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from dataset.state.base import Claims, CopiesLog, CrawlStateStore, NearIndex, StateStores
    from extraction.worker import Precomputed

logger = logging.getLogger(__name__)

DEDUPE_ENABLED = flag(
    "DEDUPE_ENABLED", True, "the dedupe stage (its state lives in the crawl state's stores)"
)
DEDUPE_POLICY = choice(
    "DEDUPE_POLICY",
    "drop",
    ("drop", "flag"),
    "`drop`: a copy is dropped and recorded in the copies log (the `copies` table of "
    "`STATE_DIR/near-duplicates.sqlite3`); `flag`: a near copy is stored with `duplicate_of` "
    "set (an exact copy, the same text at another URL, is dropped either way)",
)
DEDUPE_NEAR_ENABLED = flag(
    "DEDUPE_NEAR_ENABLED",
    True,
    "also catch near-duplicates (the same story with another template or a sentence changed)",
)
DEDUPE_NEAR_THRESHOLD = number(
    "DEDUPE_NEAR_THRESHOLD",
    DEFAULT_THRESHOLD,
    "estimated Jaccard similarity of the texts' word 3-gram sets (character 5-grams for "
    "Chinese, Japanese, Thai ...) from which two texts are one story; see bench/RESULTS.md",
    minimum=0.0,
    maximum=1.0,
    above=True,
)
SETTINGS = (DEDUPE_ENABLED, DEDUPE_POLICY, DEDUPE_NEAR_ENABLED, DEDUPE_NEAR_THRESHOLD)


class DuplicateArticle(DropItem):
    """The article's text is already in the dataset (or in this crawl), or is a near-copy of a
    stored one; or its URL or canonical URL is a stored row's, with the same text or nearly."""

    def __init__(self, message: str, *, kind: str, kept: str) -> None:
        super().__init__(message)
        self.kind = kind
        """How it matched: ``"url"`` (its URL or canonical URL is another row's, and its text
        the same or nearly),
        ``"content"`` (its text is another row's), ``"near"`` (its text is close to one)."""
        self.kept = kept
        """The kept article's key in the crawl state: the URL or canonical URL that matched
        (``url``: :meth:`~dataset.state.base.CrawlStateStore.has_url`), the content hash of
        the kept text (``content``, ``near``: ``has_content``). Whether the state holds it
        tells a copy of a committed row from one of a row accepted in this crawl only."""


class StateUnavailable(DropItem):
    """The crawl state cannot be reached (Redis gone) or read (its stores raised one of their
    ``errors``), so no duplicate check is possible."""


class DedupePipeline:
    """Drops (or flags) exact and near duplicates, within a crawl and across crawls."""

    def __init__(
        self,
        stats: StatsCollector,
        *,
        stores: StateStores,
        output_dir: Path | None = None,
        location: DatasetLocation | None = None,
        policy: str = DEDUPE_POLICY.default,
        near: bool = DEDUPE_NEAR_ENABLED.default,
        near_threshold: float = DEDUPE_NEAR_THRESHOLD.default,
    ) -> None:
        self.stats = stats
        if location is None:
            assert output_dir is not None, "give output_dir or location"
            location = location_of(output_dir)
        self.location = location
        """The dataset (local or in an object store)."""
        self.stores = stores
        """The crawl state's backend."""
        self.policy = policy
        self.near = near
        self.near_threshold = near_threshold
        self.state: CrawlStateStore | None = None
        self.index: NearIndex | None = None
        self.claims: Claims | None = None
        self.copies: CopiesLog | None = None
        self.pending_index = PendingIndex(threshold=near_threshold)
        # Keys of accepted articles whose data file is not committed yet.
        self.pending_urls: set[str] = set()
        self.pending_hashes: set[str] = set()
        self.in_flight: dict[int, tuple[str, list[str]]] = {}
        """``id()`` of each item this stage accepted that the later stages still hold -> its
        content hash and URLs: what to forget if a later stage drops it (its row is never
        written, so nothing of it may count as stored). An item leaves it when it leaves the
        pipeline: only then may its ``id()`` be another object's."""

    @cached_property
    def signer(self) -> Signer:
        """Made when first needed: with extraction workers, they sign the texts."""
        return Signer()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not DEDUPE_ENABLED.read(settings):
            raise NotConfigured("DEDUPE_ENABLED is off")
        assert crawler.stats is not None
        location = dataset_location(settings)
        policy = DEDUPE_POLICY.read(settings)
        near = DEDUPE_NEAR_ENABLED.read(settings)
        threshold = DEDUPE_NEAR_THRESHOLD.read(settings)
        # the state's backend is opened once every setting was found valid
        pipeline = cls(
            crawler.stats,
            stores=state_stores(crawler),
            location=location,
            policy=policy,
            near=near,
            near_threshold=threshold,
        )
        crawler.signals.connect(pipeline.on_articles_committed, signal=articles_committed)
        for gone in (signals.item_dropped, signals.item_error):  # by a later stage
            crawler.signals.connect(pipeline.forget, signal=gone)
        crawler.signals.connect(pipeline.on_item_scraped, signal=signals.item_scraped)
        # Closed after every pipeline has flushed (close_spider methods run concurrently).
        crawler.signals.connect(pipeline.close_state, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        self.state = self.stores.crawl_state()
        self.index = self.stores.near_index(threshold=self.near_threshold)
        self.claims = self.stores.claims()
        self.copies = self.stores.copies()
        strays: list[str] = []
        forgotten, recovered = self.state.reconcile(
            self.location, unreadable=self._unreadable, strays=strays.append
        )
        if strays:
            self.stats.inc_value(DEDUPE_STRAY_FILES.name, len(strays))
            for line in stray_lines(ARTICLES, strays):
                logger.warning("The dataset's %s", line)
        if forgotten:  # logged by the state
            self.stats.inc_value(DEDUPE_FILES_FORGOTTEN.name, len(forgotten))
        if recovered:
            self._index_files(recovered)
            self.stats.inc_value(DEDUPE_FILES_RECOVERED.name, len(recovered))
            logger.warning("Recorded %d data files the state did not know yet", len(recovered))

    def _unreadable(
        self,
        name: str,
        exc: Exception,
        outcome: str = "not recorded, its articles may be fetched again",
    ) -> None:
        """A data file the state does not know that cannot be read: left out (logged as an
        error: the crawl fails, every time until the file is moved out)."""
        self.stats.inc_value(DEDUPE_UNREADABLE_FILES.name)
        logger.error(
            "Cannot read the data file %s (%s): %s; move it out of the dataset",
            name,
            unreadable_reason(exc),
            outcome,
        )

    def _index_files(self, names: list[str]) -> None:
        """Signatures of the rows of data files the near-duplicate index missed (a crawl died
        between writing them and recording them)."""
        assert self.index is not None
        for name in names:
            try:
                table = read_table_at(self.location, name, columns=["id", "content_hash", "text"])
            except UNREADABLE_FILE_ERRORS as exc:
                self._unreadable(name, exc, "its texts are not in the near-duplicate index")
                continue
            entries = []
            columns = (column.to_pylist() for column in table.columns)
            for row_id, content_hash, text in zip(*columns, strict=True):
                signature = self.signer.signature(text or "")
                if signature is not None:
                    entries.append((content_hash, row_id, signature))
            self.index.add_many(entries)

    def close_state(self) -> None:
        if self.claims is not None:
            # rows not committed (a write error): other workers may take these articles
            try:
                self.claims.release_all()
            except self.stores.errors as exc:  # they lapse with this worker's heartbeat
                logger.warning("Cannot release this worker's claims: %s", exc)
        for resource in (self.state, self.index, self.copies):
            if resource is not None:
                resource.close()
        self.pending_index.close()
        self.state = self.index = self.copies = None
        self.claims = None

    def _known_url(self, keys: list[str], *, new_version: bool) -> str | None:
        """The first of the article's URL and canonical URL (``keys``) that a stored row, or
        one accepted in this crawl, has as its URL or canonical URL; ``None`` when none.

        A ``new_version`` (a stored page fetched again because it changed) shares its URL with
        a stored row: only this crawl's are looked at."""
        assert self.state is not None, "open_spider() was not called"
        for key in keys:
            if key in self.pending_urls or (not new_version and self.state.has_url(key)):
                return key
        return None

    def _stored_text(self, content_hash: str) -> bool:
        assert self.state is not None, "open_spider() was not called"
        return content_hash in self.pending_hashes or self.state.has_content(content_hash)

    def process_item(self, item: Any) -> Any:
        try:
            return self._process(item)
        except self.stores.errors as exc:
            # the state is gone (Redis mode: the worker is stopping; the article's request
            # stays recorded in Redis, so the next worker fetches it again)
            self.stats.inc_value(DEDUPE_STATE_UNAVAILABLE.name)
            raise StateUnavailable(
                f"StateUnavailable: cannot reach the crawl state ({exc}) "
                f"<{ItemAdapter(item).get('url')}>"
            ) from None

    def _process(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        url, canonical = adapter["url"], adapter.get("canonical_url")
        content_hash = adapter["content_hash"]
        new_version = bool(adapter.get("refetch"))
        keys = [key for key in dict.fromkeys((url, canonical)) if key]
        known = self._known_url(keys, new_version=new_version)
        if self._stored_text(content_hash):
            kind, kept = ("url", known) if known is not None else ("content", content_hash)
            self._duplicate(url, kind, kept, "already stored", content_hash)
        signature = self._signature(adapter) if self.near else None
        match = None
        # a new version of a stored page resembles its old version, not a copy of another
        # (only whether it agrees with an article of this crawl under its URL is asked)
        if signature is not None and (known is not None or not new_version):
            match = self.pending_index.find(signature)
            if match is None and not new_version:
                match = self._stored_index().find(signature)
        if known is not None:
            if match is not None:  # the same URL, and nearly the same text (an AMP page)
                self._duplicate(url, "url", known, "already stored")
            # a URL or canonical URL is only the page's word: another text is another article
            self._url_conflict(url, known)
            keys = [key for key in keys if key != known and key not in self.pending_urls]
        elif match is not None:
            self.stats.inc_value(DEDUPE_DUPLICATE_NEAR.name)
            if self.policy == "drop":
                self._record_copy(url, match.row_id, "near", match.similarity)
                raise DuplicateArticle(
                    f"DuplicateArticle: {match.similarity:.0%} like stored row "
                    f"{match.row_id} <{url}>",
                    kind="near",
                    kept=match.content_hash,
                )
            adapter["duplicate_of"] = match.row_id
            signature = None  # a flagged copy is not an original for later copies
        keys = self._claim(
            url,
            keys,
            content_hash,
            signature,
            new_version=new_version,
            conflict=known is not None,
        )
        self.pending_urls.update(keys)
        self.pending_hashes.add(content_hash)
        self.in_flight[id(item)] = (content_hash, keys)
        if signature is not None:
            self.pending_index.add(content_hash, adapter["id"], signature)
            self._stored_index().add_pending(content_hash, adapter["id"], signature)
        self.stats.inc_value(DEDUPE_UNIQUE.name)
        return item

    def _duplicate(
        self, url: str, kind: str, kept: str, where: str, content_hash: str | None = None
    ) -> NoReturn:
        """Count and drop a copy (a ``content`` copy recorded in the copies log)."""
        self.stats.inc_value(DEDUPE_DUPLICATE.of(kind))
        if kind == "content" and content_hash is not None:
            self._record_copy(url, self._kept_id(content_hash), kind, 1.0)
        raise DuplicateArticle(
            f"DuplicateArticle: same {kind} {where} <{url}>", kind=kind, kept=kept
        )

    def _url_conflict(self, url: str, known: str) -> None:
        """An article whose URL or canonical URL is another row's, with a text unlike every
        stored one: kept (a CMS's wrong canonical, a live blog, a paginated story)."""
        self.stats.inc_value(DEDUPE_CANONICAL_CONFLICT.name)
        logger.info(
            "Kept %s: its URL or canonical URL %s is a stored article's, its text is not",
            url,
            known,
        )

    def _claim(
        self,
        url: str,
        keys: list[str],
        content_hash: str,
        signature: np.ndarray | None,
        *,
        new_version: bool,
        conflict: bool,
    ) -> list[str]:
        """Claim the article's keys, so that no other process of the crawl (Redis mode)
        accepts it before this one commits it; then look at the state again (a worker commits
        first and releases after, so the claim and this look leave no gap between them).
        Returns the URLs claimed: none when another process holds one for an article whose
        text this one's is not (the near lookup found it in no process's texts)."""
        assert self.claims is not None
        taken = self.claims.claim(keys, content_hash)
        if taken == "url" and not self._text_agrees(content_hash, signature, new_version):
            if not conflict:
                self._url_conflict(url, " or ".join(keys))
            keys = []
            taken = self.claims.claim(keys, content_hash)
        found: tuple[str, str] | None = None
        if taken is not None:  # which URL another worker holds is not said: either may be
            found = (taken, content_hash if taken == "content" else keys[-1])
        else:
            known = self._known_url(keys, new_version=new_version)
            if known is not None and self._text_agrees(content_hash, signature, new_version):
                found = ("url", known)
            elif self._stored_text(content_hash):
                found = ("content", content_hash)
            if found is not None:
                self.claims.release(keys, [content_hash])
        if found is not None:
            kind, kept = found
            self._duplicate(url, kind, kept, "taken by another worker")
        return keys

    def _text_agrees(
        self, content_hash: str, signature: np.ndarray | None, new_version: bool
    ) -> bool:
        """Whether the text is a stored one, or nearly (at the near-duplicate threshold)."""
        if self._stored_text(content_hash):
            return True
        if signature is None:
            return False
        if self.pending_index.find(signature) is not None:
            return True
        return not new_version and self._stored_index().find(signature) is not None

    def _signature(self, adapter: ItemAdapter) -> np.ndarray | None:
        """The text's signature: the extraction worker's when it signed this very text."""
        precomputed: Precomputed | None = adapter.get("precomputed")
        signature = precomputed.signature if precomputed is not None else None
        if signature is not None and signature.content_hash == adapter["content_hash"]:
            values = from_bytes(signature.value) if signature.value is not None else None
            if signature.value is None or values is not None:
                self.stats.inc_value(DEDUPE_SIGNATURE_REUSED.name)
                return values  # None: too short to sign
        return self.signer.signature(adapter.get("text") or "")

    def _stored_index(self) -> NearIndex:
        assert self.index is not None, "open_spider() was not called"
        return self.index

    def _kept_id(self, content_hash: str) -> str | None:
        return self.pending_index.row_id(content_hash) or self._stored_index().row_id(content_hash)

    def _record_copy(self, url: str, kept_id: str | None, kind: str, similarity: float) -> None:
        if self.copies is not None:
            self.copies.record(url, kept_id, kind, similarity)

    def on_item_scraped(self, item: Any) -> None:
        """The item went through every stage: its row is the writer's now."""
        self.in_flight.pop(id(item), None)

    def forget(self, item: Any) -> None:
        """Forget an article this stage accepted and a later stage dropped (or failed on): its
        row is never written, so its keys must not keep a later copy of it out. (Items this
        stage dropped itself were never accepted.)"""
        found = self.in_flight.pop(id(item), None)
        if found is None:
            return
        content_hash, urls = found
        self.pending_urls.difference_update(urls)
        self.pending_hashes.discard(content_hash)
        self.pending_index.remove_many([content_hash])
        self.stats.inc_value(DEDUPE_FORGOTTEN.name)
        try:
            self._stored_index().remove_many([content_hash])  # what add_pending published
            if self.claims is not None:
                self.claims.release(urls, [content_hash])
        except self.stores.errors as exc:  # they lapse with this worker's heartbeat
            logger.warning("Cannot release the keys of a dropped article: %s", exc)

    def on_articles_committed(self, file: str, keys: list[tuple[Any, ...]]) -> None:
        if self.state is None:
            return
        try:
            self.state.record_file(file, keys)
        except self.stores.errors as exc:
            # The file is in the dataset; the next crawl records it from there (recover()).
            self.stats.inc_value(DEDUPE_STATE_ERROR.name)
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
            except self.stores.errors as exc:
                self.stats.inc_value(DEDUPE_STATE_ERROR.name)
                logger.error("Cannot add the texts of %s to the near index: %s", file, exc)
            self.pending_index.remove_many(content_hash for content_hash, *_ in committed)
        if self.claims is not None:
            # after the state learnt the rows: another worker now finds them there
            try:
                self.claims.release(
                    [key for url, canonical, *_ in keys for key in (url, canonical) if key],
                    [content_hash for _, _, content_hash, *_ in keys],
                )
            except self.stores.errors as exc:  # they expire with this worker's heartbeat
                logger.warning("Cannot release the claims of %s: %s", file, exc)
