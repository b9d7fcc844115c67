"""Where the time of a crawl goes: ``scrapy crawl news`` under ``cProfile``, summarized by
package.

    .venv/bin/python -m bench.crawl_profile [--pages 2000] [--workdir DIR]

The crawl of the throughput page set with ``EXTRACT_WORKERS=0`` (so that the extraction runs in
the profiled process) under ``python -m cProfile``; main thread only (the Parquet writer thread
is not in it; the profiler slows Python code more than C code). Summarized by package: self time,
and self time with the builtins and standard-library functions (``str`` methods, ``re``,
``copy``, the asyncio loop ...) charged to the packages that called them; the top functions by
self time, and ours by cumulative time. ``make bench-throughput`` runs it after the throughput
crawls; alone, this module prints its tables.
"""

from __future__ import annotations

import argparse
import pstats
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from bench.harness.corpus import EXIT_NO_CORPUS, ROOT, corpus_dir, corpus_missing
from bench.harness.crawls import run_crawl
from bench.harness.pages import PageSet, load_templates
from bench.harness.report import markdown_table, positive, quiet_noisy_loggers, work_dir
from bench.harness.server import serving

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bench.harness.crawls import CrawlRun
    from bench.harness.server import RunningServer

DEFAULT_PAGES = 2000
OURS = "ours (crawler/, pipelines/, extraction/, dataset/)"
_OURS = tuple(
    str(ROOT / package) + "/" for package in ("crawler", "pipelines", "extraction", "dataset")
)

_PACKAGE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Scrapy, Twisted",
        (
            "/scrapy/", "/twisted/", "/w3lib/", "/parsel/", "/itemadapter/", "/zope/",
            "/queuelib/", "/protego/", "/tldextract/", "/service_identity/", "/OpenSSL/",
            "/cryptography/", "/itemloaders/", "/h2/", "/hpack/", "/hyperframe/",
        ),
    ),
    (
        "trafilatura, lxml, htmldate",
        (
            "/trafilatura/", "/lxml/", "/lxml_html_clean/", "/htmldate/", "/justext/",
            "/courlan/", "/charset_normalizer/", "/dateutil/", "/dateparser/",
        ),
    ),
    ("langdetect", ("/langdetect/",)),
    ("numpy (MinHash)", ("/numpy/",)),
    ("pyarrow", ("/pyarrow/",)),
    ("feedparser", ("/feedparser/", "/sgmllib")),
)  # fmt: skip
_BUILTIN_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("waiting for the network (epoll)", ("epoll", "select.", "'poll'")),
    ("sqlite3", ("sqlite3",)),
    ("trafilatura, lxml, htmldate", ("lxml",)),
    ("pyarrow", ("pyarrow",)),
    ("numpy (MinHash)", ("numpy",)),
)
_STDLIB = sysconfig.get_paths()["stdlib"]
_PURELIB = sysconfig.get_paths()["purelib"]


def package_group(filename: str, function: str) -> str:
    """Which part of the crawl a profiled function belongs to."""
    if filename == "~":
        for group, needles in _BUILTIN_GROUPS:
            if any(needle in function for needle in needles):
                return group
        return "builtins (other)"
    if filename.startswith(_OURS):
        return OURS
    if "sqlite3" in filename:
        return "sqlite3"
    for group, needles in _PACKAGE_GROUPS:
        if any(needle in filename for needle in needles):
            return group
    if filename.startswith("<frozen"):
        return "imports (start-up)"
    if filename.startswith(_STDLIB) and "site-packages" not in filename:
        return "Python standard library"
    return "other"


def _short(filename: str, line: int, function: str) -> str:
    if filename == "~":
        return function
    for prefix in (_PURELIB + "/", str(ROOT) + "/", _STDLIB + "/"):
        if filename.startswith(prefix):
            filename = filename.removeprefix(prefix)
            break
    return f"{filename}:{line}({function})"


@dataclass(frozen=True)
class ProfiledFunction:
    name: str
    group: str
    calls: int
    self_seconds: float
    cumulative_seconds: float


_NEUTRAL_GROUPS = frozenset({"builtins (other)", "Python standard library"})
"""Groups whose time is charged to the package that called them (``str.join``, ``re``,
``copy.copy`` ...) in the second view of the profile."""
_FunctionKey = tuple[str, int, str]
_RawStats = dict[_FunctionKey, tuple[int, int, float, float, dict[_FunctionKey, tuple[Any, ...]]]]


@dataclass(frozen=True)
class ProfileSummary:
    total_seconds: float
    groups: dict[str, float]
    """Self time per package group."""
    charged: dict[str, float]
    """Self time per package group, builtins and standard library charged to their callers."""
    functions: tuple[ProfiledFunction, ...]

    def top(self, key: Callable[[ProfiledFunction], float], count: int) -> list[ProfiledFunction]:
        return sorted(self.functions, key=key, reverse=True)[:count]


