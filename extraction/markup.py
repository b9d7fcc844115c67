"""A page's HTML parsed into a tree, also when its elements nest deeper than libxml2 builds.

libxml2's HTML parser (lxml's, trafilatura's) builds no element deeper than 256 levels: at the
first one past that it stops, and everything after it is missing from the tree (an article
inside 1,000 nested ``<div>``s, or after them, is lost whole). Browsers parse such pages and
keep their text (Blink and WebKit cap the tree at 512 levels and attach deeper elements as
siblings). :func:`load_html` parses as trafilatura does and, only when the tree shows that
libxml2 stopped at its limit (:func:`depth_truncated`, a walk down the last children: about
2 microseconds), parses the page again through a parser target (:class:`CappedBuilder`) that
builds a tree no deeper than :data:`MAX_DEPTH`.

libxml2 applies its depth limit in its own tree builder only: a parser target is given every
element at any depth, with libxml2's HTML tree rules (implied and auto-closed elements) applied.
The capped tree leaves out the wrapper elements past :data:`WRAP_DEPTH` (``div``, ``span``,
``font``, ``table``, ...: their content is kept) and keeps the elements trafilatura reads a
text's blocks and boilerplate from (:data:`STRUCTURE`), attached as siblings of the deepest one
past :data:`MAX_DEPTH`. Time and memory are linear in the page (a 2 MB page of 200,000 nested
elements: a fraction of a second). ``tests/test_markup.py`` pins the libxml2 behaviour this
stands on.

Both parses make lxml's HTML element classes with a lookup done in C
(:data:`PARSER`): ``lxml.html``'s own parser (trafilatura's) picks each element's class in
Python, a call every time Python touches an element, which trafilatura, readability and the
rules here do millions of times: about 5% of a page's extraction CPU (``bench/RESULTS.md``),
for the form elements' special classes (``FormElement``, ``InputElement``), which nothing here
uses. :func:`load_html` otherwise parses as trafilatura's ``load_html`` does a string (the same
repairs, the same fallback to bytes, the same test that it is HTML at all).
"""

from __future__ import annotations

from lxml import etree
from lxml.html import (
    HtmlComment,
    HtmlElement,
    HtmlEntity,
    HtmlProcessingInstruction,
    fromstring,
)

