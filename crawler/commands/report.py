"""``scrapy report``: the crawl report, one self-contained HTML page, from the dataset under
``OUTPUT_DIR`` and its run history (:mod:`dataset.html_report`).

Written to ``OUTPUT_DIR/report.html`` (an object store's too), or to ``-o FILE`` (``-o -``:
standard output). The runs are judged with the crawl's ``SOURCE_HEALTH_*`` settings.
"""

from __future__ import annotations

import glob
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.commands import (
    EXIT_FAILED,
    checked_settings,
    dataset_holds,
    stop,
    unwritable_file,
)
from crawler.project_command import ProjectCommand
from crawler.source_accounting import health_rules
from dataset.layout import ARTICLES, RUNS, TMP_SUFFIX, left_behind, owner_tag
from dataset.storage import stray_lines
from pipelines.locations import dataset_location

if TYPE_CHECKING:
    import argparse

    from dataset.html_report import ReportFacts
    from dataset.storage import DatasetLocation

REPORT_FILE = "report.html"
"""The report's name in ``OUTPUT_DIR`` when ``-o`` names none."""


def _write_local(path: Path, page: str) -> None:
    """Write the page whole (aside, then renamed): a browser or a web server reading it never
    sees half a page. What a ``scrapy report`` killed meanwhile left aside is removed first
    (only a dead process's: :func:`dataset.layout.left_behind`), one line each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for left in path.parent.glob(f".{glob.escape(path.name)}.*{TMP_SUFFIX}"):
        if left_behind(left, now):
            try:
                left.unlink(missing_ok=True)
            except OSError:  # a read-only folder: writing the page says so
                continue
            print(f"Removed the unfinished page of a killed scrapy report: {left}")
    tmp = path.with_name(f".{path.name}.{owner_tag()}{TMP_SUFFIX}")
    try:
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def write_page(location: DatasetLocation, target: str | None, page: str) -> str:
    """Write ``page`` to ``target`` (a local path, ``-``) or into the dataset's location;
    returns where it went, for people."""
    if target == "-":
        sys.stdout.write(page)
        return "standard output"
    if target is not None:
        path = Path(target)
        _write_local(path, page)
        return path.resolve().as_uri()
    if location.is_local:
        path = location.local_dir() / REPORT_FILE
        _write_local(path, page)
        return path.resolve().as_uri()
    with location.filesystem.open_output_stream(location.path(REPORT_FILE)) as stream:
        stream.write(page.encode("utf-8"))
    return f"{location.display}/{REPORT_FILE}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def describe(facts: ReportFacts) -> str:
    """The report's figures in one line."""
    unhealthy = [source.name for source in facts.unhealthy]
    return (
        f"{_count(facts.rows, 'article')}, {_count(len(facts.health), 'source')}, "
        f"{_count(facts.run_count, 'run')}"
        + (f" since {facts.history_since:%Y-%m-%d %H:%M}" if facts.history_since else "")
        + "; "
        + (f"unhealthy: {', '.join(unhealthy)}" if unhealthy else "no unhealthy source")
    )


class Command(ProjectCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}  # noqa: RUF012 - Scrapy's own class attribute

    def syntax(self) -> str:
        return "[-o FILE]"

    def short_desc(self) -> str:
        return "Write the crawl report (one HTML page) of the dataset under OUTPUT_DIR"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "-o",
            "--output",
            metavar="FILE",
            default=None,
            help=f"write the page to FILE ('-': standard output); default OUTPUT_DIR/{REPORT_FILE}",
        )

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if opts.output is not None and opts.output != "-":
            if not opts.output.strip():
                stop("-o is empty; name a file, or - for standard output")
            if "://" in opts.output:  # a folder "s3:" was made and the page written there
                stop(
                    f"-o {opts.output}: name a local file; the report goes into an object "
                    f"store as OUTPUT_DIR/{REPORT_FILE} when -o is not given"
                )
            if Path(opts.output).is_dir():
                stop(f"-o {opts.output} is a folder; name a file, e.g. {opts.output}/{REPORT_FILE}")
            problem = unwritable_file(Path(opts.output))
            if problem is not None:  # found after the whole page was made, before
                stop(f"-o {opts.output}: cannot write it ({problem})")
        assert self.settings is not None
        self.checked = checked_settings(self.settings)
        location = dataset_location(self.checked)
        if opts.output is None and location.is_local and location.local_dir().is_dir():
            default = location.local_dir() / REPORT_FILE
            problem = unwritable_file(default)
            if problem is not None:  # a read-only dataset: found after the whole page, exit 1
                stop(f"cannot write the report to {default} ({problem}); give -o FILE")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        settings = self.checked
        location = dataset_location(settings)
        if not dataset_holds(location, ARTICLES, RUNS):
            stop(f"no dataset and no run history under {location.display}")
        # imported here: Scrapy imports every command's module when any command starts, and
        # matplotlib would add a third of a second to each crawl's start
        from dataset.html_report import make_report  # noqa: PLC0415

        try:
            page, facts = make_report(location, health_rules(settings))
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            stop(f"cannot read {location.display}: {exc}", EXIT_FAILED)
        try:
            where = write_page(location, opts.output, page)
        except OSError as exc:
            stop(f"cannot write the report: {exc}", EXIT_FAILED)
        # the page itself may be on standard output: the line goes where the page does not
        out = sys.stderr if opts.output == "-" else sys.stdout
        print(f"Report written to {where} ({describe(facts)})", file=out)
        for line in stray_lines(ARTICLES, facts.strays):
            sys.stderr.write(f"scrapy: error: {line}\n")
        if facts.strays:
            self.exitcode = EXIT_FAILED
