"""The human summary a crawl prints when it ends, after Scrapy's stats: totals, a table of the
sources, why a source found nothing where it is known, the top drop reasons and fetch errors,
the unhealthy sources. About fifteen lines,
made from the source accounting (:mod:`crawler.source_accounting`) and the crawl's stats."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from pipelines.stats import ELAPSED_TIME, FINISH_REASON

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from dataset.health import Finding
    from dataset.run_history import SourceRun

MAX_SOURCES = 8
"""Sources shown in the table (the unhealthy ones first, then the most found); the others are
summed in one line."""
TOP = 4
"""Drop reasons and fetch errors shown."""
_LEFT_OUT = {
    "too_old": "{n} listed articles older than its max_age",
    "not_allowed": "{n} listed articles outside its allowed_domains or allow/deny patterns",
    "depth_limited": "{n} section and next-page links past its max_depth not followed",
}
"""Why a source's listings left articles out (the spider's ``left_out`` signal)."""
_COLUMNS = ("found", "skipped", "fetched", "stored", "dropped", "errors", "newest")


def _row(name: str, runs: Sequence[SourceRun]) -> list[str]:
    newest = max((r.newest_published_at for r in runs if r.newest_published_at), default=None)
    return [
        name,
        str(sum(r.discovered for r in runs)),
        str(sum(r.skipped_known + r.skipped_rejected for r in runs)),
        str(sum(r.fetched + r.rechecked for r in runs)),
        str(sum(r.stored for r in runs)),
        str(sum(sum(r.dropped.values()) for r in runs)),
        str(sum(sum(r.errors.values()) for r in runs)),
        f"{newest:%Y-%m-%d}" if newest else "-",
    ]


def _found_nothing(run: SourceRun, left_out: Counter[str]) -> str | None:
    """Why a source found no article, where it is known: what its listings left out;
    ``None`` for a source that found some, or of which nothing is known (its errors are in
    the table, and the health lines say what they and feeds that list nothing mean)."""
    if run.discovered:
        return None
    reasons = [_LEFT_OUT[why].format(n=n) for why, n in left_out.most_common() if why in _LEFT_OUT]
    return ", ".join(reasons) or None


def _top(counts: Counter[str]) -> str:
    shown = ", ".join(f"{kind} {count}" for kind, count in counts.most_common(TOP))
    more = len(counts) - TOP
    return (shown + (f" (+{more} more)" if more > 0 else "")) or "none"


def run_summary(
    stats: Mapping[str, Any],
    sources: Sequence[SourceRun],
    unhealthy: Sequence[Finding] | None,
    left_out: Mapping[str, Counter[str]] | None = None,
) -> str:
    """The summary's lines (ending with a newline); ``unhealthy`` is ``None`` where this
    process did not judge the run (a Redis worker that left it to the run's last);
    ``left_out``: what each source's listings left out, by reason, to say why a source found
    nothing (one line each, the first :data:`MAX_SOURCES`)."""
    # an unhealthy source, often one that found nothing, is never summed away in "N more"
    named = {finding.source for finding in unhealthy or ()}
    ordered = sorted(
        sources, key=lambda run: (run.source not in named, -run.discovered, run.source)
    )
    total = _row("all", ordered)
    seconds = float(stats.get(ELAPSED_TIME.name) or 0)
    head = (
        f"Run {stats.get(FINISH_REASON.name, '?')} in {seconds:.1f} s: {total[1]} articles found, "
        f"{total[2]} skipped as known, {total[3]} fetched, {total[4]} stored, "
        f"{total[5]} dropped, {total[6]} requests failed"
    )
    lines = [head]
    rows = [["source", *_COLUMNS]]
    rows += [_row(run.source, [run]) for run in ordered[:MAX_SOURCES]]
    rest = ordered[MAX_SOURCES:]
    if rest:
        rows.append(_row(f"{len(rest)} more", rest))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            row[0].ljust(widths[0]),
            *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)),
        ]
        lines.append("  " + "  ".join(cells))
    said = [
        f"  {run.source} found nothing: {why}"
        for run in ordered
        if (why := _found_nothing(run, (left_out or {}).get(run.source, Counter())))
    ]
    lines += said[:MAX_SOURCES]
    if len(said) > MAX_SOURCES:
        lines.append(f"  {len(said) - MAX_SOURCES} more sources found nothing")
    dropped: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for run in sources:
        dropped.update(run.dropped)
        errors.update(run.errors)
    lines.append(f"  dropped: {_top(dropped)}")
    lines.append(f"  fetch errors: {_top(errors)}")
    if unhealthy is None:
        lines.append("  unhealthy: judged by the last worker of the run to stop")
    elif unhealthy:
        lines += [f"  unhealthy: {finding.line()}" for finding in unhealthy]
    else:
        lines.append("  unhealthy: none")
    return "\n".join(lines) + "\n"
