"""Signals the pipeline stages send each other through ``crawler.signals``, and the mark the
spider puts on the requests whose pages they extract."""

from __future__ import annotations

ARTICLE_META = "article"
"""``Request.meta`` key that marks a request for an article page: its page comes to the
stages as an item (the extract stage starts its workers when the first one is fetched)."""

articles_committed = object()
"""Sent by the Parquet stage when a data file became visible, with ``file`` (its path relative
to the articles directory) and ``keys`` (one ``(url, canonical_url, content_hash, fetched_at)``
tuple per row). State that must agree with the dataset is recorded on this signal."""

commit_requested = object()
"""Sent (no arguments) when the rows held should be committed now rather than when their file
is full: in Redis mode, by the shared scheduler of a worker that has nothing left to fetch,
since the other workers wait until no live worker holds rows it has not committed
(``crawler/frontier/scheduler.py``). The Parquet stage commits its open file, and answers
``True`` while it holds rows (the commit is under way), ``False`` once it holds none."""

commit_check = object()
"""Sent (no arguments) by the Parquet stage before it writes rows (a write may commit a file).
A receiver answers ``None``, or why this process may not commit what it holds: in Redis mode,
the other workers took it for dead and put its requests back into the queue, so that another
may be storing the same articles. The stage then deletes its open file and writes nothing
more (the receiver stops the crawl)."""

request_done = object()
"""Sent (with ``request``) when a request needs no more work: it failed for good (the spider's
errback), or its response was handled and yielded no item. The shared queue of Redis mode
forgets it then (``crawler/frontier/scheduler.py``); in embedded mode nobody listens."""

listing_read = object()
"""Sent by the spider for each feed, sitemap or listing page it read, with ``request``,
``kind`` (``feed``, ``sitemap``, ``page``), ``entries`` (the articles it lists) and ``problem``
(``None``, or why it could not be read in full: ``invalid``, ``malformed``, ``unreadable``).
The source accounting (``crawler/source_accounting.py``) counts them per source."""

fetch_failed = object()
"""Sent by the spider for each request that failed for good, with ``request``, ``kind``
(``http_403``, ``timeout``, ``dns``, ``robots_forbidden``, ...) and ``listing`` (what it was
for: ``feed``, ``sitemap``, ``page``; ``None`` for an article or robots.txt)."""

left_out = object()
"""Sent by the spider for each feed, sitemap or listing page some of whose articles or links it
left out, with ``request`` (the listing's) and ``counts`` (by reason: ``too_old``,
``not_allowed``, ``depth_limited``). The source accounting keeps them per source, to say why a
source found nothing (the run summary)."""

article_skipped = object()
"""Sent by the incremental middleware for each article request it does not send, with
``request`` and ``reason`` (``known``: stored already; ``rejected``: dropped as no article
before)."""

workers_started = object()
"""Sent by the extract stage when it starts its workers, with ``pool`` (its
:class:`~extraction.pool.PagePool`), when it has extraction workers. The language stage asks
them to detect again a text a later stage changed, instead of loading the language profiles in
the crawl process."""
