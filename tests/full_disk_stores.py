"""A crawl state that cannot be made, as on a full disk (``-s
STATE_STORES=tests.full_disk_stores.FullDiskStores``): the crawl's dedupe stage fails to open."""

from __future__ import annotations

import sqlite3
from typing import NoReturn

from dataset.state.embedded import EmbeddedStores


class FullDiskStores(EmbeddedStores):
    """The embedded stores, whose crawl state SQLite cannot write."""

    def crawl_state(self) -> NoReturn:
        raise sqlite3.OperationalError("database or disk is full")
