"""Persistent crawl state: what the dataset already holds, for deduplication across runs.

The state is an index of the committed dataset: it records the URLs and content hashes of the
rows of each committed data file, in one transaction per file, and can be rebuilt from the
files themselves (:meth:`CrawlState.sync`), so state and data agree after any crash. It is an
embedded SQLite database (WAL mode), safe for several processes on one machine.
"""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.dataset import ARTICLES
from pipelines.storage import DatasetLocation, data_files_at, location_of, read_keys_at

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

STATE_FILE = "crawl-state.sqlite3"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS urls (digest BLOB PRIMARY KEY, fetched_at TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hashes (digest BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS files (name TEXT PRIMARY KEY, row_count INTEGER NOT NULL)
    WITHOUT ROWID;
"""


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


class RecoverFiles:
    """:meth:`sync` and :meth:`recover` for a state with ``recorded_files`` and
    ``record_file`` (the embedded and the Redis state)."""

    def recorded_files(self) -> set[str]:
        raise NotImplementedError

    def record_file(self, name: str, keys: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    def sync(self, dataset: DatasetLocation | Path) -> int:
        """Record the data files of ``dataset`` that the state does not know yet (written by a
        crawl that died before recording them); returns how many."""
        return len(self.recover(dataset))

    def recover(self, dataset: DatasetLocation | Path) -> list[str]:
        """Like :meth:`sync`, returning the names of the files it recorded. ``dataset`` is
        the dataset's location, or the local path of its ``articles`` folder."""
        location, folder = (
            (location_of(dataset.parent), dataset.name)
            if isinstance(dataset, Path)
            else (dataset, ARTICLES)
        )
        known = self.recorded_files()
        missing = [name for name in data_files_at(location, folder) if name not in known]
        for name in missing:
            self.record_file(name, read_keys_at(location, name, folder))
        return missing


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
        connection = sqlite3.connect(state_dir / STATE_FILE, timeout=30.0)
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
                list(newest.items()),
            )
            self._db.executemany("INSERT OR IGNORE INTO hashes VALUES (?)", [(d,) for d in hashes])
            self._db.execute("INSERT OR REPLACE INTO files VALUES (?, ?)", (name, len(keys)))

    def replace_files(self, removed: Iterable[str], added: Iterable[tuple[str, int]]) -> None:
        """Record that files were rewritten (compacted) into others holding the same rows:
        the URLs and hashes stay; only the file list changes, in one transaction."""
        with self._db:
            self._db.executemany("DELETE FROM files WHERE name = ?", [(n,) for n in removed])
            self._db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?)", list(added))


def iso_time(value: Any) -> str | None:
    """A fetch time as a sortable UTC ISO string (datetimes and strings accepted)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return datetime.fromisoformat(str(value)).astimezone(UTC).isoformat()
