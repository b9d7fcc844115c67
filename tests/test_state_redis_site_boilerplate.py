"""Site boilerplate in Redis (:mod:`dataset.state.redis_site_boilerplate`): what workers
learn adds up, and stays bounded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataset.state.redis_site_boilerplate import RedisSiteBoilerplateStore
from extraction.site_boilerplate import SiteBoilerplate

if TYPE_CHECKING:
    from redis import Redis

    from tests.redis_server import RedisTarget


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
