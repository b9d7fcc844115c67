"""The report as one self-contained HTML page: styles and charts inline, no script, nothing
fetched from the network, so it opens from a file, a mail attachment or an object store.

The figures a reader compares with the dataset carry ``data-`` attributes (the totals, each
source's row), so that a test, or a monitoring script, reads them without parsing prose.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from dataset.html_report.charts import all_charts

if TYPE_CHECKING:
    from datetime import datetime

    from dataset.html_report.charts import Chart
    from dataset.html_report.facts import ReportFacts, SourceFacts

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;
margin:0 auto;max-width:1100px;padding:1.5rem}
h1{font-size:1.6rem;margin:0 0 .2rem}h2{font-size:1.2rem;margin:2rem 0 .6rem;
border-bottom:1px solid #ddd;padding-bottom:.2rem}h3{font-size:1rem;margin:0}
.meta,.caption,.empty,footer{color:#666}
.totals{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.6rem;
margin:1rem 0}.totals div{background:#f6f6f6;border-radius:6px;padding:.5rem .7rem}
.totals dt{font-size:.8rem;color:#666}.totals dd{margin:0;font-size:1.25rem;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:.3rem .5rem;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th:first-child,td:first-child,td.status,th.status{text-align:left}
td.recent{text-align:left;font-family:ui-monospace,monospace;font-size:.85rem}
.run{display:inline-block;min-width:2.2em;text-align:right;margin-right:.15em}
.bad{color:#b3261e;font-weight:600}.good{color:#2e7d32}.new{color:#666}
figure.chart{margin:1.2rem 0 2rem}figure.chart svg{display:block;margin-top:.4rem}
ul.findings li{margin:.2rem 0}
"""


def _number(value: int) -> str:
    return f"{value:,}"


def _size(value: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024  # type: ignore[assignment]
    raise AssertionError  # pragma: no cover


def _day(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d}" if value else "-"


def _totals(facts: ReportFacts) -> str:
    items = [
        ("rows", "articles", _number(facts.rows)),
        ("sources", "sources", _number(len(facts.health))),
        ("languages", "languages", _number(len(facts.languages))),
        ("files", "data files", _number(facts.files)),
        ("bytes", "size", _size(facts.bytes)),
        ("runs", facts.runs_read, _number(facts.run_count)),
        ("published", "published", f"{_day(facts.published_min)} .. {_day(facts.published_max)}"),
        ("unhealthy", "unhealthy sources", _number(len(facts.unhealthy))),
    ]
    raw: dict[str, Any] = {
        "rows": facts.rows,
        "sources": len(facts.health),
        "languages": len(facts.languages),
        "files": facts.files,
        "bytes": facts.bytes,
        "runs": facts.run_count,
        "unhealthy": len(facts.unhealthy),
    }
    cells = "".join(
        f'<div><dt>{escape(label)}</dt><dd data-total="{key}"'
        + (f' data-value="{raw[key]}"' if key in raw else "")
        + f">{escape(shown)}</dd></div>"
        for key, label, shown in items
    )
    return f'<dl class="totals">{cells}</dl>'


def _recent(source: SourceFacts) -> str:
    spans = []
    for row in source.recent:
        broken = source.findings.get(row["run_id"], [])
        title = f"{row['started_at']:%Y-%m-%d %H:%M} UTC: {row['stored']} stored" + "".join(
            f"; {finding.rule}: {finding.detail}" for finding in broken
        )
        mark = "!" if broken else ""
        spans.append(
            f'<span class="run{" bad" if broken else ""}" title="{escape(title)}">'
            f"{row['stored']}{mark}</span>"
        )
    return "".join(spans) or '<span class="new">-</span>'


def _status(source: SourceFacts) -> str:
    status = source.status
    kind = "bad" if status.startswith("unhealthy") else "good" if status == "healthy" else "new"
    return f'<td class="status {kind}" data-field="status">{escape(status)}</td>'


def _health(facts: ReportFacts) -> str:
    if not facts.health:
        return '<p class="empty">No source yet.</p>'
    head = (
        "<tr><th>source</th><th>articles</th><th class=status>latest run</th><th>found</th>"
        "<th>fetched</th><th>stored</th><th>dropped</th><th>errors</th><th>newest</th>"
        "<th>stored in recent runs (oldest first, ! unhealthy)</th></tr>"
    )
    rows = []
    for source in facts.health:
        latest = source.latest or {}
        figures = [
            ("found", latest.get("discovered", 0)),
            ("fetched", latest.get("fetched", 0) + latest.get("rechecked", 0)),
            ("stored", latest.get("stored", 0)),
            ("dropped", sum((latest.get("dropped") or {}).values())),
            ("errors", sum((latest.get("errors") or {}).values())),
        ]
        cells = "".join(
            f'<td data-field="{name}">{_number(int(value))}</td>' for name, value in figures
        )
        rows.append(
            f'<tr data-source="{escape(source.name)}"><td>{escape(source.name)}</td>'
            f'<td data-field="articles">{_number(source.articles)}</td>{_status(source)}{cells}'
            f"<td>{_day(source.newest_published_at)}</td>"
            f'<td class="recent">{_recent(source)}</td></tr>'
        )
    return f'<table id="sources"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _findings(facts: ReportFacts) -> str:
    items = [
        f"<li><b>{run.label}</b> {escape(finding.line())}</li>"
        for run in reversed(facts.runs)
        for finding in run.findings
    ]
    if not items:
        return '<p class="empty">No source was unhealthy in the runs shown.</p>'
    return f'<ul class="findings">{"".join(items)}</ul>'


def _chart(chart: Chart) -> str:
    body = chart.svg or f'<p class="empty">{escape(chart.empty)}</p>'
    return (
        f'<figure class="chart" id="chart-{chart.key}" data-marks="{chart.marks}">'
        f'<figcaption><h3>{escape(chart.title)}</h3><p class="caption">{escape(chart.caption)}'
        f"</p></figcaption>{body}</figure>"
    )


def render(facts: ReportFacts) -> str:
    """The whole page."""
    charts = all_charts(facts, [source.name for source in facts.health])
    first, rest = charts[:1], charts[1:]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Crawl report: {escape(facts.where)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>Crawl report</h1><p class=meta>{escape(facts.where)} · generated "
        f"{facts.generated_at:%Y-%m-%d %H:%M} UTC</p></header>"
        f"<section id=totals>{_totals(facts)}</section>"
        f"<section id=health><h2>Sources</h2>{_health(facts)}"
        f"{''.join(_chart(chart) for chart in first)}"
        f"<h3>Unhealthy sources in the runs shown</h3>{_findings(facts)}</section>"
        f"<section id=charts><h2>Dataset and runs</h2>{''.join(_chart(c) for c in rest)}</section>"
        "<footer><p>Made by <code>scrapy report</code> from the dataset's files and its run "
        "history (<code>runs/</code>); charts by matplotlib.</p></footer>"
        "</body></html>\n"
    )
