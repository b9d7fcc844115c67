"""Scrapy's filesystem HTTP cache, with entries that appear whole.

Scrapy's :class:`~scrapy.extensions.httpcache.FilesystemCacheStorage` writes an entry's files
one after the other, its metadata before its body: a process that reads the entry meanwhile
finds it cached with an empty or half-written body. With several crawler processes sharing
one cache (Redis mode, or two crawls of one output directory) a robots.txt read that way
allows everything. Here an entry is written into a scratch folder and renamed into place.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.extensions.httpcache import FilesystemCacheStorage

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


class AtomicFilesystemCacheStorage(FilesystemCacheStorage):
    """``HTTPCACHE_STORAGE``: Scrapy's filesystem storage, each entry published at once."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self._writing_to: Path | None = None

    def _get_request_path(self, spider: Spider, request: Request) -> str:
        if self._writing_to is not None:
            return str(self._writing_to)
        return super()._get_request_path(spider, request)

    def store_response(self, spider: Spider, request: Request, response: Response) -> None:
        final = Path(self._get_request_path(spider, request))
        unique = f"{os.getpid()}-{secrets.token_hex(4)}"
        scratch = final.with_name(f".{final.name}.{unique}.tmp")
        self._writing_to = scratch
        try:
            super().store_response(spider, request, response)
        except OSError as exc:  # a full disk: the response is used, just not cached
            shutil.rmtree(scratch, ignore_errors=True)
            logger.warning("Cannot cache %s: %s", request.url, exc)
            return
        finally:
            self._writing_to = None
        old = final.with_name(f".{final.name}.{unique}.old")
        with contextlib.suppress(FileNotFoundError):
            final.rename(old)
        try:
            scratch.rename(final)
        except OSError:  # another process published this entry meanwhile: keep its entry
            shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
