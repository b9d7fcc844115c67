"""The live progress display of a crawl on a terminal, drawn with rich; imported by
:mod:`crawler.progress` only when it shows the display, so that rich costs nothing otherwise.

A small table on stderr, redrawn at each :meth:`LiveProgress.show`. The log lines keep coming
while it is shown: the root log handlers that wrote to stderr write through rich's console
instead, which prints each line above the table and draws the table again below it. When the
display stops, the table is cleared, the handlers get their stream back and the cursor is
shown again.
"""

from __future__ import annotations

import logging
import sys
from typing import IO, TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.live import Live
from rich.segment import Segments
from rich.table import Table

if TYPE_CHECKING:
    from collections.abc import Sequence


def progress_table(elapsed: str, figures: Sequence[tuple[str, str]]) -> Table:
    """The table shown: the figures by name, under a title with the time elapsed."""
    table = Table(
        title=f"crawl progress, {elapsed} elapsed",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,  # 76 columns with 5-digit figures: fits an 80-column terminal
    )
    for name, _ in figures:
        table.add_column(name, justify="right")
    table.add_row(*(value for _, value in figures))
    return table


class LiveProgress:
    """The display, on stderr, from :meth:`start` to :meth:`stop`."""

    def __init__(self, *, force_terminal: bool) -> None:
        # soft_wrap: a long log line is wrapped by the terminal, not cut into lines (a URL in it
        # stays whole when copied)
        self.console = Console(stderr=True, force_terminal=force_terminal, soft_wrap=True)
        # redrawn when told (from the reactor's thread): no refresh thread reading the
        # crawl's figures while the reactor changes them
        self.live = Live(
            console=self.console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,  # stdout may carry a feed export (-o -)
            redirect_stderr=True,
        )
        self._handlers: list[tuple[logging.StreamHandler[IO[str]], IO[str]]] = []
        """The log handlers writing through the console, and the stream each had."""

    def _rendered(self, elapsed: str, figures: Sequence[tuple[str, str]]) -> Segments:
        """The table, rendered once: rich draws the display again below each log line, which
        costs about 2 ms a line when the table itself is rendered each time, 0.2 ms when it was
        rendered already."""
        return Segments(list(self.console.render(progress_table(elapsed, figures))))

    def start(self, elapsed: str, figures: Sequence[tuple[str, str]]) -> None:
        stderr = sys.stderr
        self.live.update(self._rendered(elapsed, figures))
        self.live.start(refresh=True)
        through_console = sys.stderr  # rich's proxy: it prints above the display
        for handler in logging.root.handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is stderr:
                handler.setStream(through_console)
                self._handlers.append((handler, stderr))

    def show(self, elapsed: str, figures: Sequence[tuple[str, str]]) -> None:
        self.live.update(self._rendered(elapsed, figures), refresh=True)

    def stop(self) -> None:
        """Clear the display and show the cursor again; the log handlers write to stderr
        again (a line logged meanwhile goes through the console, which prints it plainly)."""
        try:
            self.live.stop()
        finally:
            for handler, stream in self._handlers:
                handler.setStream(stream)
            self._handlers.clear()
