"""The report's page (dataset/html_report/page.py): the figures a reader compares with the
dataset, stated where a script finds them; every chart in place; nothing a page could run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import lxml.html
import pytest

from dataset.html_report import make_report
from dataset.html_report.facts import gather
from dataset.html_report.page import render
from dataset.run_history import RunInfo, SourceRun, write_runs
from dataset.storage import location_of
from tests.conftest import ROOT
from tests.test_html_report_facts import T0, write_dataset, write_history

if TYPE_CHECKING:
    from pathlib import Path

CHARTS = (
    "stored-per-run",
    "articles-per-day",
    "dropped-per-run",
    "errors-per-run",
    "languages",
    "dataset-growth",
)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> lxml.html.HtmlElement:
    folder = tmp_path_factory.mktemp("page")
    write_dataset(folder)
    write_history(folder, runs=3)  # the latest run: b.test blocked
    html, _ = make_report(location_of(folder))
    return lxml.html.fromstring(html)


def test_the_totals(page: lxml.html.HtmlElement) -> None:
    values = {
        element.get("data-total"): element.get("data-value")
        for element in page.cssselect("[data-total]")
    }
    assert {key: values[key] for key in ("rows", "sources", "files", "runs", "unhealthy")} == {
        "rows": "8",
        "sources": "2",
        "files": "2",
        "runs": "3",
        "unhealthy": "1",
    }


def test_a_row_per_source_with_its_latest_run_and_history(page: lxml.html.HtmlElement) -> None:
    rows = {row.get("data-source"): row for row in page.cssselect("#sources tbody tr")}
    assert list(rows) == ["alpha", "b.test"]

    def field(source: str, name: str) -> str:
        return str(rows[source].cssselect(f'[data-field="{name}"]')[0].text_content())

    assert (field("alpha", "articles"), field("b.test", "articles")) == ("5", "3")
    assert field("alpha", "status") == "healthy"
    assert field("b.test", "status") == "unhealthy (blocked)"
    assert (field("b.test", "fetched"), field("b.test", "errors")) == ("0", "4")
    recent = rows["b.test"].cssselect("td.recent span")
    assert [span.text_content() for span in recent] == ["4", "4", "0!"]
    assert "blocked: 4 of 4 article requests failed" in recent[2].get("title")
    findings = page.cssselect("ul.findings li")
    assert len(findings) == 1
    assert "source b.test is unhealthy (blocked)" in findings[0].text_content()


def test_every_chart_is_in_place(page: lxml.html.HtmlElement) -> None:
    figures = page.cssselect("figure.chart")
    assert [figure.get("id") for figure in figures] == [f"chart-{key}" for key in CHARTS]
    for figure in figures:
        assert int(figure.get("data-marks")) > 0
        assert len(figure.cssselect("svg")) == 1


def test_the_page_is_self_contained(page: lxml.html.HtmlElement) -> None:
    assert not page.cssselect("script, link, img, iframe, object")
    for element in page.iter():
        for name, value in element.attrib.items():
            if name in ("src", "href") or name.endswith(":href"):
                assert value.startswith("#"), (name, value)


def test_the_recipe_of_the_docs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_dataset(tmp_path / "output")
    write_history(tmp_path / "output", runs=3)
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    code = guide.split("<!-- run by tests/test_html_report_page.py -->\n```python\n", 1)[1]
    monkeypatch.chdir(tmp_path)
    exec(compile(code.split("```", 1)[0], "docs/operations.md", "exec"), {})
    assert capsys.readouterr().out == "8 ['b.test']\n"
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_names_from_the_pages_are_text_not_markup(tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script>'
    info = RunInfo(
        run_id="r1",
        started_at=T0,
        finished_at=T0,
        finish_reason="finished",
        worker="host-1",
    )
    write_runs(location_of(tmp_path), info, [SourceRun(hostile, discovered=1)])
    html = render(gather(location_of(tmp_path)))
    assert "<script>" not in html
    page = lxml.html.fromstring(html)
    assert page.cssselect("#sources tbody tr")[0].get("data-source") == hostile
