"""Tables that lay out a page, turned into the blocks they stand for.

Pages made before style sheets (and many made since by old content systems, forums and mail
archives) place everything with ``<table>``s: the page is a table whose cells hold the menu,
the article and the sidebars, each again a table. trafilatura keeps tables (a data table is
content) and writes each row as one line of cells (``| Home | News | Sports |``), so on such a
page it keeps the layout whole, menus and teaser lists included, and its tests for link-heavy
and short blocks, which judge ``<div>``s and ``<p>``s, never see them. On the corpus's old
Chinese portal pages that was half of the text.

:func:`unwrap_layout_tables` renames the structure of a layout table (``table``, ``tbody``,
``tr``, ``td``, ...) to ``div``, so that its cells are judged as the blocks they are. A table is
laid out, not data, when:

- it holds another table (data tables do not nest; layouts do);
- one of its cells holds several paragraphs (``MIN_CELL_PARAGRAPHS``): a column of text, not a
  datum;
- it sits inside a layout table and more than ``MAX_LINK_SHARE`` of its text is links: a menu
  or a list of teasers set as a table;
- one of its rows holds more than ``MAX_ROW_CELLS`` cells: no data table is that wide (the
  corpus's widest row has 27), and trafilatura's time is quadratic in a row's cells (it counts
  the row's cells again at each cell: a row of 100,000 cells, 1 MB, took 33 s of CPU).

Only a layout table's own rows and cells are renamed: a data table inside it stays a table.
One walk over each table's own elements (nested tables are not entered twice), so time is
linear in the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from extraction.markup import link_share

if TYPE_CHECKING:
    from lxml.html import HtmlElement

TABLE_PARTS = frozenset({"tbody", "thead", "tfoot", "tr", "td", "th", "caption", "colgroup"})
"""A table's own structure, renamed with it."""
MIN_CELL_PARAGRAPHS = 2
"""A table one of whose cells holds this many ``<p>`` is a layout."""
MAX_LINK_SHARE = 0.5
"""A table inside a layout table is a layout too when more than this share of its text (in
characters) is the text of links."""
MAX_ROW_CELLS = 1000
"""A table one of whose rows holds more cells than this is no data table (see above)."""
# What holds a row's cells for trafilatura: a row, and (cells outside a row join the row
# before them) the table and its body, head and foot.
_ROWS = frozenset({"tr", "tbody", "thead", "tfoot"})
_CELLS = frozenset({"td", "th"})


class _Table:
    """One table's own elements (its nested tables' excepted) and what they show."""

    def __init__(self, table: HtmlElement) -> None:
        self.element = table
        self.parts: list[HtmlElement] = []
        self.nested = False
        self.column = False
        self.inside = next(table.iterancestors("table"), None) is not None
        self.wide = _cells(table) > MAX_ROW_CELLS
        paragraphs: dict[HtmlElement, int] = {}
        stack: list[tuple[HtmlElement, HtmlElement | None]] = [(child, None) for child in table]
        while stack:
            element, cell = stack.pop()
            tag = element.tag
            if tag == "table":
                self.nested = True
                continue
            if tag in TABLE_PARTS:
                self.parts.append(element)
                if tag in _CELLS:
                    cell = element
                elif tag in _ROWS and not self.wide:
                    self.wide = _cells(element) > MAX_ROW_CELLS
            elif tag == "p" and cell is not None:
                paragraphs[cell] = paragraphs.get(cell, 0) + 1
                self.column = self.column or paragraphs[cell] >= MIN_CELL_PARAGRAPHS
            stack.extend((child, cell) for child in element)

    @property
    def laid_out(self) -> bool:
        # a table inside another is inside a layout: the other holds a table
        return self.nested or self.column or self.wide or (self.inside and self.mostly_links())

    def mostly_links(self) -> bool:
        text = " ".join(self.element.text_content().split())
        return link_share(self.element, text) > MAX_LINK_SHARE


def _cells(element: HtmlElement) -> int:
    # len() first: a row of a few children (every row of a page but the absurd) costs no loop
    if len(element) <= MAX_ROW_CELLS:
        return 0
    return sum(1 for child in element if child.tag in _CELLS)


def layout_tables(tree: HtmlElement) -> list[HtmlElement]:
    """The tables of ``tree`` that lay out the page (see the module's docstring), in document
    order."""
    return [table.element for table in _layout(tree)]


def _layout(tree: HtmlElement) -> list[_Table]:
    return [table for table in map(_Table, tree.iter("table")) if table.laid_out]


def unwrap_layout_tables(tree: HtmlElement) -> int:
    """Rename the structure of the layout tables of ``tree`` to ``div`` (their content and
    attributes stay); how many tables were unwrapped."""
    found = _layout(tree)
    for table in found:
        for part in table.parts:
            part.tag = "div"
        table.element.tag = "div"
    return len(found)
