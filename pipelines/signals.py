"""Signals the pipeline stages send each other through ``crawler.signals``."""

from __future__ import annotations

articles_committed = object()
"""Sent by the Parquet stage when a data file became visible, with ``file`` (its path relative
to the articles directory) and ``keys`` (one ``(url, canonical_url, content_hash, fetched_at)``
tuple per row). State that must agree with the dataset is recorded on this signal."""
