"""The report's charts, drawn by matplotlib as static SVG (text kept as text, no script).

Each chart is a :class:`Chart`: its SVG, ready to sit inline in the page (its element ids
prefixed with the chart's key, so that several charts in one page do not share ids), and the
number of data marks it drew (bars, points), which the page states and the tests count. A chart
with nothing to show has no SVG and says why.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import date

    from matplotlib.axes import Axes

    from dataset.html_report.facts import Growth, ReportFacts, RunFacts

TOP = 8
"""Series shown by name (sources, reasons, kinds); the others are summed as ``others``."""
OTHERS = "others"
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip
"""Tableau's ten colours (colour-blind friendly), the same series in the same colour."""
GREY = "#9d9d9d"
MARK = "mark"
"""The id of every data mark's group (``<g id="<chart>-mark-<n>">``)."""
_STYLE: dict[Any, Any] = {
    "svg.fonttype": "none",  # text as <text>, searchable, small
    "svg.hashsalt": "news-crawler",  # the same ids for the same chart
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e5e5e5",
}


@dataclass(frozen=True)
class Chart:
    """One chart of the report."""

    key: str
    title: str
    caption: str
    svg: str | None
    """The inline SVG; ``None`` when there was nothing to draw."""
    marks: int
    """Data marks drawn."""
    empty: str = ""
    """Why nothing was drawn."""


class _Marks:
    """Numbers the data marks of one chart."""

    def __init__(self) -> None:
        self.count = 0

    def tag(self, artists: Any) -> None:
        for artist in artists:
            artist.set_gid(f"{MARK}-{self.count}")
            self.count += 1


def _top(counts: Counter[str], keep: int = TOP) -> list[str]:
    """The names shown: the ``keep`` largest (ties by name), and ``others`` for the rest."""
    ranked = sorted(counts, key=lambda name: (-counts[name], name))
    return ranked[:keep] + ([OTHERS] if len(ranked) > keep else [])


def _folded(counts: Counter[str], shown: Sequence[str]) -> Counter[str]:
    """``counts`` with the names not shown summed under ``others``."""
    folded: Counter[str] = Counter()
    for name, count in counts.items():
        folded[name if name in shown else OTHERS] += count
    return folded


def _svg(key: str, figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # no XML declaration or DOCTYPE inside HTML
    text = re.sub(r'\bid="([^"]+)"', rf'id="{key}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{key}-\1)", text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{key}-\1"', text)
    # the page sizes it: as wide as its box, never wider than drawn
    return re.sub(
        r'<svg([^>]*?) width="([0-9.]+)pt" height="([0-9.]+)pt"',
        r'<svg\1 style="max-width:\2pt;width:100%;height:auto" role="img"',
        text,
        count=1,
    )


def _draw(
    key: str, size: tuple[float, float], draw: Callable[[Axes, _Marks], None]
) -> tuple[str, int]:
    with rc_context(_STYLE):
        figure = Figure(figsize=size, layout="constrained")
        axes = figure.add_subplot()
        marks = _Marks()
        draw(axes, marks)
        return _svg(key, figure), marks.count


def _stacked(
    axes: Axes,
    marks: _Marks,
    labels: Sequence[str],
    series: dict[str, list[int]],
    colours: dict[str, str],
) -> None:
    """Stacked bars, one bar per label, one segment per series with a count."""
    bottoms = [0] * len(labels)
    positions = list(range(len(labels)))
    for name, values in series.items():
        drawn = [(x, v, b) for x, v, b in zip(positions, values, bottoms, strict=True) if v]
        if drawn:
            xs, heights, base = zip(*drawn, strict=True)
            bars = axes.bar(
                xs, heights, bottom=base, color=colours.get(name, GREY), label=name, width=0.7
            )
            marks.tag(bars.patches)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    _label_x(axes, labels)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="x", visible=False)
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)


MAX_LABELS = 16
"""Labels written under an x axis at most (every n-th one beyond)."""


