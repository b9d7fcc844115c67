"""``Retry-After``: a site that answers ``429 Too Many Requests`` or ``503 Service
Unavailable`` and says when to come back is not asked again before then.

Scrapy's retry middleware retries those answers at once (three requests within a second), and
AutoThrottle reads only latencies. Here, before the retry middleware sees the answer:

* a wait of at most ``RETRY_AFTER_MAX`` seconds becomes the delay of the site's download slot
  (every request to the site waits, not only the one retried; AutoThrottle brings the delay
  down again as the site answers);
* a longer wait (``Retry-After: 86400``) means not in this run: the request is not retried
  (it fails as ``http_429``/``http_503``, one line), and the site's other requests of the run
  are not sent before that time either: each fails at once as ``retry_after`` (one line each),
  where spacing them by a long delay would hold a scheduled crawl for hours.

Counted as ``news/fetch/retry_after/waited`` and ``news/fetch/retry_after/given_up``.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Self

from scrapy.exceptions import IgnoreRequest, NotConfigured

from pipelines.setting import flag, seconds
from pipelines.stats import FETCH_RETRY_AFTER_GIVEN_UP, FETCH_RETRY_AFTER_WAITED

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

RETRY_AFTER_ENABLED = flag(
    "RETRY_AFTER_ENABLED",
    True,
    "a `429` or `503` answer's `Retry-After` is obeyed: the site is not asked again before it "
    "says (off: Scrapy retries at once)",
)
RETRY_AFTER_MAX = seconds(
    "RETRY_AFTER_MAX",
    60,
    "the longest `Retry-After` waited for within a run; a site asking for longer is not "
    "asked again in this run",
    minimum=1,
)
SETTINGS = (RETRY_AFTER_ENABLED, RETRY_AFTER_MAX)
STATUSES = frozenset({429, 503})


def retry_after_seconds(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds (delta-seconds or an HTTP date;
    ``0`` for a date past); ``None`` when there is none or it cannot be read."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware:
    """Obeys ``Retry-After`` on ``429`` and ``503`` answers (see the module's documentation)."""

    def __init__(self, crawler: Crawler, *, longest: float) -> None:
        self.crawler = crawler
        self.longest = longest
        self.resting: dict[str, float] = {}
        """Download slots (sites) not to be asked before a monotonic time."""

    def process_request(self, request: Request) -> None:
        if not self.resting:  # every request passes here: no slot key to make for none
            return
        until = self.resting.get(self._slot_key(request))
        left = (until or 0.0) - time.monotonic()
        if left > 0:
            raise IgnoreRequest(f"Retry-After: the site asked to be left alone for {left:.0f} s")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not RETRY_AFTER_ENABLED.read(crawler.settings):
            raise NotConfigured("RETRY_AFTER_ENABLED is off")
        return cls(crawler, longest=RETRY_AFTER_MAX.read(crawler.settings))

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in STATUSES:
            return response
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait is None:
            return response
        stats = self.crawler.stats
        assert stats is not None
        if wait > self.longest:
            request.meta["dont_retry"] = True
            self.resting[self._slot_key(request)] = time.monotonic() + wait
            stats.inc_value(FETCH_RETRY_AFTER_GIVEN_UP.name)
            logger.info(
                "%s asks to come back in %.0f s (over RETRY_AFTER_MAX, %g s): not asked again"
                " in this run: %s",
                response.status,
                wait,
                self.longest,
                request.url,
            )
        else:
            stats.inc_value(FETCH_RETRY_AFTER_WAITED.name)
            self._slow_down(request, wait)
        return response

    def _slot_key(self, request: Request) -> str:
        engine = self.crawler.engine
        if engine is None:
            return ""
        return str(engine.downloader.get_slot_key(request))

    def _slow_down(self, request: Request, delay: float) -> None:
        """Make the site's download slot wait ``delay`` seconds between its requests."""
        engine = self.crawler.engine
        if engine is None:
            return
        slot = engine.downloader.slots.get(self._slot_key(request))
        if slot is None:
            return
        # a delay with jitter j is from (1 - j) to (1 + j) times the slot's: at least `delay`
        wanted = delay / max(1.0 - slot.jitter, 0.1)
        slot.delay = max(slot.delay, wanted)
