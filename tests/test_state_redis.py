"""The crawl state in Redis (:mod:`dataset.state.redis`): the same answers as the embedded
stores, shared by workers, and claims that die with their worker.

The first tests run against both backends through the :class:`~dataset.state.base.StateStores`
interface: whatever the stages ask, each backend answers alike. The others are Redis's own.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from redis import Redis

from dataset.state import redis as redis_state
from dataset.state.base import LockHeld, Rejection, StateError, StateOptions, StateStores
from dataset.state.embedded import EmbeddedStores
from dataset.state.redis import (
    RedisClaims,
    RedisCopiesLog,
    RedisCrawlState,
    RedisNearIndex,
    RedisSiteBoilerplateStore,
    RedisStores,
    WorkerRegistry,
)
from dataset.storage import location_of
from extraction.signature import Signer
from extraction.site_boilerplate import SiteBoilerplate
from tests.redis_server import free_port, stop_answering

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import numpy as np

    from tests.redis_server import RedisTarget

T1 = datetime(2026, 1, 1, 12, tzinfo=UTC)
T2 = datetime(2026, 2, 1, 12, tzinfo=UTC)


@pytest.fixture
def client(shared_redis: RedisTarget) -> Iterator[Redis]:
    connection = Redis.from_url(shared_redis.url)
    yield connection
    connection.close()


def registry(client: Redis, prefix: str, *, timeout: float = 30.0) -> WorkerRegistry:
    worker = WorkerRegistry(client, prefix, timeout=timeout)
    worker.join(run_keys=[])
    return worker


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


@pytest.fixture(scope="module")
def signatures() -> tuple[np.ndarray, np.ndarray]:
    """A text's signature and the signature of a near copy of it."""
    signer = Signer()
    words = [f"word{i}" for i in range(200)]
    signature = signer.signature(" ".join(words))
    near = signer.signature(" ".join(words[:190] + ["other"] * 10))
    assert signature is not None
    assert near is not None
    return signature, near


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


# --- Redis's own: workers, claims, pending texts, locks ---------------------------------------


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


def test_the_workers_of_one_run_share_its_id(client: Redis, shared_redis: RedisTarget) -> None:
    waiting = WorkerRegistry(client, shared_redis.prefix, timeout=30.0)
    assert waiting.run_id() is None  # not joined yet
    first = registry(client, shared_redis.prefix)
    second = registry(client, shared_redis.prefix)
    run = first.run_id()
    assert run is not None
    assert first.worker_id in run
    assert second.run_id() == run
    first.leave()
    second.leave()
    # nobody is left: the next worker starts a new run
    third = registry(client, shared_redis.prefix)
    assert third.run_id() not in (None, run)
    third.leave()


def test_a_claim_holds_against_other_live_workers_only(
    client: Redis, shared_redis: RedisTarget
) -> None:
    first = registry(client, shared_redis.prefix)
    second = registry(client, shared_redis.prefix)
    claims_1 = RedisClaims(client, shared_redis.prefix, first)
    claims_2 = RedisClaims(client, shared_redis.prefix, second)
    assert claims_1.claim(["https://a/1", "https://a/canonical"], "h1") is None
    assert claims_1.claim(["https://a/1"], "h1") is None  # its own claim again
    assert claims_2.claim(["https://a/other"], "h1") == "content"
    assert claims_2.claim(["https://a/canonical"], "h9") == "url"
    assert claims_2.claim(["https://a/2"], "h2") is None  # nothing partial was kept...
    assert claims_1.claim(["https://a/3"], "h9") is None  # ...by the refused claims
    # released after the commit: free for the others
    claims_1.release(["https://a/1", "https://a/canonical"], ["h1"])
    assert claims_2.claim(["https://a/1"], "h1") is None
    # a worker that stops answering loses its claims
    stop_answering(second)
    assert claims_1.claim(["https://a/2"], "h2") is None
    # the first worker stops: its claims (a/3, h9, a/2, h2) are released, not the others'
    assert claims_1.release_all(first.worker_id) == 4
    third = registry(client, shared_redis.prefix)
    claims_3 = RedisClaims(client, shared_redis.prefix, third)
    assert claims_3.claim(["https://a/3"], "h9") is None
    assert claims_3.claim(["https://a/2"], "h2") is None
    first.leave()
    third.leave()


