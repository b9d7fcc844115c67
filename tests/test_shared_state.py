"""The Redis state of Redis mode: the same answers as the embedded stores, shared by workers,
and claims that die with their worker."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from redis import Redis

from crawler.redis_mode import WorkerRegistry
from crawler.shared_state import (
    Claims,
    CopiesLog,
    RedisCrawlState,
    RedisNearIndex,
    RedisSiteBoilerplateStore,
)
from crawler.state import CrawlState
from pipelines.near_duplicates import Signer
from pipelines.site_boilerplate import SiteBoilerplate
from tests.redis_server import stop_answering

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

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


def test_redis_state_answers_like_the_embedded_state(
    tmp_path: Path, client: Redis, shared_redis: RedisTarget
) -> None:
    embedded = CrawlState.open(tmp_path)
    shared = RedisCrawlState(client, shared_redis.prefix)
    keys = [
        ("https://a.example/1", "https://a.example/1", "h1", T1),
        ("https://a.example/2?amp", "https://a.example/2", "h2", T1),
        ("https://a.example/2?amp", "https://a.example/2", "h2", T2),
    ]
    for state in (embedded, shared):
        state.record_file("fetch_date=2026-01-01/part-1.parquet", keys)
        state.record_file("fetch_date=2026-01-01/part-2.parquet", [("https://b/", None, "h3")])
    for url in ("https://a.example/1", "https://a.example/2", "https://a.example/2?amp", "x"):
        assert shared.has_url(url) == embedded.has_url(url)
        assert shared.stored_at(url) == embedded.stored_at(url)
    assert shared.stored_at("https://a.example/2") == T2  # the newest fetch wins
    assert shared.stored_at("https://b/") is None  # recorded without a fetch time
    for content_hash in ("h1", "h2", "h3", "h4"):
        assert shared.has_content(content_hash) == embedded.has_content(content_hash)
    assert shared.recorded_files() == embedded.recorded_files()
    shared.replace_files(
        ["fetch_date=2026-01-01/part-1.parquet", "fetch_date=2026-01-01/part-2.parquet"],
        [("fetch_date=2026-01-01/compacted.parquet", 3)],
    )
    assert shared.recorded_files() == {"fetch_date=2026-01-01/compacted.parquet"}
    assert shared.has_url("https://a.example/1")  # the keys stay
    embedded.close()


def test_recover_records_the_files_the_state_missed(
    tmp_path: Path, client: Redis, shared_redis: RedisTarget
) -> None:
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
    state = RedisCrawlState(client, shared_redis.prefix)
    assert state.recover(tmp_path / "articles") == ["fetch_date=2026-01-01/part-1.parquet"]
    assert state.has_url("https://a/1")
    assert state.has_content("h1")
    assert state.sync(tmp_path / "articles") == 0


def test_a_claim_holds_against_other_live_workers_only(
    client: Redis, shared_redis: RedisTarget
) -> None:
    first = registry(client, shared_redis.prefix)
    second = registry(client, shared_redis.prefix)
    claims_1 = Claims(client, shared_redis.prefix, first)
    claims_2 = Claims(client, shared_redis.prefix, second)
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
    claims_3 = Claims(client, shared_redis.prefix, third)
    assert claims_3.claim(["https://a/3"], "h9") is None
    assert claims_3.claim(["https://a/2"], "h2") is None
    first.leave()
    third.leave()


def test_the_near_index_finds_live_pending_texts_and_skips_dead_ones(
    client: Redis, shared_redis: RedisTarget
) -> None:
    signer = Signer()
    words = [f"word{i}" for i in range(200)]
    text = " ".join(words)
    signature = signer.signature(text)
    near = signer.signature(" ".join(words[:190] + ["other"] * 10))
    assert signature is not None
    assert near is not None
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
    # two texts in the same bands (the same signature): both held, one removed, one found
    index_1.add_many([("h2", "row-2", signature)])
    assert client.hlen(f"{shared_redis.prefix}:near:bands:0") == 1  # one field, two holders
    index_1.remove_many(["h1"])
    found = index_1.find(near)
    assert found is not None
    assert found.content_hash == "h2"
    index_1.remove_many(["h2"])
    assert index_1.find(near) is None
    assert len(index_1) == 0
    assert not client.keys(f"{shared_redis.prefix}:near:bands:*")  # emptied fields go
    second.leave()


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


def test_the_copies_log_keeps_one_json_line_per_copy(
    client: Redis, shared_redis: RedisTarget
) -> None:
    log = CopiesLog(client, shared_redis.prefix)
    log.record("https://b/copy", "row-1", "near", 0.75)
    assert client.llen(log.key) == 1
    entry = client.lindex(log.key, 0)
    assert entry is not None
    record = json.loads(entry)
    assert (record["url"], record["kept_id"], record["kind"]) == ("https://b/copy", "row-1", "near")
    assert record["similarity"] == 0.75
    assert datetime.fromisoformat(record["seen_at"]).tzinfo is not None


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
