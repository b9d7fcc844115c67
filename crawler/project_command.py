"""The base of the project's commands (``crawler.commands``): kept outside that package,
where Scrapy takes every command class it finds for a command of its own."""

from __future__ import annotations

import functools
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.settings import SETTINGS_PRIORITIES

from crawler.commands import (
    EXIT_INTERRUPTED,
    NO_ARGUMENTS_HINT,
    nowhere,
    one_line_errors,
    open_files_raised,
    standard_streams_open,
    stop,
    unwritable_file,
)

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable


class ProjectCommand(ScrapyCommand):
    """What every command of the project does with its command line: argparse's own errors
    (an option without its value) and the usage errors Scrapy finds are one line with status 2,
    and so is a positional argument, unless :attr:`takes_arguments` (the commands over the
    dataset take none). A command's own checks follow ``super().process_options``."""

    takes_arguments = False

    stops_in_one_line = True
    """``SIGTERM`` and Ctrl-C end the command with one line and the status a shell gives them
    (143, 130), after its own clean-up (a compaction completes or undoes the partition it was
    at, frees its locks): ``SIGTERM`` ended it at once, with no line and no clean-up, and
    Ctrl-C with a traceback. Not for the crawl, which stops gracefully on its own."""
    stopped_note = ""
    """What the line of a stop adds (what was left as it was), from ``; ``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        run = cls.__dict__.get("run")
        if run is not None:
            run = _quiet_when_output_closes(run)
        if run is not None and cls.stops_in_one_line:
            run = _one_line_when_stopped(run)
        if run is not None:
            cls.run = run  # type: ignore[method-assign]

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        # the first of a command's methods Scrapy calls, before it sets up its logging
        standard_streams_open()
        open_files_raised()
        super().add_options(parser)
        one_line_errors(parser)

    def command_name(self) -> str:
        """The name Scrapy runs the command by (its module's)."""
        return type(self).__module__.rsplit(".", 1)[-1]

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        # Scrapy writes the pid file here, the profile at the end, the log from the start: a
        # place none can be written was a traceback (the profile's after the whole command)
        for option, path in (("--pidfile", opts.pidfile), ("--profile", opts.profile)):
            if path and (problem := unwritable_file(Path(path))) is not None:
                stop(f"{option} {path}: cannot write it ({problem})")
        try:
            super().process_options(args, opts)
        except UsageError as exc:
            stop(str(exc))
        if args and not self.takes_arguments:
            stop(f"unexpected arguments: {' '.join(args)} {NO_ARGUMENTS_HINT}")
        assert self.settings is not None
        log_file = self.settings.get("LOG_FILE")
        if log_file:
            if (problem := unwritable_file(Path(log_file))) is not None:
                stop(f"LOG_FILE={log_file}: cannot write it ({problem})")
            Path(log_file).parent.mkdir(parents=True, exist_ok=True)  # as for a feed


def _quiet_when_output_closes(run: Callable[..., None]) -> Callable[..., None]:
    """``run``, ended quietly when the reader of the standard output stops reading (``scrapy
    summary | head -1``), its exit status as it was (a traceback, exit 1, before): every
    command sets its status before it prints (the crawl's summary)."""

    @functools.wraps(run)
    def guarded(self: ProjectCommand, args: list[str], opts: argparse.Namespace) -> None:
        try:
            run(self, args, opts)
            sys.stdout.flush()
        except BrokenPipeError:
            nowhere(sys.stdout)

    return guarded


EXIT_TERMINATED = 128 + signal.SIGTERM
"""``SIGTERM``, as a shell reports a process it ended."""


class Terminated(BaseException):
    """``SIGTERM`` received: raised where the command is, so its clean-up runs (a
    ``BaseException``, as ``KeyboardInterrupt``: no ``except Exception`` swallows it)."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def _one_line_when_stopped(run: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(run)
    def guarded(self: ProjectCommand, args: list[str], opts: argparse.Namespace) -> None:
        previous = signal.signal(signal.SIGTERM, _terminate)
        try:
            run(self, args, opts)
        except KeyboardInterrupt:
            stop(f"{self.command_name()} interrupted (Ctrl-C){self.stopped_note}", EXIT_INTERRUPTED)
        except Terminated:
            stop(f"{self.command_name()} stopped (SIGTERM){self.stopped_note}", EXIT_TERMINATED)
        finally:
            signal.signal(signal.SIGTERM, previous)

    return guarded


DATASET_LEFT_ALONE: dict[str, Any] = {
    "PARQUET_ENABLED": False,
    "DEDUPE_ENABLED": False,
    "SITE_BOILERPLATE_ENABLED": False,
    "INCREMENTAL_ENABLED": False,
    "SOURCE_HISTORY_ENABLED": False,
    "SOURCE_HEALTH_ENABLED": False,
    "REPORT_ENABLED": False,
    "HTTPCACHE_ENABLED": False,
    "EXTRACT_WORKERS": 0,
    "SCHEDULER": "scrapy.core.scheduler.Scheduler",
    "DUPEFILTER_CLASS": "scrapy.dupefilters.RFPDupeFilter",
    "JOBDIR": None,
    "ADDRESS_GUARD_ENABLED": False,
}
"""What Scrapy's other commands that fetch run without: the dataset, the crawl state, the run
history and reports, the HTTP cache, the extraction workers, the disk queues; and the address
guard, which refused the URL they are given when it is on this machine or the intranet (they
fetch what they are asked to, and follow no page's links)."""


class DatasetLeftAlone(ScrapyCommand):
    """Scrapy's commands that fetch pages (``fetch``, ``view``, ``shell``, ``parse``,
    ``check``, ``bench``, ``runspider``), made to leave the dataset alone: they run without the
    run lock and the checks of ``scrapy crawl``, and wrote rows, crawl reports and run history
    into ``OUTPUT_DIR`` (a ``scrapy fetch`` became the last crawl of ``scrapy summary``, a
    ``runspider`` a run of every source's health, even while a crawl held the lock), and the
    disk queue of the crawl made ``scrapy shell URL`` hang. What ``-s`` sets is kept."""

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        for name, value in DATASET_LEFT_ALONE.items():
            if (self.settings.getpriority(name) or 0) < SETTINGS_PRIORITIES["cmdline"]:
                self.settings.set(name, value, priority="cmdline")
