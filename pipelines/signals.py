"""Signals the pipeline stages send each other through ``crawler.signals``."""

from __future__ import annotations

articles_committed = object()
"""Sent by the Parquet stage when a data file became visible, with ``file`` (its path relative
to the articles directory) and ``keys`` (one ``(url, canonical_url, content_hash, fetched_at)``
tuple per row). State that must agree with the dataset is recorded on this signal."""

request_done = object()
"""Sent (with ``request``) when a request needs no more work: it failed for good (the spider's
errback), or its response was handled and yielded no item. The shared queue of Redis mode
forgets it then (``crawler/frontier.py``); in embedded mode nobody listens."""
