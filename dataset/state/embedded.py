"""The embedded crawl state: SQLite files in ``STATE_DIR`` (the default backend).

* ``crawl-state.sqlite3``: what the dataset holds (:class:`CrawlState`), an index of the
  committed dataset that records the URLs and content hashes of the rows of each committed data
  file, in one transaction per file, and can be rebuilt from the files themselves
  (:meth:`CrawlState.sync`), so state and data agree after any crash;
* ``near-duplicates.sqlite3``: the signatures of stored texts, banded
  (:class:`NearDuplicateIndex`), and the ``copies`` table of the copies dropped;
* ``site-boilerplate.sqlite3``: what each site's boilerplate learner knows.

WAL mode: safe for several processes on one machine. One process writes one dataset at a time
(claims are its own memory).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from contextlib import closing, nullcontext, suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

from dataset.state.base import (
    RecoverFiles,
    Rejection,
    StateOptions,
    StateStores,
    file_keys,
    key_digest,
)
from dataset.state.near_index import BANDS, DEFAULT_THRESHOLD, Match, band_keys, best_match
from extraction.site_boilerplate import LineCounts

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from contextlib import AbstractContextManager
    from pathlib import Path

    import numpy as np

    from extraction.site_boilerplate import SiteBoilerplate

logger = logging.getLogger(__name__)

STATE_FILE = "crawl-state.sqlite3"
NEAR_STATE_FILE = "near-duplicates.sqlite3"
SITE_BOILERPLATE_FILE = "site-boilerplate.sqlite3"
SCHEMA_VERSION = 1


def connect(path: Path, **options: Any) -> sqlite3.Connection:
    """The SQLite database ``path``, made if missing with the permissions the umask leaves of
    0666, as any file the crawl writes: SQLite makes a database 0644 whatever the umask, so the
    crawls of a group sharing a dataset (umask 002) could not write each other's state."""
    with suppress(OSError):  # there already, or it cannot be made: SQLite says why, as before
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    return sqlite3.connect(path, **options)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS urls (digest BLOB PRIMARY KEY, fetched_at TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hashes (digest BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS files (name TEXT PRIMARY KEY, row_count INTEGER NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rejected (digest BLOB PRIMARY KEY, rejection TEXT NOT NULL)
    WITHOUT ROWID;
"""
_NEAR_SCHEMA = """
CREATE TABLE IF NOT EXISTS signatures (
    content_hash TEXT PRIMARY KEY, row_id TEXT NOT NULL, signature BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bands (
    band INTEGER NOT NULL, key BLOB NOT NULL, content_hash TEXT NOT NULL,
    PRIMARY KEY (band, key, content_hash)
) WITHOUT ROWID;
"""


# One indexed lookup per band in one statement (a row-value IN list would scan the table).
_FIND_CANDIDATES = " UNION ".join(
    ["SELECT content_hash FROM bands WHERE band = ? AND key = ?"] * BANDS
)
_COPIES = """
CREATE TABLE IF NOT EXISTS copies (
    url TEXT NOT NULL, kept_id TEXT, kind TEXT NOT NULL, similarity REAL, seen_at TEXT NOT NULL
);
"""
_COPIES_KEY = "copies_url_kept"
"""One row per copy (its URL) and kept row (``kept_id``, null when not known), an index on
an expression: a null would be unlike every other null in a plain ``UNIQUE``."""
_ADD_COPIES_KEY = f"""
CREATE UNIQUE INDEX IF NOT EXISTS {_COPIES_KEY} ON copies (url, ifnull(kept_id, ''))
"""
# SQLite takes a bare column of a max() aggregate from the row holding the max.
_KEEP_LATEST_COPIES = """
DELETE FROM copies WHERE rowid NOT IN (
    SELECT rowid FROM (SELECT rowid, max(seen_at) FROM copies GROUP BY url, ifnull(kept_id, ''))
)
"""
_RECORD_COPY = """
INSERT INTO copies VALUES (?, ?, ?, ?, ?)
ON CONFLICT (url, ifnull(kept_id, '')) DO UPDATE SET
    kind = excluded.kind, similarity = excluded.similarity,
    seen_at = max(seen_at, excluded.seen_at)
"""
_SITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS sites (site TEXT PRIMARY KEY, pages INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pages (digest BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lines (
    site TEXT NOT NULL, digest BLOB NOT NULL, pages INTEGER NOT NULL,
    PRIMARY KEY (site, digest)
) WITHOUT ROWID;
"""


class CrawlState(RecoverFiles):
    """What earlier crawls into one output directory stored.

    Keys are recorded only when the data file holding them is committed, never before.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @classmethod
    def open(cls, state_dir: Path) -> CrawlState:
        """Open (creating if needed) the state database in ``state_dir``."""
        state_dir.mkdir(parents=True, exist_ok=True)
        connection = connect(state_dir / STATE_FILE, timeout=30.0)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        with connection:
            connection.executescript(_SCHEMA)
            columns = {row[1] for row in connection.execute("PRAGMA table_info(urls)")}
            if "fetched_at" not in columns:  # a state written before versions were kept
                connection.execute("ALTER TABLE urls ADD COLUMN fetched_at TEXT")
            connection.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        return cls(connection)

    def close(self) -> None:
        self._db.close()

    def has_url(self, url: str) -> bool:
        """Whether a stored row has this (normalized) URL or canonical URL."""
        with closing(
            self._db.execute("SELECT 1 FROM urls WHERE digest = ?", (key_digest(url),))
        ) as cur:
            return cur.fetchone() is not None

    def has_content(self, content_hash: str) -> bool:
        """Whether a stored row has this content hash."""
        query = "SELECT 1 FROM hashes WHERE digest = ?"
        with closing(self._db.execute(query, (key_digest(content_hash),))) as cur:
            return cur.fetchone() is not None

    def recorded_files(self) -> set[str]:
        with closing(self._db.execute("SELECT name FROM files")) as cur:
            return {name for (name,) in cur}

    def stored_at(self, url: str) -> datetime | None:
        """When the newest stored version of this URL (or canonical URL) was fetched;
        ``None`` when it is not stored (or was stored before fetch times were kept)."""
        query = "SELECT fetched_at FROM urls WHERE digest = ?"
        with closing(self._db.execute(query, (key_digest(url),))) as cur:
            row = cur.fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def rejected(self, url: str) -> Rejection | None:
        """Why and when this page was last dropped as no article, or ``None``."""
        query = "SELECT rejection FROM rejected WHERE digest = ?"
        with closing(self._db.execute(query, (key_digest(url),))) as cur:
            row = cur.fetchone()
        return Rejection.unpack(row[0]) if row else None

    def remember_rejected(self, urls: Iterable[str], reason: str, at: datetime) -> None:
        """Remember pages dropped as no article (the newest drop wins)."""
        value = Rejection(reason, at).pack()
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO rejected VALUES (?, ?)",
                [(key_digest(url), value) for url in set(urls)],
            )

    def record_file(self, name: str, keys: Iterable[Sequence[Any]]) -> None:
        """Record a committed data file and the keys of its rows, atomically.

        Each key is ``(url, canonical_url, content_hash[, fetched_at])``; a URL keeps the
        newest fetch time recorded for it.
        """
        keys = list(keys)
        newest, hashes = file_keys(keys)
        with self._db:
            self._db.executemany(
                "INSERT INTO urls VALUES (?, ?) ON CONFLICT(digest) DO UPDATE SET fetched_at ="
                " max(coalesce(fetched_at, ''), coalesce(excluded.fetched_at, ''))",
                newest.items(),
            )
            self._db.executemany("INSERT OR IGNORE INTO hashes VALUES (?)", ((d,) for d in hashes))
            self._db.execute("INSERT OR REPLACE INTO files VALUES (?, ?)", (name, len(keys)))

    def replace_files(self, removed: Iterable[str], added: Iterable[tuple[str, int]]) -> None:
        """Record that files were rewritten (compacted) into others holding the same rows:
        the URLs and hashes stay; only the file list changes, in one transaction."""
        with self._db:
            self._db.executemany("DELETE FROM files WHERE name = ?", [(n,) for n in removed])
            self._db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?)", list(added))


class NearDuplicateIndex:
    """Signatures of stored texts, banded for lookup; in SQLite (``path``) or in memory."""

    def __init__(self, path: Path | None = None, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(":memory:") if path is None else connect(path, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._db:
            self._db.executescript(_NEAR_SCHEMA)
        self.threshold = threshold

    def close(self) -> None:
        self._db.close()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM signatures").fetchone()[0])

    def row_id(self, content_hash: str) -> str | None:
        """The row id stored with a text, or ``None``."""
        row = self._db.execute(
            "SELECT row_id FROM signatures WHERE content_hash = ?", (content_hash,)
        ).fetchone()
        return row[0] if row else None

    def find(self, signature: np.ndarray) -> Match | None:
        """The most similar stored text at or above the threshold, or ``None``."""
        pairs = [value for pair in enumerate(band_keys(signature)) for value in pair]
        rows = self._db.execute(_FIND_CANDIDATES, pairs)
        candidates = {content_hash for (content_hash,) in rows}
        query = "SELECT row_id, signature FROM signatures WHERE content_hash = ?"
        stored = (
            (content_hash, *row)
            for content_hash in candidates
            if (row := self._db.execute(query, (content_hash,)).fetchone()) is not None
        )
        return best_match(signature, stored, self.threshold)

    def add_many(self, entries: Iterable[tuple[str, str, np.ndarray]]) -> None:
        """Store ``(content_hash, row_id, signature)`` entries, in one transaction."""
        entries = list(entries)
        # rows made as SQLite takes them: a list of a file's 21 bands a text (210,000 tuples
        # for 10,000 texts) raised the crawl process's peak by ~25 MiB at every commit
        with self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO signatures VALUES (?, ?, ?)",
                ((content_hash, row_id, sig.tobytes()) for content_hash, row_id, sig in entries),
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO bands VALUES (?, ?, ?)",
                (
                    (band, key, content_hash)
                    for content_hash, _, sig in entries
                    for band, key in enumerate(band_keys(sig))
                ),
            )

    def add(self, content_hash: str, row_id: str, signature: np.ndarray) -> None:
        self.add_many([(content_hash, row_id, signature)])

    def remove_many(self, content_hashes: Iterable[str]) -> None:
        """Forget these texts (used to move texts from a pending index to the stored one)."""
        keys = [(content_hash,) for content_hash in content_hashes]
        with self._db:
            self._db.executemany("DELETE FROM signatures WHERE content_hash = ?", keys)
            self._db.executemany("DELETE FROM bands WHERE content_hash = ?", keys)

    def add_pending(self, content_hash: str, row_id: str, signature: np.ndarray) -> None:
        """Nothing to do: no other process of this crawl looks here before the commit."""


class SqliteCopiesLog:
    """The ``copies`` table of ``near-duplicates.sqlite3``: one row per copy and kept row,
    with the last time the copy was dropped (``seen_at``), however many runs drop it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = connect(path, timeout=30.0)
        with self._db:
            self._db.executescript(_COPIES)
        query = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?"
        with closing(self._db.execute(query, (_COPIES_KEY,))) as cur:
            keyed = cur.fetchone() is not None
        if not keyed:
            self._add_key()

    def _add_key(self) -> None:
        """Give a ``copies`` table its key: one made before it had one holds a row per copy
        per run (each run fetched the copy again), of which the latest of each copy and kept
        row stays. One transaction: a process doing the same meanwhile waits, then finds
        nothing left to do."""
        with self._db:
            removed = self._db.execute(_KEEP_LATEST_COPIES).rowcount
            self._db.execute(_ADD_COPIES_KEY)
        if removed > 0:
            logger.info("Removed %d repeated rows from the copies log (one per copy kept)", removed)

    def record(self, url: str, kept_id: str | None, kind: str, similarity: float) -> None:
        """Record a copy dropped now: a copy recorded before (the same URL and kept row)
        has its match and time updated."""
        with self._db:
            self._db.execute(
                _RECORD_COPY, (url, kept_id, kind, similarity, datetime.now(UTC).isoformat())
            )

    def close(self) -> None:
        self._db.close()


class LocalClaims:
    """Claims in a crawl of one process: its own memory (the dedupe stage's pending keys)
    already keeps it from accepting an article twice, and no other process writes."""

    def claim(self, urls: Iterable[str], content_hash: str) -> str | None:
        return None

    def release(self, urls: Iterable[str], content_hashes: Iterable[str]) -> None:
        """Nothing was claimed."""

    def release_all(self, worker: str | None = None) -> int:
        return 0


class SqliteSiteBoilerplateStore:
    """The learner's persistent state: an embedded SQLite database."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = connect(path, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._db:
            self._db.executescript(_SITE_SCHEMA)

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
        site.counts = LineCounts(
            (bytes(digest), pages) for digest, pages in self._db.execute(query, (name,))
        )

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


class EmbeddedStores(StateStores):
    """The crawl state in SQLite files of ``STATE_DIR``."""

    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def open(cls, options: StateOptions) -> Self:
        return cls(options.state_dir)

    @classmethod
    def unreachable(cls, options: StateOptions) -> str | None:
        """A state file that is not an SQLite database (overwritten, or cut short in its
        first page): the crawl would stop as it opens (its header and schema are read; a file
        damaged further in is found when a page of it is read). A folder that cannot be
        written (a read-only filesystem) is said so first: SQLite cannot open its files either,
        which read as damage, with the advice to move healthy files away."""
        folder = options.state_dir
        if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
            return (
                f"the crawl state folder {folder} cannot be written (a read-only filesystem,"
                " or its permissions)"
            )
        for name in (STATE_FILE, NEAR_STATE_FILE, SITE_BOILERPLATE_FILE):
            path = options.state_dir / name
            if not path.is_file():
                continue
            try:
                with closing(sqlite3.connect(path, timeout=30.0)) as db:
                    db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.Error as exc:
                return (
                    f"the crawl state file {path} is damaged ({exc}): restore it from a backup,"
                    " or move the state's .sqlite3 files away (the next crawl rebuilds them"
                    " from the dataset)"
                )
        return None

    @classmethod
    def recorded_file_count(cls, options: StateOptions) -> int:
        path = options.state_dir / STATE_FILE
        if not path.is_file():
            return 0
        with closing(
            sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=30.0)
        ) as db:
            try:
                (count,) = db.execute("SELECT count(*) FROM files").fetchone()
            except sqlite3.OperationalError:  # made before its tables (a crawl killed at once)
                return 0
        return int(count)

    @classmethod
    def place(cls, options: StateOptions) -> str:
        return f"the crawl state in {options.state_dir} (STATE_DIR)"

    def crawl_state(self) -> CrawlState:
        return CrawlState.open(self.folder)

    def near_index(self, *, threshold: float = DEFAULT_THRESHOLD) -> NearDuplicateIndex:
        return NearDuplicateIndex(self.folder / NEAR_STATE_FILE, threshold=threshold)

    def claims(self) -> LocalClaims:
        return LocalClaims()

    def copies(self) -> SqliteCopiesLog:
        return SqliteCopiesLog(self.folder / NEAR_STATE_FILE)

    def site_boilerplate(self) -> SqliteSiteBoilerplateStore:
        return SqliteSiteBoilerplateStore(self.folder / SITE_BOILERPLATE_FILE)

    def lock(self, name: str) -> AbstractContextManager[None]:
        """Nothing more to hold: commands lock ``STATE_DIR`` with a file of their own."""
        return nullcontext()

    def close(self) -> None:
        """Nothing to release: each store has its own connection, closed by its user."""