class _Charger:
    """Charges the time of neutral functions (builtins, standard library) to the groups of the
    functions that called them, through neutral callers, in proportion to the time spent in
    the callee from each caller."""

    def __init__(self, raw: _RawStats) -> None:
        self.raw = raw
        self.group = {key: package_group(key[0], key[2]) for key in raw}
        self.shares: dict[_FunctionKey, dict[str, float]] = {}

    def owners(self, key: _FunctionKey) -> dict[str, float]:
        """The groups a call of ``key`` is charged to, with their shares."""
        group = self.group.get(key, "other")
        if group not in _NEUTRAL_GROUPS:
            return {group: 1.0}
        if key in self.shares:
            return self.shares[key]
        self.shares[key] = {group: 1.0}  # until known: a recursive call charges itself
        callers = {c: v for c, v in self.raw[key][4].items() if c in self.raw and v[3] > 0}
        total = sum(v[3] for v in callers.values())
        if total > 0:
            shares: dict[str, float] = {}
            for caller, values in callers.items():
                for owner, share in self.owners(caller).items():
                    shares[owner] = shares.get(owner, 0.0) + share * values[3] / total
            self.shares[key] = shares
        return self.shares[key]

    def charged(self) -> dict[str, float]:
        groups: dict[str, float] = {}
        for key, (_, _, self_time, _, callers) in self.raw.items():
            charges: list[tuple[str, float]] = [(self.group[key], self_time)]
            if self.group[key] in _NEUTRAL_GROUPS and callers:
                # the callee's self time from each direct caller is in the profile
                charges = [
                    (owner, share * values[2])
                    for caller, values in callers.items()
                    if caller in self.raw
                    for owner, share in self.owners(caller).items()
                ]
                charges.append((self.group[key], self_time - sum(v[2] for v in callers.values())))
            for owner, seconds in charges:
                groups[owner] = groups.get(owner, 0.0) + seconds
        return groups


def _by_time(groups: dict[str, float]) -> dict[str, float]:
    return dict(sorted(groups.items(), key=lambda item: item[1], reverse=True))


def summarize_profile(path: Path) -> ProfileSummary:
    """Self time per package group, and every function's calls, self and cumulative time."""
    stats = pstats.Stats(str(path))
    raw = cast("_RawStats", stats.stats)  # type: ignore[attr-defined]
    groups: dict[str, float] = {}
    functions = []
    for (filename, line, function), (_, calls, self_time, cumulative, _) in raw.items():
        group = package_group(filename, function)
        groups[group] = groups.get(group, 0.0) + self_time
        functions.append(
            ProfiledFunction(_short(filename, line, function), group, calls, self_time, cumulative)
        )
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    return ProfileSummary(
        total_seconds=float(stats.total_tt),  # type: ignore[attr-defined]
        groups=_by_time(groups),
        charged=_by_time(_Charger(raw).charged()),
        functions=tuple(functions),
    )


def profile_tables(summary: ProfileSummary, top: int = 15) -> list[str]:
    total = summary.total_seconds or 1.0
    charged = summary.charged
    names = list(charged) + [name for name in summary.groups if name not in charged]
    groups = markdown_table(
        ["package", "self time s", "share", "with the builtins and stdlib it calls, s", "share"],
        [
            [
                name,
                f"{summary.groups.get(name, 0.0):.1f}",
                f"{summary.groups.get(name, 0.0) / total:.0%}",
                f"{charged.get(name, 0.0):.1f}",
                f"{charged.get(name, 0.0) / total:.0%}",
            ]
            for name in names
        ],
    )

    def rows(functions: list[ProfiledFunction]) -> list[list[str]]:
        return [
            [
                f"`{function.name}`",
                function.group,
                f"{function.calls:,}",
                f"{function.self_seconds:.2f}",
                f"{function.cumulative_seconds:.2f}",
            ]
            for function in functions
        ]

    headers = ["function", "package", "calls", "self s", "cumulative s"]
    by_self = markdown_table(headers, rows(summary.top(lambda f: f.self_seconds, top)))
    ours = [f for f in summary.functions if f.group.startswith("ours")]
    ours.sort(key=lambda f: f.cumulative_seconds, reverse=True)
    by_cumulative = markdown_table(headers, rows(ours[:top]))
    return [
        groups,
        f"Top {top} functions by self time:",
        by_self,
        f"Our top {top} functions by cumulative time:",
        by_cumulative,
    ]


def profiled_crawl(
    server: RunningServer, size: int, work_dir: Path
) -> tuple[CrawlRun, ProfileSummary | None]:
    """The crawl of the first ``size`` pages with ``EXTRACT_WORKERS=0`` under cProfile, and
    the summary of its profile (``None`` when it wrote none)."""
    profile = work_dir / "crawl-inline.prof"
    run = run_crawl(server, size, 0, work_dir, profile=profile, timeout=600 + size * 1.0)
    return run, summarize_profile(profile) if profile.exists() else None


def profile_intro(run: CrawlRun, summary: ProfileSummary) -> str:
    return (
        f"### Where the time goes\n\nThe crawl of {run.size:,} pages with "
        f"`EXTRACT_WORKERS=0` under cProfile ({run.wall:.1f} s wall under the "
        f"profiler, {summary.total_seconds:.1f} s profiled): self time of the "
        "main thread by package (the Parquet writer thread is not profiled; the "
        "profiler slows Python code more than C code)."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.crawl_profile",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument(
        "--pages", type=positive, default=DEFAULT_PAGES, help="pages of the throughput page set"
    )
    parser.add_argument("--workdir", type=Path, help="keep the crawl's output and log here")
    args = parser.parse_args(argv)
    directory = corpus_dir()
    if corpus_missing(directory, "bench-throughput"):
        return EXIT_NO_CORPUS
    quiet_noisy_loggers()
    pages = PageSet(load_templates(directory))
    with work_dir(args.workdir, "crawl-profile") as folder, serving(pages, args.pages) as server:
        run, summary = profiled_crawl(server, args.pages, folder)
    if summary is None:
        print(f"The crawl wrote no profile: see {run.log_file}", file=sys.stderr)
        return 1
    print("\n\n".join([profile_intro(run, summary), *profile_tables(summary)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
