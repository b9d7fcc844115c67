"""What makes a crawl's start cheaper.

Scrapy's TLS module imported without its ~90 ms of stack inspection.

``scrapy.core.downloader.contextfactory`` (loaded with the HTTP download handler, before any
request) defines three deprecated aliases with ``scrapy.utils.deprecate.create_deprecated_class``,
which calls ``inspect.stack()`` only to read its caller's module. ``inspect.stack()`` reads the
source of every frame on the stack and, for each frame whose file is no module's (the import
system's frozen frames), scans all of ``sys.modules`` (CPython issue 92041): about 30 ms a call
in a crawl process with ~1,000 modules loaded, 90 ms of the crawl's start-up. Imported here with
``inspect.stack`` answering the two frames that code reads, then given back; the aliases get the
same ``__module__``. The add-on imports it before Scrapy builds the downloader.
"""

from __future__ import annotations

import inspect
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

TLS_MODULE = "scrapy.core.downloader.contextfactory"


def _caller_frames(context: int = 1) -> list[Any]:
    """What that code reads of ``inspect.stack()``: at ``[1][0]``, where its caller's module is
    found. The module itself is given (``inspect.getmodule`` returns a module as it is), so
    that no scan of ``sys.modules`` looks for it either."""
    caller = sys._getframe(1)
    module = sys.modules[caller.f_back.f_globals["__name__"]] if caller.f_back else None
    return [(caller,), (module,)]


@contextmanager
def _shallow_stack() -> Iterator[None]:
    original = inspect.stack
    inspect.stack = _caller_frames
    try:
        yield
    finally:
        inspect.stack = original


def import_tls() -> None:
    """Import Scrapy's TLS context factory module once, cheaply (no-op when already imported)."""
    if TLS_MODULE in sys.modules:
        return
    with _shallow_stack():
        __import__(TLS_MODULE)
