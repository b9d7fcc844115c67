"""Scrapy's HTTP cache, as a crawl of listings needs it: every cached response asked for again
(revalidated), never served in place of an answer, and entries that appear whole.

Scrapy's :class:`~scrapy.extensions.httpcache.RFC2616Policy` serves a cached response without
asking the server while its headers say it is fresh (``Cache-Control: max-age``, ``Expires``,
or 10% of its age since ``Last-Modified``), serves the cached copy when the server answers with
an error (5xx), and Scrapy's middleware serves it when the server cannot be reached: a feed that
listed new articles meanwhile was not read (its new entries lost once it rolled over), and a
site that was down looked up. Here a cached feed, sitemap or robots.txt is always asked for
again, with its ``ETag``/``Last-Modified`` (a ``304`` answer uses the cached body), and a
failure is a failure (:class:`RevalidatingPolicy`, :class:`HttpCacheMiddleware`).

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

from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware as ScrapyHttpCacheMiddleware
from scrapy.extensions.httpcache import FilesystemCacheStorage, RFC2616Policy

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


class RevalidatingPolicy(RFC2616Policy):
    """``HTTPCACHE_POLICY``: RFC 2616's, except that a cached response is never fresh (it is
    asked for again, with its validators), and only a ``304`` answer makes it valid."""

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        self._set_conditional_validators(request, cachedresponse)
        return False

    def is_cached_response_valid(
        self, cachedresponse: Response, response: Response, request: Request
    ) -> bool:
        return response.status == 304


class HttpCacheMiddleware(ScrapyHttpCacheMiddleware):
    """Scrapy's cache middleware, without its "error recovery": a request that fails (the
    server cannot be reached, a timeout) fails, where Scrapy's returned the cached copy."""

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> Request | Response | None:
        request.meta.pop("cached_response", None)
        return None


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