LIBXML_MAX_DEPTH = 256
"""libxml2's element depth limit without ``XML_PARSE_HUGE`` (``nodePush`` in its parser)."""
WRAP_DEPTH = 160
"""Past this depth the capped tree leaves wrapper elements out, keeping their content."""
MAX_DEPTH = 200
"""The capped tree's depth: deeper elements become siblings of the deepest one. The margin to
:data:`LIBXML_MAX_DEPTH` leaves room for what the tree's users add or walk."""
STRUCTURE = frozenset(
    {
        *("article", "main", "section", "header", "nav", "footer", "aside"),
        *("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "figure", "figcaption"),
        *("ul", "ol", "li", "dl", "dt", "dd", "a"),
    }
)
"""Elements the capped tree keeps past :data:`WRAP_DEPTH`: what the text's blocks and the
boilerplate rules are read from."""
_ONCE = frozenset({"html", "body"})


def with_html_classes(parser: etree.HTMLParser) -> etree.HTMLParser:
    """``parser``, making lxml's HTML element classes, looked up in C (see the module's
    docstring)."""
    parser.set_element_class_lookup(
        etree.ElementDefaultClassLookup(
            element=HtmlElement,
            comment=HtmlComment,
            pi=HtmlProcessingInstruction,
            entity=HtmlEntity,
        )
    )
    return parser


PARSER = with_html_classes(
    etree.HTMLParser(
        collect_ids=False,
        default_doctype=False,
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
    )
)
"""The parser of every tree made here, with trafilatura's options."""


def link_share(element: HtmlElement, text: str) -> float:
    """The share of ``text`` (the element's text, white space collapsed) that is the text of the
    links inside it (collapsed the same way): above a half, navigation or a list of teasers;
    0.0 for no text."""
    linked = sum(len(" ".join(a.text_content().split())) for a in element.iterdescendants("a"))
    return linked / len(text) if text else 0.0


def parse_html(html: str) -> HtmlElement | None:
    """``html`` parsed as trafilatura's ``load_html`` parses a string, by :data:`PARSER`:
    ``None`` when it is no HTML (no ``html`` in its first 50 characters, and fewer than two
    elements under the root) or cannot be parsed."""
    from trafilatura.utils import is_dubious_html, repair_faulty_html  # noqa: PLC0415

    beginning = html[:50].lower()
    dubious = is_dubious_html(beginning)
    html = repair_faulty_html(html, beginning)
    tree: HtmlElement | None
    try:
        tree = fromstring(html, parser=PARSER)
    except (ValueError, etree.LxmlError):  # ValueError: an encoding declaration, bytes needed
        tree = None
    if tree is None or len(tree) < 1:
        try:
            tree = fromstring(html.encode("utf-8", "surrogatepass"), parser=PARSER)
        except (etree.LxmlError, ValueError):
            tree = None
    if tree is not None and dubious and len(tree) < 2:
        return None
    return tree


def load_html(html: str) -> HtmlElement | None:
    """The page's tree (:func:`parse_html`), or the capped tree when libxml2 stopped at its
    depth limit (the tree as made when the capped parse fails): its root, the ``<html>``
    element, also for a page that is a fragment of one element (``<label>...</label>``),
    which lxml's ``fromstring`` gives as that element, still inside its document. A copy of
    such an element has no parent: htmldate, which copies the tree it is given and drops the
    elements it cleans (``label``, ``svg``, ``video``, ``picture``...), failed an assertion
    dropping the root (an ``AssertionError`` out of the extraction)."""
    tree = parse_html(html)
    if tree is not None and depth_truncated(tree):
        capped = parse_capped(html)
        if capped is not None:
            return capped
    return tree if tree is None else tree.getroottree().getroot()


def depth_truncated(tree: HtmlElement, limit: int = LIBXML_MAX_DEPTH) -> bool:
    """Whether libxml2 stopped parsing this tree at its depth limit: its last element in
    document order is at the limit (libxml2 appends nothing after it stops). A complete page
    whose last element is at exactly that depth is taken for one too: its capped tree differs
    only deeper than :data:`WRAP_DEPTH`."""
    element, depth = tree.getroottree().getroot(), 1
    while len(element):
        element, depth = element[-1], depth + 1
    return depth >= limit


class CappedBuilder:
    """A parser target: lxml's ``TreeBuilder`` with the tree's depth capped (see the module's
    docstring). libxml2 gives every start its end; one byte per element open in the source
    says whether it is open in the tree."""

    def __init__(self, wrap_depth: int = WRAP_DEPTH, max_depth: int = MAX_DEPTH) -> None:
        self._builder = etree.TreeBuilder(parser=PARSER)
        self._wrap_depth, self._max_depth = wrap_depth, max_depth
        self._in_tree = bytearray()
        self._open: list[tuple[int, str]] = []  # the tree's open elements: (index, tag)
        self._seen: set[str] = set()

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        depth = len(self._open)
        if tag in _ONCE:
            if tag in self._seen:  # a second <html> or <body>: libxml2's tree has one
                self._in_tree.append(0)
                return
            self._seen.add(tag)
        elif depth >= self._wrap_depth and tag not in STRUCTURE:
            self._in_tree.append(0)  # a wrapper past wrap_depth: left out, its content kept
            return
        if depth >= self._max_depth:  # a sibling of the deepest element, as in browsers
            index, deepest = self._open.pop()
            self._in_tree[index] = 0
            self._builder.end(deepest)
        try:
            self._builder.start(tag, attrib)
        except ValueError:  # a name lxml refuses (libxml2's HTML tokenizer takes any)
            self._in_tree.append(0)
            return
        self._open.append((len(self._in_tree), tag))
        self._in_tree.append(1)

    def end(self, tag: str) -> None:
        if tag in _ONCE and self._in_tree[-1]:
            return  # what follows </body> or </html> goes in, as libxml2 does
        if self._in_tree.pop():
            self._builder.end(self._open.pop()[1])

    def data(self, data: str) -> None:
        self._builder.data(data)

    def close(self) -> HtmlElement:
        while self._open:
            self._builder.end(self._open.pop()[1])
        root: HtmlElement = self._builder.close()
        return root


def parse_capped(
    html: str, *, wrap_depth: int = WRAP_DEPTH, max_depth: int = MAX_DEPTH, repair: bool = True
) -> HtmlElement | None:
    """``html`` parsed by libxml2 into a tree no deeper than ``max_depth`` (``None`` when it
    cannot be parsed). With ``repair``, first repaired as trafilatura repairs what it parses
    (which imports trafilatura: the crawl process, which reads only links, does without)."""
    if repair:
        from trafilatura.utils import repair_faulty_html  # noqa: PLC0415

        html = repair_faulty_html(html, html[:50].lower())  # what trafilatura gives libxml2
    for data in (html, html.encode("utf-8", "surrogatepass")):  # as a string, else as bytes
        parser = etree.HTMLParser(
            target=CappedBuilder(wrap_depth, max_depth),
            remove_comments=True,
            remove_pis=True,
            encoding="utf-8",
        )
        try:
            tree: HtmlElement = etree.fromstring(data, parser)
        except (etree.LxmlError, ValueError):
            continue
        return tree
    return None


MAX_LIST_DEPTH = 10
"""Lists nested in this many lists are flattened (:func:`flatten_deep_lists`)."""
LISTS = ("ul", "ol", "dl")
_LIST_PARTS = (*LISTS, "li", "dt", "dd")


def flatten_deep_lists(tree: HtmlElement, max_depth: int = MAX_LIST_DEPTH) -> int:
    """Rename to ``div`` the lists nested in ``max_depth`` other lists or more, and their items
    (their content stays); how many such lists had no such list around them.

    trafilatura walks all of a list item's descendants again for each list the item is in: its
    time grows with the nesting of lists times the items below, and a page of 150,000 items
    under 120 nested lists (1.5 MB) took 47 s of CPU. No page of the corpus nests lists more
    than 6 deep (menus nest 3 or 4); past ``max_depth`` the items are blocks like any other.
    One pass over the lists, each asking for its nearest list ancestor (searched in C).
    """
    depths: dict[HtmlElement, int] = {}
    tops: list[HtmlElement] = []
    for element in tree.iter(*LISTS):
        around = next(element.iterancestors(*LISTS), None)
        depth = 0 if around is None else depths[around] + 1
        depths[element] = depth
        if depth == max_depth:
            tops.append(element)
    for top in tops:
        for part in top.iter(*_LIST_PARTS):
            part.tag = "div"
    return len(tops)


MAX_DIV_CHILDREN = 2000
"""A ``div`` with more children than this is split (:func:`split_wide_divs`)."""


def split_wide_divs(tree: HtmlElement, max_children: int = MAX_DIV_CHILDREN) -> int:
    """Move the children of each ``div`` with more than ``max_children`` of them, in order and
    with their tails, into consecutive wrapper ``div``s of at most ``max_children`` each (again
    while the wrappers are more than ``max_children``: no ``div`` keeps more); how many
    ``div``s were split.

    readability (trafilatura's fallback, and :mod:`extraction.second_opinion`) turns the loose
    text in a ``div`` into paragraphs, inserting each one at its child's index, which lxml
    finds by walking the children: its time is quadratic in a ``div``'s children, and a page
    whose ``div`` held 40,000 paragraphs with text between them (750 KB) took 71 s of CPU
    (20,000: 6.4 s). Other containers (``section``, ``li``, ``body``) cost the same page
    linear time. The corpus's widest element has 1,125 children (a ``ul``), its widest ``div``
    290 (a layout table's cell). The wrappers keep the text and its order, and the ``div``
    stays its blocks' grandparent, which readability scores too; it is split again only past
    ``max_children`` squared children (4 million: more than an 8 MB download holds). Run after
    the renames to ``div`` (layout tables, deep lists); linear in the page.
    """
    wide = [div for div in tree.iter("div") if len(div) > max_children]
    for div in wide:
        while len(div) > max_children:
            children = list(div)
            for start in range(0, len(children), max_children):
                wrapper = div.makeelement("div", {})
                wrapper.extend(children[start : start + max_children])
                div.append(wrapper)
    return len(wide)


def bound_costly_shapes(tree: HtmlElement) -> None:
    """Reshape, in place, what makes the text's extraction cost grow faster than the page:
    lists nested in too many lists (:func:`flatten_deep_lists`) and divs of too many children
    (:func:`split_wide_divs`). Real pages are never touched (see the two bounds)."""
    flatten_deep_lists(tree)
    split_wide_divs(tree)
