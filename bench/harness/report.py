"""What every benchmark's report and command line need: markdown tables, the machine line,
the sections of ``bench/RESULTS.md``, progress lines, and the work directory."""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import logging
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bench.harness.corpus import ROOT

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

T = TypeVar("T")
MIB = 1024 * 1024
RESULTS_FILE = ROOT / "bench" / "RESULTS.md"
RESULTS_HEADER = (
    "# Benchmark results\n\n"
    "Written by the benchmarks in `bench/` (`make bench`); each one rewrites only the section\n"
    "between its own markers.\n"
)
NOISY_LOGGERS = ("trafilatura", "htmldate", "courlan")
"""Libraries that log a warning for every odd page."""
MACHINE_PACKAGES = ("Scrapy", "trafilatura")


# --- tables and lines ---------------------------------------------------------------------------


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def mib(size: float) -> str:
    """Bytes as whole MiB with thousands separators."""
    return f"{size / MIB:,.0f}"


def counts(found: dict[str, int]) -> str:
    """``reason count, ...``, or ``none``."""
    return ", ".join(f"{name} {count}" for name, count in found.items()) or "none"


def machine_line(packages: Sequence[str] = MACHINE_PACKAGES) -> str:
    """CPUs, platform, Python, and the versions of ``packages`` and of the crawler."""
    versions = [f"{name} {importlib.metadata.version(name)}" for name in packages]
    versions.append(f"crawler {importlib.metadata.version('news_crawler')}")
    return (
        f"{os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), {platform.platform()}, "
        f"Python {platform.python_version()}; " + ", ".join(versions)
    )


# --- bench/RESULTS.md ---------------------------------------------------------------------------


def update_section(name: str, section: str, path: Path = RESULTS_FILE) -> None:
    """Put ``section`` between the ``name`` markers of ``path`` (created when missing)."""
    start_marker, end_marker = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start_marker}\n{section.strip()}\n{end_marker}"
    text = path.read_text(encoding="utf-8") if path.exists() else RESULTS_HEADER
    start, end = text.find(start_marker), text.find(end_marker)
    if start != -1 and end > start:
        text = text[:start] + block + text[end + len(end_marker) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def publish(text: str, section: str, *, write: bool, path: Path = RESULTS_FILE) -> None:
    """Print a benchmark's report, and write it as ``section`` of ``path`` when asked."""
    print(text)
    if write:
        update_section(section, text, path)
        print(f"Wrote {path}", file=sys.stderr)


# --- running --------------------------------------------------------------------------------------


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed_step(durations: dict[str, float], name: str, call: Callable[[], T]) -> T:
    """``call()``, its wall time noted in ``durations`` under ``name``, with progress lines."""
    progress(f"{name} ...")
    started = time.perf_counter()
    result = call()
    durations[name] = time.perf_counter() - started
    progress(f"{name}: {durations[name]:.1f} s")
    return result


def durations_line(durations: dict[str, float]) -> str:
    return "Run times: " + ", ".join(f"{name}: {s:.0f} s" for name, s in durations.items()) + "."


def quiet_noisy_loggers() -> None:
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def command_of(module: str, argv: Sequence[str] | None) -> str:
    """The command that ran a benchmark module, as the report shows it."""
    given = sys.argv[1:] if argv is None else list(argv)
    return shlex.join([".venv/bin/python", "-m", module, *given])


@contextlib.contextmanager
def work_dir(keep_in: Path | None, prefix: str) -> Iterator[Path]:
    """A fresh directory for a run's outputs and logs: under ``keep_in`` (kept), else a
    temporary one (removed afterwards)."""
    if keep_in is not None:
        keep_in.mkdir(parents=True, exist_ok=True)
        yield Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=keep_in))
        return
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as folder:
        yield Path(folder)


# --- argument types -----------------------------------------------------------------------------


def positive(value: str) -> int:
    number = int(value.replace("_", ""))
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def count(value: str) -> int:
    number = int(value.replace("_", ""))
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, not {number}")
    return number


def positive_list(value: str) -> tuple[int, ...]:
    """Comma-separated positive numbers, each once, in order."""
    try:
        numbers = tuple(int(part.replace("_", "")) for part in value.split(",") if part.strip())
    except ValueError:
        numbers = ()
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError("positive numbers, comma-separated")
    return tuple(dict.fromkeys(numbers))


def extract_workers_list(value: str) -> tuple[int | None, ...]:
    """An argument listing EXTRACT_WORKERS values (``None`` for ``default``: left unset)."""
    workers: list[int | None] = []
    for part in (part.strip() for part in value.split(",")):
        if part == "default":
            workers.append(None)
        elif part.isdigit():
            workers.append(int(part))
        else:
            raise argparse.ArgumentTypeError(
                "EXTRACT_WORKERS values are 'default' or process counts, comma-separated, "
                f"not {part!r}"
            )
    return tuple(dict.fromkeys(workers))


def workers_label(workers: int | None) -> str:
    """An EXTRACT_WORKERS value as the reports show it."""
    return "default" if workers is None else str(workers)
