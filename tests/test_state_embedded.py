"""The embedded crawl state: SQLite files in ``STATE_DIR`` (:mod:`dataset.state.embedded`).

What every backend answers alike is tested against both in ``test_state_redis.py``.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from dataset.layout import articles_dir, state_dir
from dataset.schema import to_table
from dataset.state.base import StateOptions
from dataset.state.embedded import (
    NEAR_STATE_FILE,
    SITE_BOILERPLATE_FILE,
    STATE_FILE,
    CrawlState,
    EmbeddedStores,
)
from dataset.writer import DatasetWriter
from extraction.record import row_id
from extraction.text import content_hash

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

KEYS = [
    ("https://example.com/a", "https://example.com/canonical-a", "hash-a"),
    ("https://example.com/b", None, "hash-b"),
]


@pytest.fixture
def state(tmp_path: Path) -> Iterator[CrawlState]:
    opened = CrawlState.open(tmp_path / "state")
    yield opened
    opened.close()


def article_row(url: str, text: str, *, canonical_url: str | None = None) -> dict[str, Any]:
    digest = content_hash(text)
    return {
        "id": row_id(url, digest),
        "url": url,
        "canonical_url": canonical_url,
        "authors": [],
        "fetched_at": datetime(2024, 5, 1, 12, tzinfo=UTC),
        "text": text,
        "word_count": len(text.split()),
        "tags": [],
        "content_hash": digest,
        "discovered_via": "url",
    }


def test_open_creates_database_in_state_dir(tmp_path: Path) -> None:
    folder = tmp_path / "nested" / "state"
    state = CrawlState.open(folder)
    try:
        assert (folder / STATE_FILE).is_file()
        assert state.recorded_files() == set()
    finally:
        state.close()
    with closing(sqlite3.connect(folder / STATE_FILE)) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert {"urls", "hashes", "files", "meta"} <= tables
    assert version == ("1",)


def test_empty_state_knows_nothing(state: CrawlState) -> None:
    assert not state.has_url("https://example.com/a")
    assert not state.has_content("hash-a")


def test_record_file_then_lookup(state: CrawlState) -> None:
    state.record_file("fetch_date=2024-05-01/part-1.parquet", KEYS)
    assert state.has_url("https://example.com/a")
    assert state.has_url("https://example.com/canonical-a")
    assert state.has_url("https://example.com/b")
    assert state.has_content("hash-a")
    assert state.has_content("hash-b")
    assert not state.has_url("https://example.com/c")
    assert not state.has_content("hash-c")
    # URLs and hashes are separate key spaces.
    assert not state.has_url("hash-a")
    assert not state.has_content("https://example.com/a")
    assert state.recorded_files() == {"fetch_date=2024-05-01/part-1.parquet"}


def test_record_file_accepts_an_iterator(state: CrawlState) -> None:
    state.record_file("part-1.parquet", iter(KEYS))
    assert state.has_url("https://example.com/b")
    assert state.has_content("hash-b")


def test_recorded_files_lists_every_file(state: CrawlState) -> None:
    state.record_file("a/part-1.parquet", KEYS[:1])
    state.record_file("a/part-2.parquet", KEYS[1:])
    state.record_file("b/part-3.parquet", [])
    state.record_file("a/part-1.parquet", KEYS[:1])  # recording twice is harmless
    assert state.recorded_files() == {"a/part-1.parquet", "a/part-2.parquet", "b/part-3.parquet"}


def test_reopening_keeps_the_data(tmp_path: Path) -> None:
    first = CrawlState.open(tmp_path)
    first.record_file("part-1.parquet", KEYS)
    first.close()
    second = CrawlState.open(tmp_path)
    try:
        assert second.has_url("https://example.com/canonical-a")
        assert second.has_content("hash-b")
        assert second.recorded_files() == {"part-1.parquet"}
    finally:
        second.close()


def test_two_connections_see_each_others_records(tmp_path: Path) -> None:
    first = CrawlState.open(tmp_path)
    second = CrawlState.open(tmp_path)
    try:
        first.record_file("part-1.parquet", KEYS)
        assert second.has_url("https://example.com/a")
        assert second.recorded_files() == {"part-1.parquet"}
    finally:
        first.close()
        second.close()


def test_sync_records_committed_data_files(tmp_path: Path) -> None:
    rows = [
        article_row("https://example.com/1", "first text", canonical_url="https://ex.com/one"),
        article_row("https://example.com/2", "second text"),
    ]
    writer = DatasetWriter(tmp_path)
    writer.open()
    assert writer.write(to_table(rows)) == []
    committed = writer.commit()
    assert committed is not None

    state = CrawlState.open(state_dir(tmp_path))
    try:
        assert not state.has_url("https://example.com/1")
        assert state.sync(articles_dir(tmp_path)) == 1
        assert state.recorded_files() == {committed.name}
        for row in rows:
            assert state.has_url(row["url"])
            assert state.has_content(row["content_hash"])
        assert state.has_url("https://ex.com/one")
        assert not state.has_url("https://example.com/3")
        assert state.sync(articles_dir(tmp_path)) == 0
    finally:
        state.close()


def test_sync_records_only_unknown_files(tmp_path: Path) -> None:
    writer = DatasetWriter(tmp_path, file_rows=1)
    writer.open()
    first = writer.write(to_table([article_row("https://example.com/1", "one")]))
    second = writer.write(to_table([article_row("https://example.com/2", "two")]))
    assert len(first) == 1
    assert len(second) == 1

    state = CrawlState.open(state_dir(tmp_path))
    try:
        state.record_file(first[0].name, first[0].keys)
        assert state.sync(articles_dir(tmp_path)) == 1
        assert state.recorded_files() == {first[0].name, second[0].name}
        assert state.has_url("https://example.com/2")
        assert state.sync(articles_dir(tmp_path)) == 0
    finally:
        state.close()


def test_sync_ignores_uncommitted_and_missing_files(tmp_path: Path) -> None:
    state = CrawlState.open(state_dir(tmp_path))
    try:
        assert state.sync(articles_dir(tmp_path)) == 0  # no articles directory yet
        writer = DatasetWriter(tmp_path)
        writer.open()
        writer.write(to_table([article_row("https://example.com/1", "one")]))
        # Written but not committed: only in state/tmp/, not part of the dataset.
        assert state.sync(articles_dir(tmp_path)) == 0
        assert not state.has_url("https://example.com/1")
        writer.commit()
        assert state.sync(articles_dir(tmp_path)) == 1
        assert state.has_url("https://example.com/1")
    finally:
        state.close()


def test_a_state_written_before_fetch_times_were_kept_is_upgraded(tmp_path: Path) -> None:
    with closing(sqlite3.connect(tmp_path / STATE_FILE)) as db, db:
        db.execute("CREATE TABLE urls (digest BLOB PRIMARY KEY) WITHOUT ROWID")
    state = CrawlState.open(tmp_path)
    try:
        state.record_file("part-1.parquet", [("https://example.com/a", None, "hash-a", None)])
        assert state.has_url("https://example.com/a")
        assert state.stored_at("https://example.com/a") is None
        fetched = datetime(2024, 5, 1, 12, tzinfo=UTC)
        state.record_file("part-2.parquet", [("https://example.com/a", None, "hash-b", fetched)])
        assert state.stored_at("https://example.com/a") == fetched
    finally:
        state.close()


# --- the backend ------------------------------------------------------------------------------


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[EmbeddedStores]:
    opened = EmbeddedStores.open(StateOptions(state_dir=tmp_path / "state"))
    yield opened
    opened.close()


def test_the_stores_keep_their_files_in_state_dir(tmp_path: Path, stores: EmbeddedStores) -> None:
    assert stores.folder == tmp_path / "state"
    stores.copies().close()  # whichever store comes first makes the folder
    stores.crawl_state().close()
    stores.site_boilerplate().close()
    index = stores.near_index(threshold=0.7)
    assert index.threshold == 0.7
    index.close()
    names = {path.name for path in (tmp_path / "state").iterdir()}
    assert {STATE_FILE, NEAR_STATE_FILE, SITE_BOILERPLATE_FILE} <= names
    # what the stores raise when the disk is full or locked: the stages catch these
    assert stores.errors == (sqlite3.Error,)


def test_the_copies_table_keeps_one_row_per_copy(tmp_path: Path, stores: EmbeddedStores) -> None:
    log = stores.copies()
    log.record("https://b/copy", "row-1", "near", 0.75)
    log.record("https://c/copy", None, "content", 1.0)
    log.close()
    with closing(sqlite3.connect(tmp_path / "state" / NEAR_STATE_FILE)) as db:
        rows = db.execute("SELECT url, kept_id, kind, similarity, seen_at FROM copies").fetchall()
    assert [row[:4] for row in rows] == [
        ("https://b/copy", "row-1", "near", 0.75),
        ("https://c/copy", None, "content", 1.0),
    ]
    assert all(datetime.fromisoformat(row[4]).tzinfo is not None for row in rows)


def _copies(tmp_path: Path) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(tmp_path / "state" / NEAR_STATE_FILE)) as db:
        query = "SELECT url, kept_id, kind, similarity, seen_at FROM copies ORDER BY url, kept_id"
        return db.execute(query).fetchall()


def test_a_copy_dropped_again_keeps_its_row(tmp_path: Path, stores: EmbeddedStores) -> None:
    # a row per copy per run: the log grew with the runs, not with the copies
    log = stores.copies()
    log.record("https://b/copy", "row-1", "near", 0.75)
    log.record("https://c/copy", None, "content", 1.0)
    first = _copies(tmp_path)
    for _ in range(3):
        log.record("https://b/copy", "row-1", "near", 0.8)
        log.record("https://c/copy", None, "content", 1.0)
    log.record("https://b/copy", "row-2", "near", 0.6)  # a copy of another kept row
    log.close()
    rows = _copies(tmp_path)
    assert [row[:4] for row in rows] == [
        ("https://b/copy", "row-1", "near", 0.8),
        ("https://b/copy", "row-2", "near", 0.6),
        ("https://c/copy", None, "content", 1.0),
    ]
    assert rows[0][4] >= first[0][4]  # the last time it was dropped
    assert rows[2][4] >= first[1][4]


def test_a_copies_log_of_a_row_per_run_is_brought_to_a_row_per_copy(
    tmp_path: Path, stores: EmbeddedStores, caplog: pytest.LogCaptureFixture
) -> None:
    # the table as earlier versions made it, with no key, and the rows of three runs
    (tmp_path / "state").mkdir()
    with closing(sqlite3.connect(tmp_path / "state" / NEAR_STATE_FILE)) as db, db:
        db.execute(
            "CREATE TABLE copies (url TEXT NOT NULL, kept_id TEXT, kind TEXT NOT NULL,"
            " similarity REAL, seen_at TEXT NOT NULL)"
        )
        for day in (3, 1, 2):  # not in time order: the latest stays, whichever came last
            db.executemany(
                "INSERT INTO copies VALUES (?, ?, ?, ?, ?)",
                [
                    ("https://b/copy", "row-1", "near", day / 10, f"2026-01-0{day}T00:00:00+00:00"),
                    ("https://c/copy", None, "content", 1.0, f"2026-01-0{day}T00:00:00+00:00"),
                ],
            )
    with caplog.at_level("INFO", logger="dataset.state.embedded"):
        log = stores.copies()
    assert "Removed 4 repeated rows from the copies log" in caplog.text
    assert _copies(tmp_path) == [
        ("https://b/copy", "row-1", "near", 0.3, "2026-01-03T00:00:00+00:00"),
        ("https://c/copy", None, "content", 1.0, "2026-01-03T00:00:00+00:00"),
    ]
    log.record("https://c/copy", None, "content", 1.0)
    log.close()
    assert len(_copies(tmp_path)) == 2
    caplog.clear()
    with caplog.at_level("INFO", logger="dataset.state.embedded"):
        stores.copies().close()  # keyed once: nothing more to do
    assert not caplog.text


def test_one_process_claims_nothing(stores: EmbeddedStores) -> None:
    # its own pending keys keep a process from accepting an article twice; no other writes
    first, second = stores.claims(), stores.claims()
    assert first.claim(["https://a/1"], "h1") is None
    assert second.claim(["https://a/1"], "h1") is None
    first.release(["https://a/1"], ["h1"])
    assert first.release_all() == 0


def test_the_embedded_lock_holds_nothing_more(stores: EmbeddedStores) -> None:
    # commands lock STATE_DIR with a file of their own: the backend adds nothing
    with stores.lock("compact"), stores.lock("compact"):
        pass


@pytest.mark.parametrize(("umask", "mode"), [(0o002, 0o664), (0o077, 0o600)])
def test_the_state_files_have_the_permissions_the_umask_leaves(
    tmp_path: Path, umask: int, mode: int
) -> None:
    previous = os.umask(umask)
    try:
        stores = EmbeddedStores(tmp_path)
        opened = (stores.crawl_state(), stores.near_index(), stores.copies())
        stores.site_boilerplate().close()
        for store in opened:
            store.close()
    finally:
        os.umask(previous)
    made = {path.name: path.stat().st_mode & 0o777 for path in tmp_path.iterdir()}
    assert {STATE_FILE, NEAR_STATE_FILE, SITE_BOILERPLATE_FILE} <= made.keys()
    # before: 0644 whatever the umask, so a group's crawls (umask 002) could not share a state
    assert set(made.values()) == {mode}
