"""The base of the project's commands (``crawler.commands``): kept outside that package,
where Scrapy takes every command class it finds for a command of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands import NO_ARGUMENTS_HINT, one_line_errors, stop

if TYPE_CHECKING:
    import argparse


class ProjectCommand(ScrapyCommand):
    """What every command of the project does with its command line: argparse's own errors
    (an option without its value) and the usage errors Scrapy finds are one line with status 2,
    and so is a positional argument, unless :attr:`takes_arguments` (the commands over the
    dataset take none). A command's own checks follow ``super().process_options``."""

    takes_arguments = False

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        one_line_errors(parser)

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            super().process_options(args, opts)
        except UsageError as exc:
            stop(str(exc))
        if args and not self.takes_arguments:
            stop(f"unexpected arguments: {' '.join(args)} {NO_ARGUMENTS_HINT}")
