"""The request filter of Redis mode: scrapy-redis's dupefilter, one Redis set of Scrapy's
request fingerprints shared by every worker and cleared when a run begins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy_redis.dupefilter import RFPDupeFilter

if TYPE_CHECKING:
    import redis
    from scrapy import Request
    from scrapy.utils.request import RequestFingerprinterProtocol


class SharedDupeFilter(RFPDupeFilter):
    """scrapy-redis's dupefilter with Scrapy's request fingerprints (the ones the rest of the
    crawl uses); the scheduler gives it its key, and marks requests seen in the step that queues
    them (:meth:`ReliableQueue.push_unseen`), not with ``request_seen``."""

    def __init__(
        self,
        server: redis.Redis,
        key: str,
        *,
        fingerprinter: RequestFingerprinterProtocol,
        debug: bool = False,
    ) -> None:
        super().__init__(server, key, debug=debug)
        self.fingerprinter = fingerprinter

    def request_fingerprint(self, request: Request) -> str:
        return self.fingerprinter.fingerprint(request).hex()

    def close(self, reason: str = "") -> None:
        """Keep the fingerprints: other workers are still crawling this run."""
