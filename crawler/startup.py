"""What makes a crawl's start cheaper.

Scrapy's TLS module imported without its ~90 ms of stack inspection.

``scrapy.core.downloader.contextfactory`` (loaded with the HTTP download handler, before any
request) defines three deprecated aliases with ``scrapy.utils.deprecate.create_deprecated_class``,
which calls ``inspect.stack()`` only to read its caller's module. ``inspect.stack()`` reads the
source of every frame on the stack and, for each frame whose file is no module's (the import
system's frozen frames), scans all of ``sys.modules`` (CPython issue 92041): about 30 ms a call
in a crawl process with ~1,000 modules loaded, 90 ms of the crawl's start-up. Imported here with
``inspect.stack`` answering that function what it reads (anyone else as usual), then given back;
the aliases get the same ``__module__``. The add-on imports it before Scrapy builds the downloader.
"""

from __future__ import annotations

import inspect
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

TLS_MODULE = "scrapy.core.downloader.contextfactory"
_ASKER = ("scrapy.utils.deprecate", "create_deprecated_class")


@contextmanager
def _shallow_stack() -> Iterator[None]:
    """``inspect.stack`` answering ``create_deprecated_class`` cheaply, anyone else as usual."""
    original = inspect.stack

    def stack(context: int = 1) -> list[Any]:
        caller = sys._getframe(1)
        asker = (caller.f_globals.get("__name__"), caller.f_code.co_name)
        if asker != _ASKER or caller.f_back is None:
            return original(context)[1:]  # as its caller sees it, without this frame
        # What that code reads: at [1][0], where its caller's module is found. The module
        # itself is given (``inspect.getmodule`` returns a module as it is), so that no scan
        # of ``sys.modules`` looks for it either.
        return [(caller,), (sys.modules[caller.f_back.f_globals["__name__"]],)]

    inspect.stack = stack
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
