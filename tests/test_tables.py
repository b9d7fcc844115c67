"""Tables that lay out a page (:mod:`extraction.tables`): which are layout, what unwrapping
changes, and what it does to an extracted article."""

from __future__ import annotations

import gzip
from typing import TYPE_CHECKING

from lxml import etree

from demo.site import PAGES_DIR
from extraction.extractor import extract_article
from extraction.markup import parse_html
from extraction.tables import MAX_ROW_CELLS, layout_tables, unwrap_layout_tables

if TYPE_CHECKING:
    import pytest

PARAGRAPHS = [
    (
        "The harbour authority approved the new ferry terminal on Tuesday after two years of "
        "hearings, and construction is to begin in the spring."
    ),
    (
        "Residents of the old town had objected to the traffic the terminal would bring, but "
        "the plan now routes lorries along the ring road instead of the waterfront."
    ),
    (
        "The terminal will serve three routes to the islands and replace the pier built in "
        "1962, which engineers judged unsafe last winter."
    ),
    (
        "The mayor said the town would hold a public meeting in March to present the timetable "
        "and the changes to bus lines that come with it."
    ),
]
MENU = ["Home", "World news today", "Sports results", "Weather forecast", "Contact the team"]
LAID_OUT_PAGE = "cwced/47f387e6-6467-41fd-a165-b13c1171c6e7.html.gz"
TEASERS = [
    "Council votes on the budget for the coming year",
    "Storm closes the coastal road for a second day",
    "Library reopens after a long renovation",
]


def _menu_table() -> str:
    return (
        "<table>"
        + "".join(f'<tr><td><a href="/{i}">{m}</a></td></tr>' for i, m in enumerate(MENU))
        + "</table>"
    )


def _teaser_table() -> str:
    cells = "".join(f'<td><a href="/story/{i}">{t}</a></td>' for i, t in enumerate(TEASERS))
    return f"<table><tr>{cells}</tr></table>"


def _data_table() -> str:
    return (
        "<table><tr><th>Route</th><th>Crossings a day</th></tr>"
        "<tr><td>North island</td><td>12</td></tr><tr><td>South island</td><td>8</td></tr></table>"
    )


def layout_page() -> str:
    """A page set out as a table: menu, article (with a data table in it), teasers."""
    article = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:2]) + _data_table()
    article += "".join(f"<p>{p}</p>" for p in PARAGRAPHS[2:])
    return (
        "<html><head><title>Ferry terminal approved</title></head><body>"
        '<table width="760"><tr>'
        f'<td width="150">{_menu_table()}</td>'
        f"<td><h1>Ferry terminal approved</h1>{article}</td>"
        f'<td width="160">{_teaser_table()}</td>'
        "</tr></table></body></html>"
    )


def test_a_table_holding_tables_is_layout_and_a_data_table_in_it_is_not() -> None:
    tree = parse_html(layout_page())
    tables = list(tree.iter("table"))
    outer, menu, data, teasers = tables
    found = layout_tables(tree)
    # the outer table holds tables; the menu and the teasers inside it are mostly links
    assert found == [outer, menu, teasers]
    assert data not in found


def test_unwrapping_renames_the_layout_and_keeps_text_attributes_and_data_tables() -> None:
    tree = parse_html(layout_page())
    text_before = tree.text_content()
    assert unwrap_layout_tables(tree) == 3
    assert tree.text_content() == text_before
    tables = list(tree.iter("table"))
    assert len(tables) == 1  # the data table stays whole
    assert [cell.text for cell in tables[0].iter("th")] == ["Route", "Crossings a day"]
    assert len(list(tables[0].iter("tr"))) == 3
    # nothing of the layout's structure is left outside the data table
    outside = [
        el for el in tree.iter("tr", "td", "tbody") if next(el.iterancestors("table"), None) is None
    ]
    assert outside == []
    widths = [el.get("width") for el in tree.iter("div") if el.get("width")]
    assert widths == ["760", "150", "160"]


def test_a_cell_with_several_paragraphs_is_a_layout() -> None:
    two = "<table><tr><td><p>One paragraph.</p><p>Another paragraph.</p></td></tr></table>"
    one = (
        "<table><tr><td><p>One paragraph.</p></td>"
        "<td><p>One more, in a cell of its own.</p></td></tr></table>"
    )
    assert len(layout_tables(parse_html(f"<html><body>{two}</body></html>"))) == 1
    assert layout_tables(parse_html(f"<html><body>{one}</body></html>")) == []


def test_a_row_too_wide_for_a_data_table_is_a_layout() -> None:
    # trafilatura counts a row's cells again at each cell: a row of 100,000 cells (1 MB) took
    # 33 s of CPU, written as a table; unwrapped, its cells are blocks like any other
    def page(cells: int, row: str = "<tr>") -> str:
        return f"<html><body><table>{row}{'<td>c</td>' * cells}</table></body></html>"

    assert layout_tables(parse_html(page(MAX_ROW_CELLS))) == []
    assert len(layout_tables(parse_html(page(MAX_ROW_CELLS + 1)))) == 1
    # cells outside a row join the row before them: a table or its body of loose cells too
    assert len(layout_tables(parse_html(page(MAX_ROW_CELLS + 1, row="")))) == 1
    assert len(layout_tables(parse_html(page(MAX_ROW_CELLS + 1, row="<tbody>")))) == 1
    # as many cells in many rows are a long data table
    rows = "<tr><td>a</td><td>b</td></tr>" * MAX_ROW_CELLS
    assert layout_tables(parse_html(f"<html><body><table>{rows}</table></body></html>")) == []


def test_tables_that_are_data_are_left_alone() -> None:
    page = f"<html><body><p>{PARAGRAPHS[0]}</p>{_data_table()}{_menu_table()}</body></html>"
    tree = parse_html(page)
    before = etree.tostring(tree)
    # a links table not inside a layout table is not judged by its links
    assert unwrap_layout_tables(tree) == 0
    assert etree.tostring(tree) == before


def test_an_article_laid_out_in_tables_is_extracted_without_its_menu_and_teasers() -> None:
    page = layout_page().encode()
    extraction = extract_article(page, "https://news.example/ferry", "text/html")
    for paragraph in PARAGRAPHS:
        assert paragraph in extraction.text
    for label in [*MENU[1:], *TEASERS]:
        assert label not in extraction.text
    # the data table is still written as a table's rows, and no other line is
    rows = [line for line in extraction.text.splitlines() if line.startswith("|")]
    assert rows == [
        "| Route | Crossings a day |",
        "|---|---|",
        "| North island | 12 |",
        "| South island | 8 |",
    ]


def test_a_page_laid_out_in_tables_gives_paragraphs_not_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bundled page (an old Chinese portal's, set out in nested tables): kept as tables, its
    text was rows of cells (``| ... |``), the menus' among them; unwrapped, paragraphs."""
    page = gzip.decompress((PAGES_DIR / LAID_OUT_PAGE).read_bytes())
    url = "http://demo.test/articles/" + LAID_OUT_PAGE.removesuffix(".gz")
    text = extract_article(page, url, "text/html").text
    assert "脂溢性脱发属于病理性脱发" in text
    assert not [line for line in text.splitlines() if line.startswith("|")]
    monkeypatch.setattr("extraction.extractor.unwrap_layout_tables", lambda tree: 0)
    rows = extract_article(page, url, "text/html").text
    assert [line for line in rows.splitlines() if line.startswith("|")]
