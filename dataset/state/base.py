"""The crawl state's interface: what every backend's stores answer, and how one is chosen.

The crawl state is what the dataset holds, kept so that the crawl can ask cheaply: the URLs and
content hashes of stored rows (:class:`CrawlStateStore`), the near-duplicate signatures of their
texts (:class:`NearIndex`), the claims of articles accepted and not yet committed
(:class:`Claims`), the copies dropped (:class:`CopiesLog`) and each site's boilerplate lines
(:class:`SiteBoilerplateStore`). A backend (:class:`StateStores`) opens all of them: the
embedded one in SQLite files of ``STATE_DIR`` (:mod:`dataset.state.embedded`, the default), or
the shared one in Redis for many crawler processes (:mod:`dataset.state.redis`). The crawl
chooses one by class path (``STATE_STORES``), once; its stages never ask which.
"""

from __future__ import annotations

import hashlib
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

from dataset.layout import ARTICLES
from dataset.storage import (
    UNREADABLE_FILE_ERRORS,
    DatasetLocation,
    data_files_at,
    location_of,
    read_keys_at,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from contextlib import AbstractContextManager

    import numpy as np

    from dataset.state.near_index import Match
    from extraction.site_boilerplate import SiteBoilerplate

logger = logging.getLogger(__name__)


class StateError(Exception):
    """A store of the crawl state cannot be reached (Redis gone, a locked or full disk)."""


def key_digest(value: str) -> bytes:
    """The state's key for a URL or content hash."""
    # 128-bit digests keep the index small (16 bytes per key) with negligible collisions.
    return hashlib.blake2b(value.encode("utf-8"), digest_size=16).digest()


def file_keys(keys: Iterable[Sequence[Any]]) -> tuple[dict[bytes, str | None], set[bytes]]:
    """What a committed file adds to the state: the digest of each URL and canonical URL with
    the newest fetch time among its rows (an ISO string, ``None`` when not known), and the
    digests of the content hashes. ``keys`` as :meth:`CrawlState.record_file` takes them."""
    newest: dict[bytes, str | None] = {}
    hashes = set()
    for url, canonical, content_hash, *rest in keys:
        fetched = iso_time(rest[0]) if rest else None
        for value in (url, canonical):
            if value:
                digest = key_digest(value)
                newest[digest] = max(filter(None, (newest.get(digest), fetched)), default=None)
        if content_hash:
            hashes.add(key_digest(content_hash))
    return newest, hashes


@dataclass(frozen=True)
class Rejection:
    """A page dropped as no article: why (the drop's reason) and when."""

    reason: str
    at: datetime

    def pack(self) -> str:
        return f"{self.reason} {iso_time(self.at)}"

    @classmethod
    def unpack(cls, value: str) -> Rejection:
        reason, at = value.split(" ", 1)
        return cls(reason=reason, at=datetime.fromisoformat(at))


class RecoverFiles:
    """:meth:`sync` and :meth:`recover` for a state with ``recorded_files`` and
    ``record_file`` (the embedded and the Redis state)."""

    def recorded_files(self) -> set[str]:
        raise NotImplementedError

    def record_file(self, name: str, keys: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    def replace_files(self, removed: Iterable[str], added: Iterable[tuple[str, int]]) -> None:
        raise NotImplementedError

    def sync(self, dataset: DatasetLocation | Path) -> int:
        """Record the data files of ``dataset`` that the state does not know yet (written by a
        crawl that died before recording them); returns how many."""
        return len(self.recover(dataset))

    def recover(
        self,
        dataset: DatasetLocation | Path,
        *,
        unreadable: Callable[[str, Exception], None] | None = None,
    ) -> list[str]:
        """Like :meth:`sync`, returning the names of the files it recorded. ``dataset`` is
        the dataset's location, or the local path of its ``articles`` folder. A file that
        cannot be read as a data file (cut short, another table) raises, or, given
        ``unreadable``, is handed to it with the error and left unrecorded."""
        return self.reconcile(dataset, unreadable=unreadable, forget=False)[1]

    def forget_gone(self, dataset: DatasetLocation | Path) -> list[str]:
        """Forget the data files the state lists and ``dataset`` no longer holds (a compaction
        that died between replacing files and recording it; files deleted by hand); returns
        their names. Their rows' keys stay: a compaction's rows are in its new files."""
        return self.reconcile(dataset, record=False)[0]

    def reconcile(
        self,
        dataset: DatasetLocation | Path,
        *,
        unreadable: Callable[[str, Exception], None] | None = None,
        strays: Callable[[str], None] | None = None,
        forget: bool = True,
        record: bool = True,
    ) -> tuple[list[str], list[str]]:
        """:meth:`forget_gone` and :meth:`recover` over one listing of the dataset (each only
        if asked); returns the names forgotten and the names recorded. Data files outside the
        dataset's partitions are not its own: each is given to ``strays``
        (:func:`dataset.storage.list_data_files`), never recorded."""
        location, folder = _articles(dataset)
        known = self.recorded_files()  # before the listing: a file is listed once recorded
        listed = data_files_at(location, folder, strays=strays)
        gone = sorted(known - set(listed)) if forget else []
        if gone:
            self.replace_files(gone, [])
            logger.warning(
                "Forgot %d data files the crawl state listed and the dataset no longer holds"
                " (their articles still count as stored)",
                len(gone),
            )
        recorded = []
        for name in listed if record else []:
            if name in known:
                continue
            try:
                keys = read_keys_at(location, name, folder)
            except UNREADABLE_FILE_ERRORS as exc:
                if unreadable is None:
                    raise
                unreadable(name, exc)
                continue
            self.record_file(name, keys)
            recorded.append(name)
        return gone, recorded


def _articles(dataset: DatasetLocation | Path) -> tuple[DatasetLocation, str]:
    """The location and folder of a dataset's articles (``dataset``: the dataset's location,
    or the local path of its ``articles`` folder)."""
    if isinstance(dataset, Path):
        return location_of(dataset.parent), dataset.name
    return dataset, ARTICLES


class CrawlStateStore(Protocol):
    """What earlier crawls stored: keys are recorded only when the data file holding them is
    committed, never before, so state and data agree after any crash."""

    def has_url(self, url: str) -> bool:
        """Whether a stored row has this (normalized) URL or canonical URL."""
        ...

    def has_content(self, content_hash: str) -> bool:
        """Whether a stored row has this content hash."""
        ...

    def stored_at(self, url: str) -> datetime | None:
        """When the newest stored version of this URL was fetched; ``None`` when not stored."""
        ...

    def rejected(self, url: str) -> Rejection | None:
        """Why and when this page was last dropped as no article, or ``None``."""
        ...

    def remember_rejected(self, urls: Iterable[str], reason: str, at: datetime) -> None:
        """Remember pages dropped as no article (``NotAnArticle``, ``ListingPage``,
        ``NotHtml``), so that later crawls need not fetch them again before a re-check."""
        ...

    def recorded_files(self) -> set[str]: ...

    def record_file(self, name: str, keys: Iterable[Sequence[Any]]) -> None:
        """Record a committed data file and the ``(url, canonical_url, content_hash[,
        fetched_at])`` keys of its rows, atomically."""
        ...

    def replace_files(self, removed: Iterable[str], added: Iterable[tuple[str, int]]) -> None:
        """Record that files were rewritten (compacted) into others holding the same rows."""
        ...

    def recover(
        self,
        dataset: DatasetLocation | Path,
        *,
        unreadable: Callable[[str, Exception], None] | None = None,
    ) -> list[str]:
        """Record the data files the state does not know yet; returns their names."""
        ...

    def forget_gone(self, dataset: DatasetLocation | Path) -> list[str]:
        """Forget the data files the state lists and the dataset no longer holds."""
        ...

    def reconcile(
        self,
        dataset: DatasetLocation | Path,
        *,
        unreadable: Callable[[str, Exception], None] | None = None,
        strays: Callable[[str], None] | None = None,
        forget: bool = True,
        record: bool = True,
    ) -> tuple[list[str], list[str]]:
        """Both, over one listing: the names forgotten and the names recorded."""
        ...

    def sync(self, dataset: DatasetLocation | Path) -> int: ...

    def close(self) -> None: ...


class NearIndex(Protocol):
    """The near-duplicate signatures of stored texts, banded for lookup."""

    threshold: float

    def __len__(self) -> int: ...

    def row_id(self, content_hash: str) -> str | None:
        """The row id stored with a text, or ``None``."""
        ...

    def find(self, signature: np.ndarray) -> Match | None:
        """The most similar stored text at or above the threshold, or ``None``."""
        ...

    def add_many(self, entries: Iterable[tuple[str, str, np.ndarray]]) -> None:
        """Store committed ``(content_hash, row_id, signature)`` entries."""
        ...

    def add(self, content_hash: str, row_id: str, signature: np.ndarray) -> None: ...

    def add_pending(self, content_hash: str, row_id: str, signature: np.ndarray) -> None:
        """Make a text this process accepted, and has not committed yet, visible to the
        other processes of the crawl (nothing to do where there are none)."""
        ...

    def remove_many(self, content_hashes: Iterable[str]) -> None: ...

    def close(self) -> None: ...


class Claims(Protocol):
    """Keys (URLs, content hashes) of articles accepted by one process of the crawl and not yet
    committed, so that no other process accepts the same article meanwhile."""

    def claim(self, urls: Iterable[str], content_hash: str) -> str | None:
        """Claim an article's keys; what another live process holds already (``"url"`` or
        ``"content"``), or ``None`` when all are this one's."""
        ...

    def release(self, urls: Iterable[str], content_hashes: Iterable[str]) -> None:
        """Release this process's claims (its rows are committed, or the article dropped)."""
        ...

    def release_all(self, worker: str | None = None) -> int:
        """Release every claim of ``worker`` (default: this process)."""
        ...


class CopiesLog(Protocol):
    """The copies dropped as duplicates: their URL, the kept row's id, how they matched."""

    def record(self, url: str, kept_id: str | None, kind: str, similarity: float) -> None: ...

    def close(self) -> None: ...


class SiteBoilerplateStore(Protocol):
    """What :class:`extraction.site_boilerplate.SiteBoilerplate` learnt of each site."""

    def first_visit(self, url: str) -> bool:
        """Record a page; ``False`` when it was counted before."""
        ...

    def load(self, learner: SiteBoilerplate, name: str) -> None:
        """Load what is known of site ``name`` into the learner (once per crawl)."""
        ...

    def save(self, learner: SiteBoilerplate) -> int:
        """Write what changed, and take in what others learnt; returns how many sites."""
        ...

    def close(self) -> None: ...


DEFAULT_KEY_PREFIX = "news"
"""The start of every Redis key of the shared state (one prefix per dataset)."""
DEFAULT_WORKER_TIMEOUT = 60.0
"""Seconds without a heartbeat after which a worker of the shared crawl is taken for dead."""


@dataclass(frozen=True, kw_only=True)
class StateOptions:
    """What a backend may need to open its stores (each takes what it uses)."""

    state_dir: Path
    """The local working folder (``STATE_DIR``)."""
    redis_url: str = ""
    redis_key_prefix: str = DEFAULT_KEY_PREFIX
    redis_worker_timeout: float = DEFAULT_WORKER_TIMEOUT


class StateStores(ABC):
    """A backend of the crawl state: opens its stores. One per crawl process."""

    shared: bool = False
    """Several crawl processes work on one dataset through it at once (then no crawl takes
    the dataset's run lock, :mod:`dataset.run_lock`)."""

    errors: tuple[type[Exception], ...] = ()
    """What its stores raise when they cannot be reached or written (Redis gone, a full
    disk): the crawl logs and counts these, and goes on or stops cleanly."""

    @classmethod
    @abstractmethod
    def open(cls, options: StateOptions) -> Self:
        """Connect (raises :class:`StateError` when the backend cannot be reached)."""

    @classmethod
    def unreachable(cls, options: StateOptions) -> str | None:
        """Why the backend cannot be used with these options (one line), or ``None``."""
        return None

    @classmethod
    def recorded_file_count(cls, options: StateOptions) -> int:
        """How many data files the state records (``0`` for a state never used), read without
        making anything: opens the backend and its crawl state, unless a backend knows a
        cheaper way."""
        stores = cls.open(options)
        try:
            state = stores.crawl_state()
            try:
                return len(state.recorded_files())
            finally:
                state.close()
        finally:
            stores.close()

    @classmethod
    def place(cls, options: StateOptions) -> str:
        """Where the state is kept, for messages (and the setting that chooses it)."""
        return f"the crawl state of {cls.__name__}"

    def run_id(self) -> str | None:
        """The id of the run the crawl processes of a shared backend take part in together
        (the same for each), or ``None`` where each process is a run of its own."""
        return None

    def judges_run(self, history_file: str) -> tuple[str, ...] | None:
        """Called by a crawl process once its run history is written (``history_file``, its
        name below ``runs/``; empty when it had no row to write): ``None`` when another process
        of the run judges its health, else the history files of the run's other processes,
        every one of them to be read (this process is the last of the run's to write its
        history). Empty where each process is a run of its own."""
        return ()

    @abstractmethod
    def crawl_state(self) -> CrawlStateStore: ...

    @abstractmethod
    def near_index(self, *, threshold: float) -> NearIndex: ...

    @abstractmethod
    def claims(self) -> Claims: ...

    @abstractmethod
    def copies(self) -> CopiesLog: ...

    @abstractmethod
    def site_boilerplate(self) -> SiteBoilerplateStore: ...

    @abstractmethod
    def lock(self, name: str) -> AbstractContextManager[None]:
        """Hold the lock ``name`` for every process of the deployment (:class:`LockHeld` when
        another holds it)."""

    @abstractmethod
    def close(self) -> None:
        """Release what the backend holds (the stores it opened are closed by their users)."""


class LockHeld(RuntimeError):
    """Another process of the deployment holds the lock."""


def iso_time(value: Any) -> str | None:
    """A fetch time as a sortable UTC ISO string (datetimes and strings accepted)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return datetime.fromisoformat(str(value)).astimezone(UTC).isoformat()
