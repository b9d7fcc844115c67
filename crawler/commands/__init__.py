"""Project commands: ``scrapy crawl`` (checked, locked, with an exit status a scheduler can act
on), ``scrapy summary``, ``scrapy report``, ``scrapy compact``; and what they share: the exit
statuses and the checks they make before they do anything."""

from __future__ import annotations

import contextlib
import os
import resource
import sys
from typing import TYPE_CHECKING, NoReturn, TextIO

from crawler.addon import effective_settings
from crawler.settings_check import settings_problem
from dataset.storage import StoreUnreachable, folder_exists

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    from scrapy.settings import BaseSettings

    from dataset.storage import DatasetLocation

EXIT_OK = 0
"""The command did what was asked."""
EXIT_FAILED = 1
"""The crawl (or the command) failed; its reason is on the last line."""
EXIT_USAGE = 2
"""A usage or configuration error: nothing was done."""
EXIT_LOCKED = 3
"""Another crawl holds the dataset: nothing was done."""
EXIT_UNHEALTHY = 4
"""The crawl finished, but a source is unhealthy (``SOURCE_HEALTH_*``; the last line names
each, with the rule it broke)."""
EXIT_INTERRUPTED = 130
"""Ctrl-C (``SIGINT``) before the crawl started, as a shell reports it: nothing was done."""


def stop(message: str, status: int = EXIT_USAGE) -> NoReturn:
    """Stop the command with ``status`` and one line on stderr, ``scrapy: error: message``
    (raised as ``SystemExit``: Scrapy lets it through, with no traceback). When nothing reads
    stderr any more (``2>&1 | true``, a log shipper that died), the status still says it: the
    failed write made it 1."""
    try:
        sys.stderr.write(f"scrapy: error: {' '.join(message.split())}\n")
        sys.stderr.flush()
    except OSError:
        nowhere(sys.stderr)
    raise SystemExit(status)


def nowhere(stream: TextIO) -> None:
    """Point ``stream``, whose reader is gone (a closed pipe), at ``/dev/null``: what is left
    to flush goes nowhere, and Python's exit does not fail on it (nor change the status). A
    stream with no file descriptor (a test harness's) is left as it is."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def open_files_raised() -> None:
    """Raise this process's limit of open files to what its hard limit allows (``ulimit -n``:
    the soft limit, which a process may raise itself, is often 1,024 and sometimes far less in
    a job runner or container): a crawl holds a connection per request in flight, its state's
    SQLite files, its workers' pipes and its data files, and at a soft limit of 36 it stored
    nothing and exited 1 with tracebacks while its hard limit allowed thousands."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, OPEN_FILES)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


OPEN_FILES = 4096
"""The soft limit of open files a command raises its own to, within its hard limit."""


STANDARD_STREAMS = (("stdin", os.O_RDONLY), ("stdout", os.O_WRONLY), ("stderr", os.O_WRONLY))
"""The standard streams by file descriptor (0, 1, 2), with the mode each is opened in."""


def standard_streams_open() -> None:
    """Give a command started with a standard stream closed (by a job runner or a daemon that
    closes them) ``/dev/null`` in its place: Python made that stream ``None``, and Scrapy's
    logging failed on a missing stderr (exit 1, no message anywhere, nothing stored), while a
    missing stdout's number went to the first file the crawl opened (its lock file), which the
    extraction workers then inherited as their stdout."""
    for number, (name, mode) in enumerate(STANDARD_STREAMS):
        try:
            os.fstat(number)
        except OSError:
            opened = os.open(os.devnull, mode)  # the lowest free number: this one
            if opened != number:
                os.dup2(opened, number)
                os.close(opened)
        if getattr(sys, name) is None:
            setattr(sys, name, open(number, "r" if mode == os.O_RDONLY else "w", closefd=False))  # noqa: SIM115


def dataset_holds(location: DatasetLocation, *folders: str) -> bool:
    """Whether the dataset at ``location`` holds any of ``folders`` (``articles``, ``runs``);
    an object store that cannot be reached, or refuses the credentials, stops the command
    (status 2, one line), as it stops a crawl."""
    try:
        return any(folder_exists(location, folder) for folder in folders)
    except StoreUnreachable as exc:
        stop(str(exc))


def one_line_errors(parser: argparse.ArgumentParser) -> None:
    """Make the command line's own errors (an option without its value, a value of the wrong
    type) one line with status 2, as every other usage error: argparse printed Scrapy's usage
    block before it (four lines)."""

    def error(message: str) -> NoReturn:
        stop(message)

    parser.error = error  # type: ignore[method-assign]


def unwritable_file(path: Path) -> str | None:
    """Why the local file ``path`` cannot be opened for writing (its folders made, as Scrapy
    makes a feed's), or ``None``; what is made to find out is removed again, and nothing is
    truncated."""
    existed = path.exists()
    made = [folder for folder in path.parents if not folder.exists()]
    above = next((folder for folder in path.parents if folder.exists()), None)
    if above is not None and not above.is_dir():
        return f"{above} is not a folder"
    made_file = False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab"):
            made_file = not existed
    except OSError as exc:
        return exc.strerror or str(exc)
    finally:
        if made_file:  # on a read-only filesystem even a missing file's unlink fails
            with contextlib.suppress(OSError):
                path.unlink()
        for folder in made:  # the deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()
    return None


NO_ARGUMENTS_HINT = "(the dataset is OUTPUT_DIR: -s OUTPUT_DIR=...)"


def checked_settings(settings: BaseSettings) -> BaseSettings:
    """``settings`` as the add-ons leave them, once every setting was found usable; else the
    command stops with the first problem (status 2)."""
    effective = effective_settings(settings)
    problem = settings_problem(effective)
    if problem is not None:
        stop(problem)
    return effective
