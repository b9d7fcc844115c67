"""Giving memory the process has freed back to the system.

The C library's allocator (glibc's ``malloc``) keeps memory freed by the program inside the
process, for its next allocations: after a large page is parsed, or rows are written, the
memory they took stays counted in the process's footprint, scattered between what is still in
use. ``malloc_trim`` hands the free parts back. It walks the heap (a few milliseconds for
tens of MB), so it is asked now and then, not after every allocation: every
:data:`WORKER_TRIM_PAGES` pages in an extraction worker, every ``MEMORY_TRIM_INTERVAL`` in the
crawl process (measured in ``bench/RESULTS.md``, "Worker memory").
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache
from typing import Any

WORKER_TRIM_PAGES = 50
"""Pages between two trims in an extraction worker (a trim costs ~6 ms there: 0.1 ms a page)."""


@cache
def _malloc_trim() -> Any | None:
    name = ctypes.util.find_library("c")
    try:
        library = ctypes.CDLL(name)
        return library.malloc_trim
    except (OSError, AttributeError, TypeError):  # not glibc (musl, macOS): nothing to trim
        return None


def give_back() -> bool:
    """Return the allocator's free memory to the system; ``False`` where the C library cannot
    (not glibc)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
