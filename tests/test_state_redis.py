"""The crawl state in Redis (:mod:`dataset.state.redis`): the same answers as the embedded
stores, and the backend's own: its server, its worker, its locks.

The first tests run against both backends through the :class:`~dataset.state.base.StateStores`
interface: whatever the stages ask, each backend answers alike. The others are Redis's own;
each Redis store's are in the test file named for its module
(``test_state_redis_claims.py``, ...).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataset.state import redis as redis_state
from dataset.state.base import LockHeld, Rejection, StateError, StateOptions, StateStores
from dataset.state.embedded import EmbeddedStores
from dataset.state.redis import RedisStores
from dataset.storage import location_of
from extraction.site_boilerplate import SiteBoilerplate
from tests.redis_server import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import numpy as np
    from redis import Redis

    from tests.redis_server import RedisTarget

T1 = datetime(2026, 1, 1, 12, tzinfo=UTC)
T2 = datetime(2026, 2, 1, 12, tzinfo=UTC)


def options(tmp_path: Path, target: RedisTarget | None = None) -> StateOptions:
    if target is None:
        return StateOptions(state_dir=tmp_path / "state")
    return StateOptions(
        state_dir=tmp_path / "state", redis_url=target.url, redis_key_prefix=target.prefix
    )


@pytest.fixture(params=["embedded", "redis"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStores]:
    """Each backend, opened as the crawl opens it (the Redis one on a prefix of its own)."""
    backend: type[StateStores]
    if request.param == "redis":
        backend, target = RedisStores, request.getfixturevalue("shared_redis")
    else:
        backend, target = EmbeddedStores, None
    opened = backend.open(options(tmp_path, target))
    yield opened
    opened.close()


# --- what every backend answers alike ---------------------------------------------------------


def test_the_crawl_state_answers_alike(stores: StateStores) -> None:
    state = stores.crawl_state()
    keys = [
        ("https://a.example/1", "https://a.example/1", "h1", T1),
        ("https://a.example/2?amp", "https://a.example/2", "h2", T1),
        ("https://a.example/2?amp", "https://a.example/2", "h2", T2),
    ]
    state.record_file("fetch_date=2026-01-01/part-1.parquet", keys)
    state.record_file("fetch_date=2026-01-01/part-2.parquet", [("https://b/", None, "h3")])
    stored = {"https://a.example/1": T1, "https://a.example/2": T2, "https://a.example/2?amp": T2}
    for url, fetched in stored.items():
        assert state.has_url(url)
        assert state.stored_at(url) == fetched  # the newest fetch wins
    assert not state.has_url("x")
    assert state.stored_at("x") is None
    assert state.has_url("https://b/")
    assert state.stored_at("https://b/") is None  # recorded without a fetch time
    assert [state.has_content(h) for h in ("h1", "h2", "h3", "h4")] == [True, True, True, False]
    # URLs and hashes are separate key spaces
    assert not state.has_url("h1")
    assert not state.has_content("https://a.example/1")
    assert state.recorded_files() == {
        "fetch_date=2026-01-01/part-1.parquet",
        "fetch_date=2026-01-01/part-2.parquet",
    }
    state.replace_files(
        ["fetch_date=2026-01-01/part-1.parquet", "fetch_date=2026-01-01/part-2.parquet"],
        [("fetch_date=2026-01-01/compacted.parquet", 3)],
    )
    assert state.recorded_files() == {"fetch_date=2026-01-01/compacted.parquet"}
    assert state.has_url("https://a.example/1")  # the keys stay
    # another process (another store of the same backend) sees it all
    other = stores.crawl_state()
    assert other.recorded_files() == {"fetch_date=2026-01-01/compacted.parquet"}
    assert other.stored_at("https://a.example/2") == T2
    assert other.has_content("h3")
    other.close()
    state.close()


def test_pages_dropped_as_no_article_are_remembered_with_their_reason(
    stores: StateStores,
) -> None:
    state = stores.crawl_state()
    assert state.rejected("https://a.example/tag/x") is None
    state.remember_rejected(["https://a.example/tag/x", "https://a.example/t/x"], "ListingPage", T1)
    state.remember_rejected([], "NotHtml", T1)  # nothing to remember
    for url in ("https://a.example/tag/x", "https://a.example/t/x"):
        assert state.rejected(url) == Rejection("ListingPage", T1)
    state.remember_rejected(["https://a.example/tag/x"], "NotAnArticle", T2)  # the newest wins
    other = stores.crawl_state()  # another process sees it
    assert other.rejected("https://a.example/tag/x") == Rejection("NotAnArticle", T2)
    assert not other.has_url("https://a.example/tag/x")  # not stored: a separate key space
    other.close()
    state.close()


def test_recover_records_the_files_the_state_missed(stores: StateStores, tmp_path: Path) -> None:
    articles = tmp_path / "articles" / "fetch_date=2026-01-01"
    articles.mkdir(parents=True)
    table = pa.table(
        {
            "url": ["https://a/1"],
            "canonical_url": [None],
            "content_hash": ["h1"],
            "fetched_at": pa.array([T1], pa.timestamp("us", tz="UTC")),
        }
    )
    pq.write_table(table, articles / "part-1.parquet")
    state = stores.crawl_state()
    assert state.recover(tmp_path / "articles") == ["fetch_date=2026-01-01/part-1.parquet"]
    assert state.has_url("https://a/1")
    assert state.has_content("h1")
    assert state.stored_at("https://a/1") == T1
    assert state.sync(tmp_path / "articles") == 0
    assert state.sync(location_of(tmp_path)) == 0  # the dataset's location works as well
    # a file the state lists and the dataset no longer holds: off the list, its keys kept
    assert state.forget_gone(location_of(tmp_path)) == []
    (articles / "part-1.parquet").unlink()
    assert state.forget_gone(location_of(tmp_path)) == ["fetch_date=2026-01-01/part-1.parquet"]
    assert state.recorded_files() == set()
    assert state.has_url("https://a/1")
    state.close()


def test_the_near_index_finds_committed_texts_and_forgets_removed_ones(
    stores: StateStores, signatures: tuple[np.ndarray, np.ndarray]
) -> None:
    signature, near = signatures
    index = stores.near_index(threshold=0.5)
    assert index.threshold == 0.5
    assert index.find(near) is None
    index.add_many([("h1", "row-1", signature)])
    found = index.find(near)
    assert found is not None
    assert (found.content_hash, found.row_id) == ("h1", "row-1")
    assert found.similarity >= 0.8
    assert index.row_id("h1") == "row-1"
    assert index.row_id("h9") is None
    assert len(index) == 1
    # what is stored is found through another store of the backend, at its own threshold
    strict = stores.near_index(threshold=0.99)
    assert strict.find(near) is None
    assert strict.find(signature) is not None
    strict.close()
    # two texts in the same bands (the same signature): both held, one removed, one found
    index.add("h2", "row-2", signature)
    assert len(index) == 2
    index.remove_many(["h1"])
    found = index.find(near)
    assert found is not None
    assert found.content_hash == "h2"
    index.remove_many(["h2", "never-stored"])
    assert index.find(near) is None
    assert len(index) == 0
    index.close()


def test_what_a_site_taught_is_kept(stores: StateStores) -> None:
    store = stores.site_boilerplate()
    learner = SiteBoilerplate(min_pages=4, min_share=0.5)
    furniture = "Subscribe to our channel for more news"
    for n in range(6):
        store.load(learner, "site.example")
        assert store.first_visit(f"https://site.example/{n}")
        learner.observe("site.example", [furniture, f"Story text number {n} of its own."])
    assert not store.first_visit("https://site.example/0")  # a page counts once
    assert store.save(learner) == 1
    assert store.save(learner) == 0  # nothing changed since
    store.close()
    # the next crawl (another store, another learner) strips it from the first page on
    again, learnt = stores.site_boilerplate(), SiteBoilerplate(min_pages=4, min_share=0.5)
    again.load(learnt, "site.example")
    assert learnt.sites["site.example"].pages == 6
    assert learnt.is_boilerplate("site.example", furniture)
    assert not learnt.is_boilerplate("site.example", "Story text number 1 of its own.")
    assert not again.first_visit("https://site.example/5")
    again.close()


def test_one_worker_never_conflicts_with_itself(stores: StateStores) -> None:
    claims = stores.claims()
    assert claims.claim(["https://a/1", "https://a/canonical"], "h1") is None
    assert claims.claim(["https://a/1"], "h1") is None  # its own claim again
    claims.release(["https://a/1", "https://a/canonical"], ["h1"])
    assert claims.claim(["https://a/2"], "h2") is None
    claims.release_all()
    assert claims.claim(["https://a/2"], "h2") is None


def test_the_copies_log_takes_every_kind_of_copy(stores: StateStores) -> None:
    log = stores.copies()
    log.record("https://b/copy", "row-1", "near", 0.75)
    log.record("https://c/copy", None, "content", 1.0)
    log.close()  # what each backend keeps is read in its own tests


def test_the_errors_the_stages_catch(stores: StateStores) -> None:
    assert stores.errors
    assert all(issubclass(error, Exception) for error in stores.errors)


# --- Redis's own: the server, the worker, the locks -------------------------------------------


def test_an_unreachable_server_is_said_and_refused(tmp_path: Path) -> None:
    url = f"redis://user:secret@127.0.0.1:{free_port()}/0"
    unreachable = StateOptions(state_dir=tmp_path, redis_url=url)
    problem = RedisStores.unreachable(unreachable)
    assert problem is not None
    assert problem.startswith("cannot reach Redis at redis://***@127.0.0.1:")
    assert "secret" not in problem
    with pytest.raises(StateError, match=r"cannot reach Redis at redis://\*\*\*@") as refused:
        RedisStores.open(unreachable)
    assert "secret" not in str(refused.value)
    assert EmbeddedStores.unreachable(unreachable) is None  # embedded needs no server


def test_the_stores_are_this_workers(
    tmp_path: Path, shared_redis: RedisTarget, client: Redis
) -> None:
    assert RedisStores.unreachable(options(tmp_path, shared_redis)) is None
    stores = RedisStores.open(options(tmp_path, shared_redis))
    assert stores.prefix == shared_redis.prefix
    assert stores.registry.prefix == shared_redis.prefix
    stores.registry.join(run_keys=[])
    workers_key = f"{shared_redis.prefix}:workers"
    assert client.sismember(workers_key, stores.registry.worker_id)
    stores.close()  # leaves the shared crawl
    assert not client.sismember(workers_key, stores.registry.worker_id)
    assert not client.exists(stores.registry.heartbeat_key(stores.registry.worker_id))


def test_a_lock_is_held_for_the_whole_deployment(tmp_path: Path, shared_redis: RedisTarget) -> None:
    first = RedisStores.open(options(tmp_path, shared_redis))
    second = RedisStores.open(options(tmp_path, shared_redis))
    try:
        with first.lock("compact"):
            with (
                pytest.raises(LockHeld, match="another compact of this deployment"),
                second.lock("compact"),
            ):
                pytest.fail("two holders")
            with second.lock("other"):  # another lock is free
                pass
        with second.lock("compact"):  # released
            pass
    finally:
        first.close()
        second.close()


def test_a_lock_is_renewed_while_held_and_lapses_when_its_holder_dies(
    tmp_path: Path, shared_redis: RedisTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    # it lapsed after 6 hours: a compaction killed or stopped blocked every compaction of the
    # deployment for that long, "another compact ... is running"
    monkeypatch.setattr(redis_state, "LOCK_LEASE_SECONDS", 1.5)
    first = RedisStores.open(options(tmp_path, shared_redis))
    second = RedisStores.open(options(tmp_path, shared_redis))
    try:
        with first.lock("compact"):
            time.sleep(3.5)  # past the lease: renewed
            with pytest.raises(LockHeld, match=r"held by host .*, pid \d+, since"):  # noqa: SIM117
                with second.lock("compact"):
                    pytest.fail("two holders")
        # a holder that died: the lock taken, never renewed
        dead = first.client.lock(f"{shared_redis.prefix}:lock:compact", timeout=1.5)
        assert dead.acquire(blocking=False)
        with pytest.raises(LockHeld):  # noqa: SIM117
            with second.lock("compact"):
                pytest.fail("two holders")
        time.sleep(1.7)
        with second.lock("compact"):  # lapsed
            pass
    finally:
        first.close()
        second.close()