def _label_x(axes: Axes, labels: Sequence[str]) -> None:
    """One tick per position, a label on every n-th (the last one always), some room at the
    ends so that one bar is not as wide as the chart."""
    step = max(1, -(-len(labels) // MAX_LABELS))
    last = len(labels) - 1
    shown = [label if (last - i) % step == 0 else "" for i, label in enumerate(labels)]
    axes.set_xticks(range(len(labels)), shown, rotation=45 if len(labels) > 6 else 0, ha="right")
    axes.set_xlim(-0.75, len(labels) - 0.25)


def colours_of(names: Sequence[str]) -> dict[str, str]:
    """A colour per name, in order; ``others`` grey."""
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    colours[OTHERS] = GREY
    return colours


def stored_per_run(facts: ReportFacts, colours: dict[str, str]) -> Chart:
    """Articles stored per run, one line per source: a source that stops yielding dips."""
    key, title = "stored-per-run", "Articles stored per run"
    caption = (
        f"The last {len(facts.runs)} of {facts.run_count} {facts.runs_read}, one line per source"
        f" (the {TOP} that stored most by name)."
    )
    if not facts.runs:
        return Chart(key, title, caption, None, 0, "No run history yet (output/runs/).")
    total: Counter[str] = Counter()
    for run in facts.runs:
        total.update(run.stored)
        total.update(dict.fromkeys(run.stored, 0))
    shown = _top(total)
    labels = [run.label for run in facts.runs]

    def draw(axes: Axes, marks: _Marks) -> None:
        for name in shown:
            values = [_folded(run.stored, shown).get(name, 0) for run in facts.runs]
            (line,) = axes.plot(
                range(len(labels)), values, marker="o", color=colours.get(name, GREY), label=name
            )
            marks.tag([line])
        unhealthy = [i for i, run in enumerate(facts.runs) if run.findings]
        for i in unhealthy:
            axes.axvspan(i - 0.4, i + 0.4, color="#e15759", alpha=0.12, linewidth=0)
        _label_x(axes, labels)
        axes.set_ylim(bottom=0)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel("articles stored")
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)

    svg, marks = _draw(key, (7.5, 3.0), draw)
    return Chart(key, title, caption + " Shaded: runs that found a source unhealthy.", svg, marks)


def articles_per_day(facts: ReportFacts, colours: dict[str, str]) -> Chart:
    key, title = "articles-per-day", "Articles per day of publication"
    caption = f"The last {len(facts.per_day)} days with articles, by source (UTC)." + (
        f" {facts.undated} articles without a publication date are not shown."
        if facts.undated
        else ""
    )
    if not facts.per_day:
        return Chart(key, title, caption, None, 0, "No dated article in the dataset.")
    total: Counter[str] = Counter()
    for counts in facts.per_day.values():
        total.update(counts)
    shown = _top(total)
    days: list[date] = list(facts.per_day)
    series = {
        name: [_folded(facts.per_day[day], shown).get(name, 0) for day in days] for name in shown
    }
    labels = [f"{day:%m-%d}" for day in days]

    def draw(axes: Axes, marks: _Marks) -> None:
        _stacked(axes, marks, labels, series, colours)
        axes.set_ylabel("articles")

    svg, marks = _draw(key, (7.5, 3.0), draw)
    return Chart(key, title, caption, svg, marks)


def language_mix(facts: ReportFacts) -> Chart:
    key, title = "languages", "Language mix"
    caption = f"Articles per detected language ({len(facts.languages)} languages)."
    if not facts.languages:
        return Chart(key, title, caption, None, 0, "No article in the dataset.")
    shown = _top(facts.languages, 12)
    counts = _folded(facts.languages, shown)

    def draw(axes: Axes, marks: _Marks) -> None:
        names = list(reversed(shown))
        bars = axes.barh(names, [counts[name] for name in names], color=PALETTE[0])
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        marks.tag(bars.patches)
        axes.bar_label(bars, padding=2, fontsize=8)
        axes.grid(axis="y", visible=False)
        axes.set_xlabel("articles")

    svg, marks = _draw(key, (5.0, 0.6 + 0.25 * len(shown)), draw)
    return Chart(key, title, caption, svg, marks)


def _per_run(
    key: str,
    title: str,
    caption: str,
    runs: Sequence[RunFacts],
    pick: Callable[[RunFacts], Any],
    *,
    unit: str,
) -> Chart:
    total: Counter[str] = Counter()
    for run in runs:
        total.update(pick(run))
    if not total:
        return Chart(key, title, caption, None, 0, "None in the runs shown.")
    shown = _top(total, 6)
    colours = colours_of([name for name in shown if name != OTHERS])
    series = {name: [_folded(pick(run), shown).get(name, 0) for run in runs] for name in shown}

    def draw(axes: Axes, marks: _Marks) -> None:
        _stacked(axes, marks, [run.label for run in runs], series, colours)
        axes.set_ylabel(unit)

    svg, marks = _draw(key, (7.5, 2.6), draw)
    return Chart(key, title, caption, svg, marks)


def dropped_per_run(facts: ReportFacts) -> Chart:
    return _per_run(
        "dropped-per-run",
        "Pages dropped per run, by reason",
        "Fetched pages not stored (a listing, no article, a duplicate, ...).",
        facts.runs,
        lambda run: run.dropped,
        unit="pages",
    )


def errors_per_run(facts: ReportFacts) -> Chart:
    return _per_run(
        "errors-per-run",
        "Failed requests per run, by kind",
        "HTTP errors, timeouts, DNS failures, pages robots.txt forbids.",
        facts.runs,
        lambda run: run.errors,
        unit="requests",
    )


def dataset_growth(facts: ReportFacts) -> Chart:
    key, title = "dataset-growth", "Dataset size and files"
    caption = (
        "The committed files added up by the run that wrote them (by day when there are many; "
        "compaction rewrites files, which then count when rewritten)."
    )
    points: list[Growth] = facts.growth
    if not points:
        return Chart(key, title, caption, None, 0, "No data file yet.")

    def draw(axes: Axes, marks: _Marks) -> None:
        labels = [point.label for point in points]
        positions = range(len(points))
        (size,) = axes.plot(
            positions, [p.bytes / 2**20 for p in points], marker="o", color=PALETTE[0]
        )
        axes.set_ylabel("MiB", color=PALETTE[0])
        axes.set_ylim(bottom=0)
        files = axes.twinx()
        (count,) = files.plot(
            positions, [p.files for p in points], marker="s", color=PALETTE[1], linestyle="--"
        )
        files.set_ylabel("files", color=PALETTE[1])
        files.set_ylim(bottom=0)
        files.yaxis.set_major_locator(MaxNLocator(integer=True))
        files.grid(visible=False)
        marks.tag([size, count])
        _label_x(axes, labels)

    svg, marks = _draw(key, (7.5, 2.6), draw)
    return Chart(key, title, caption, svg, marks)


def all_charts(facts: ReportFacts, sources: Sequence[str]) -> list[Chart]:
    """Every chart of the report, in the page's order; ``sources`` in the order their colours
    are given (the health table's)."""
    colours = colours_of(sources)
    return [
        stored_per_run(facts, colours),
        articles_per_day(facts, colours),
        dropped_per_run(facts),
        errors_per_run(facts),
        language_mix(facts),
        dataset_growth(facts),
    ]