def test_the_near_index_finds_live_pending_texts_and_skips_dead_ones(
    client: Redis, shared_redis: RedisTarget, signatures: tuple[np.ndarray, np.ndarray]
) -> None:
    signature, near = signatures
    first = registry(client, shared_redis.prefix)
    second = registry(client, shared_redis.prefix)
    index_1 = RedisNearIndex(client, shared_redis.prefix, first)
    index_2 = RedisNearIndex(client, shared_redis.prefix, second)
    assert index_2.find(near) is None
    index_1.add_pending("h1", "row-1", signature)
    match = index_2.find(near)
    assert match is not None
    assert match.row_id == "row-1"
    assert match.similarity >= 0.8
    # the worker dies before committing: its text is no original for anyone
    stop_answering(first)
    assert index_2.find(near) is None
    # committed texts are found whoever committed them, and forgotten on removal
    index_2.add_many([("h1", "row-1", signature)])
    found = index_1.find(near)
    assert found is not None
    assert found.content_hash == "h1"
    assert index_1.row_id("h1") == "row-1"
    assert len(index_1) == 1
    # two texts in the same bands (the same signature): one field, two holders
    index_1.add_many([("h2", "row-2", signature)])
    assert client.hlen(f"{shared_redis.prefix}:near:bands:0") == 1
    index_1.remove_many(["h1"])
    found = index_1.find(near)
    assert found is not None
    assert found.content_hash == "h2"
    index_1.remove_many(["h2"])
    assert index_1.find(near) is None
    assert len(index_1) == 0
    assert not client.keys(f"{shared_redis.prefix}:near:bands:*")  # emptied fields go
    second.leave()


def test_the_state_is_shared_by_its_key_prefix(client: Redis, shared_redis: RedisTarget) -> None:
    RedisCrawlState(client, shared_redis.prefix).record_file(
        "f.parquet", [("https://a/", None, "h")]
    )
    assert RedisCrawlState(client, shared_redis.prefix).has_url("https://a/")
    other_dataset = RedisCrawlState(client, f"{shared_redis.prefix}-other")
    assert not other_dataset.has_url("https://a/")
    assert other_dataset.recorded_files() == set()


def test_site_boilerplate_learnt_by_two_workers_adds_up(
    client: Redis, shared_redis: RedisTarget
) -> None:
    stores = [RedisSiteBoilerplateStore(client, shared_redis.prefix) for _ in range(2)]
    learners = [SiteBoilerplate(min_pages=4, min_share=0.5) for _ in range(2)]
    furniture = "Subscribe to our channel for more news"
    for n in range(6):
        store, learner = stores[n % 2], learners[n % 2]
        url = f"https://site.example/{n}"
        store.load(learner, "site.example")
        assert store.first_visit(url)
        learner.observe("site.example", [furniture, f"Story text number {n} of its own."])
    assert not stores[1].first_visit("https://site.example/0")  # counted once, by anyone
    for store, learner in zip(stores, learners, strict=True):
        assert not learner.is_boilerplate("site.example", furniture)  # 3 pages each
        store.save(learner)
    assert learners[0].sites["site.example"].pages == 3  # saved first: its own pages
    assert stores[0].save(learners[0]) == 0  # nothing new, but what the other saved is read
    # after saving, each worker knows all six pages
    for learner in learners:
        assert learner.sites["site.example"].pages == 6
        assert learner.is_boilerplate("site.example", furniture)
        assert not learner.is_boilerplate("site.example", "Story text number 1 of its own.")
    # a third worker starting now loads what both learnt
    third = SiteBoilerplate(min_pages=4, min_share=0.5)
    RedisSiteBoilerplateStore(client, shared_redis.prefix).load(third, "site.example")
    assert third.is_boilerplate("site.example", furniture)


def _copies(client: Redis, log: RedisCopiesLog) -> list[dict[str, Any]]:
    entries = [json.loads(value) for value in client.hvals(log.key)]
    return sorted(entries, key=lambda entry: (entry["url"], entry["kept_id"] or ""))


