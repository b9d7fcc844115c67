"""The report's charts (dataset/html_report/charts.py): one mark per figure drawn, ids of their
own, nothing fetched."""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

import pytest
from lxml import etree

from dataset.html_report.charts import MARK, OTHERS, TOP, Chart, _top, all_charts
from dataset.html_report.facts import gather
from dataset.storage import location_of
from tests.test_html_report_facts import write_dataset, write_history

if TYPE_CHECKING:
    from pathlib import Path

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Chart]:
    folder = tmp_path_factory.mktemp("charts")
    write_dataset(folder)
    write_history(folder)
    facts = gather(location_of(folder))
    return {chart.key: chart for chart in all_charts(facts, ["alpha", "b.test"])}


def _marks(chart: Chart) -> list[etree._Element]:
    assert chart.svg is not None
    tree = etree.fromstring(chart.svg.encode())
    return [g for g in tree.iter(f"{SVG}g") if g.get("id", "").startswith(f"{chart.key}-{MARK}-")]


@pytest.mark.parametrize(
    ("key", "marks"),
    [
        ("stored-per-run", 2),  # a line per source
        ("articles-per-day", 3),  # alpha on two days, b.test on one
        ("dropped-per-run", 4),  # a ListingPage in each of four runs
        ("errors-per-run", 1),  # the 403s of run 3
        ("languages", 2),
        ("dataset-growth", 2),  # size and files
    ],
)
def test_each_chart_draws_one_mark_per_figure(
    charts: dict[str, Chart], key: str, marks: int
) -> None:
    chart = charts[key]
    drawn = _marks(chart)
    assert chart.marks == len(drawn) == marks
    for group in drawn:  # each mark is a drawn shape: a path, or markers placed along a line
        assert any(path.get("d") for path in group.iter(f"{SVG}path"))


def _line_heights(group: etree._Element) -> list[float]:
    """The y of each point of a line's path, upwards (SVG's y grows downwards)."""
    path = next(path for path in group.iter(f"{SVG}path") if path.get("d"))
    numbers = [float(n) for n in re.findall(r"-?[0-9.]+", path.get("d", ""))]
    return [-y for y in numbers[1::2]]


def test_the_drop_of_a_source_is_drawn(charts: dict[str, Chart]) -> None:
    # alpha stored 4 in every run; b.test 4, 4, 0, 4: its line dips at run 3
    alpha, b = (_line_heights(group) for group in _marks(charts["stored-per-run"]))
    assert len(alpha) == len(b) == 4
    assert len(set(alpha)) == 1
    assert b[0] == b[1] == b[3] == alpha[0]
    assert b[2] < b[0]


def test_ids_are_the_charts_own(charts: dict[str, Chart]) -> None:
    ids: list[str] = []
    for chart in charts.values():
        assert chart.svg is not None
        tree = etree.fromstring(chart.svg.encode())
        own = [element.get("id") for element in tree.iter() if element.get("id")]
        assert own
        assert all(name.startswith(f"{chart.key}-") for name in own)
        ids += own
        # every reference points at an id of the same chart
        for element in tree.iter():
            for name, value in element.attrib.items():
                if "url(#" in value:
                    assert value.split("url(#")[1].split(")")[0] in own, (name, value)
    assert len(ids) == len(set(ids))


def test_nothing_is_fetched_and_no_script_runs(charts: dict[str, Chart]) -> None:
    for chart in charts.values():
        assert chart.svg is not None
        tree = etree.fromstring(chart.svg.encode())
        assert not list(tree.iter(f"{SVG}script"))
        for element in tree.iter():
            for name, value in element.attrib.items():
                if name.endswith("href") or name == "src":
                    assert value.startswith("#"), (name, value)


def test_a_chart_with_nothing_to_draw_says_why(tmp_path: Path) -> None:
    charts = all_charts(gather(location_of(tmp_path)), [])
    assert [(chart.svg, chart.marks) for chart in charts] == [(None, 0)] * len(charts)
    assert all(chart.empty for chart in charts)


def test_the_largest_series_are_named_and_the_rest_summed() -> None:
    counts = Counter({f"s{n}": n for n in range(1, TOP + 3)})
    shown = _top(counts)
    assert shown[:2] == [f"s{TOP + 2}", f"s{TOP + 1}"]
    assert len(shown) == TOP + 1
    assert shown[-1] == OTHERS
