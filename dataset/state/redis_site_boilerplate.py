"""What every worker learnt of each site's boilerplate, in Redis
(:class:`RedisSiteBoilerplateStore`): page and line counts all workers add to."""

from __future__ import annotations

from itertools import chain
from typing import TYPE_CHECKING, Any

from dataset.state.base import key_digest
from dataset.state.redis_connection import as_bytes
from extraction.site_boilerplate import LineCounts

if TYPE_CHECKING:
    import redis

    from extraction.site_boilerplate import SiteBoilerplate


# KEYS[1]: a site's line counts; ARGV[1]: the most kept. Past it, the counts at or below the
# count of the (max/2 + 1)-th most frequent line are deleted, so at most max/2 stay (as
# SiteBoilerplate.forget_rarest does in memory). Returns how many were deleted.
_TRIM_LINES = """
local most = tonumber(ARGV[1])
if redis.call('HLEN', KEYS[1]) <= most then return 0 end
local all = redis.call('HGETALL', KEYS[1])
local counts = {}
for i = 2, #all, 2 do table.insert(counts, tonumber(all[i])) end
table.sort(counts, function(a, b) return a > b end)
local floor = counts[math.floor(most / 2) + 1]
local removed = 0
for i = 1, #all, 2 do
    if tonumber(all[i + 1]) <= floor then
        redis.call('HDEL', KEYS[1], all[i])
        removed = removed + 1
    end
end
return removed
"""


class RedisSiteBoilerplateStore:
    """:class:`~dataset.state.embedded.SqliteSiteBoilerplateStore` in Redis: every worker adds
    the pages and line counts it saw (increments, so no worker overwrites another's), and
    reads back what all of them saw when it saves."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._pages = f"{prefix}:boilerplate:pages"
        self._sites = f"{prefix}:boilerplate:sites"
        self._lines_prefix = f"{prefix}:boilerplate:lines:"
        self._trim = client.register_script(_TRIM_LINES)

    def close(self) -> None:
        """Nothing to release: the client belongs to the caller."""

    def first_visit(self, url: str) -> bool:
        """Record a page; ``False`` when some worker counted it before."""
        digest: Any = key_digest(url)
        return bool(self._redis.sadd(self._pages, digest))

    def load(self, learner: SiteBoilerplate, name: str) -> None:
        if name in learner.sites:
            return
        self._read(learner, name)

    def _read(self, learner: SiteBoilerplate, name: str) -> None:
        site = learner.site(name)
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.hget(self._sites, name)
            pipe.hgetall(self._lines_prefix + name)
            pages, lines = pipe.execute()
        # what this worker counted and has not saved yet stays on top
        site.pages = int(pages or 0) + site.pages_added
        stored = ((as_bytes(digest), int(count)) for digest, count in lines.items())
        site.counts = LineCounts(chain(stored, site.added.items()))  # the pairs of a line add up
        if len(site.counts) > learner.max_lines:
            learner.forget_rarest(site)

    def save(self, learner: SiteBoilerplate) -> int:
        """Add what every site learnt since the last save, then read back what all workers
        learnt of every site in memory; returns how many sites were saved."""
        changed = [(name, site) for name, site in learner.sites.items() if site.dirty]
        if changed:
            with self._redis.pipeline(transaction=True) as pipe:
                for name, site in changed:
                    pipe.hincrby(self._sites, name, site.pages_added)
                    for digest, added in site.added.items():
                        field: Any = digest  # binary field names are fine; the hints say str
                        pipe.hincrby(self._lines_prefix + name, field, added)
                pipe.execute()
        for name, _ in changed:
            # bounded in Redis as in memory: past max_lines, the rarest are forgotten
            self._trim(keys=[self._lines_prefix + name], args=[learner.max_lines])
        for site in learner.sites.values():
            site.dirty = site.rewrite = False
            site.added, site.pages_added = {}, 0
        for name in list(learner.sites):  # what the other workers learnt meanwhile
            self._read(learner, name)
        return len(changed)