def test_the_copies_log_keeps_one_json_entry_per_copy(
    client: Redis, shared_redis: RedisTarget
) -> None:
    # a line per copy per run: the log grew with the runs, not with the copies
    log = RedisCopiesLog(client, shared_redis.prefix)
    log.record("https://b/copy", "row-1", "near", 0.75)
    (record,) = _copies(client, log)
    assert (record["url"], record["kept_id"], record["kind"]) == ("https://b/copy", "row-1", "near")
    assert record["similarity"] == 0.75
    assert datetime.fromisoformat(record["seen_at"]).tzinfo is not None
    for _ in range(3):
        log.record("https://b/copy", "row-1", "near", 0.8)
        log.record("https://c/copy", None, "content", 1.0)
    log.record("https://b/copy", "row-2", "near", 0.6)  # a copy of another kept row
    entries = _copies(client, log)
    assert [(e["url"], e["kept_id"], e["similarity"]) for e in entries] == [
        ("https://b/copy", "row-1", 0.8),
        ("https://b/copy", "row-2", 0.6),
        ("https://c/copy", None, 1.0),
    ]
    assert entries[0]["seen_at"] >= record["seen_at"]  # the last time it was dropped


def test_a_copies_list_of_earlier_versions_is_moved_to_one_entry_per_copy(
    client: Redis, shared_redis: RedisTarget, caplog: pytest.LogCaptureFixture
) -> None:
    legacy = f"{shared_redis.prefix}:copies"
    lines = [
        {
            "url": "https://b/copy",
            "kept_id": "row-1",
            "kind": "near",
            "similarity": day / 10,
            "seen_at": f"2026-01-0{day}T00:00:00+00:00",
        }
        for day in (1, 3, 2)
    ]
    client.rpush(legacy, *(json.dumps(line) for line in lines), "not a copies entry")
    with caplog.at_level("INFO", logger="dataset.state.redis"):
        log = RedisCopiesLog(client, shared_redis.prefix)
    assert not client.exists(legacy)
    assert "Moved 4 entries of the copies log" in caplog.text
    assert _copies(client, log) == [lines[1]]  # the latest
    # a worker killed midway, or two at once: moving again leaves the same
    client.rpush(legacy, json.dumps(lines[0]))
    RedisCopiesLog(client, shared_redis.prefix)
    assert _copies(client, log) == [lines[1]]


def test_site_boilerplate_in_redis_stays_bounded(client: Redis, shared_redis: RedisTarget) -> None:
    store = RedisSiteBoilerplateStore(client, shared_redis.prefix)
    learner = SiteBoilerplate(min_pages=2, min_share=0.5, max_lines=100)
    furniture = "Follow us on our channels"
    store.load(learner, "site.example")
    for page in range(30):  # each page: the furniture and ten lines of its own
        lines = [furniture, *(f"Line {n} of page {page}" for n in range(10))]
        assert store.first_visit(f"https://site.example/{page}")
        learner.observe("site.example", lines)
        if page % 5 == 4:
            store.save(learner)
    key = f"{shared_redis.prefix}:boilerplate:lines:site.example"
    assert client.hlen(key) <= 100  # 301 distinct lines were seen
    assert len(learner.sites["site.example"].counts) <= 100
    assert learner.is_boilerplate("site.example", furniture)  # the frequent line stays
    assert learner.sites["site.example"].pages == 30


def test_a_worker_tells_a_lost_run_from_being_taken_for_dead(
    client: Redis, shared_redis: RedisTarget
) -> None:
    # Redis restarted without its data: every worker said the others took it for dead ("the
    # process was paused"), with no other worker there
    taken = registry(client, shared_redis.prefix)
    client.srem(f"{shared_redis.prefix}:workers", taken.worker_id)  # the others took it over
    assert not taken.beat()
    assert taken.declared_dead.is_set()
    assert not taken.state_lost.is_set()
    lost = registry(client, f"{shared_redis.prefix}x")
    for key in client.scan_iter(f"{shared_redis.prefix}x:*"):
        client.delete(key)  # emptied
    assert not lost.beat()
    assert lost.declared_dead.is_set()
    assert lost.state_lost.is_set()
