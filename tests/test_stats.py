"""Tests for pipelines/stats.py: every stat declared once, and counted and read as declared.

The code is read, not run: every call of a stats collector's ``inc_value``, ``set_value``,
``max_value`` or ``min_value`` (or of a method that passes its argument on to one, such as the
Redis scheduler's ``_inc``) names a declared stat, by its declaration or a literal; every
declared ``news/`` stat is counted somewhere, with the method of its kind; and no ``news/``
name is typed again outside the declarations (the code reads them through the declarations;
the tests may type them, and they must be declared).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from pipelines import stats
from pipelines.stats import FETCH_ERROR, ROBOTS_ERROR, ROBOTS_HTTP_ERROR, Kind, Stat, declared

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = ROOT / "pipelines" / "stats.py"
CODE = ("crawler", "pipelines", "dataset", "extraction", "bench", "demo")
"""The folders of code that may count or read a stat."""
METHODS = {kind.method: kind for kind in Kind}
STAGES = {stat.name.split("/")[1] for stat in stats.STATS}
"""The ``<stage>`` of every ``news/<stage>/<event>``."""
NOT_STATS = {"articles", "runs", "html"}
"""``news/<x>/...`` strings of the tests that are no stats: the folders of a dataset (or a
copy of one) named ``news``."""
SAME_NAMED_FIELDS = {stats.FINISH_REASON.name}
"""Scrapy stats whose name is also a field of something else the code reads: the crawl
report's and the run history's ``finish_reason``."""
_STAT_LIKE = re.compile(r"news/([a-z_]+)/[\w/<>{}.=-]*")


def _files(folders: tuple[str, ...]) -> list[Path]:
    return [path for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))]


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _code_files() -> list[Path]:
    return [path for path in _files(CODE) if path != REGISTRY]


@dataclass(frozen=True)
class Write:
    """A call that counts or sets a stat."""

    where: str
    """``path:line``."""
    method: str
    """The stats collector's method it comes down to."""
    stat: Stat | None
    """What it names, when it names a declared stat."""
    text: str
    """Its argument, as written."""
    literal: str | None
    """The name it gives as a string (an f-string's placeholders as ``x``), if it does."""


def _declaration(node: ast.expr) -> Stat | None:
    """The stat ``node`` names through its declaration: ``X.name``, ``X.of(...)`` (``X`` a
    constant of pipelines/stats.py, bare or as ``module.X``)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr != "of":
            return None
        held = node.func.value
    elif isinstance(node, ast.Attribute) and node.attr == "name":
        held = node.value
    else:
        return None
    name = held.id if isinstance(held, ast.Name) else getattr(held, "attr", None)
    found = getattr(stats, name, None) if name else None
    return found if isinstance(found, Stat) else None


def _sample(node: ast.JoinedStr) -> str:
    """An f-string with each placeholder as ``x``."""
    return "".join(
        str(part.value) if isinstance(part, ast.Constant) else "x" for part in node.values
    )


def _wrappers(trees: list[ast.Module]) -> dict[str, str]:
    """Functions that pass their argument on to a stats collector's method: name -> method."""
    found: dict[str, str] = {}
    for tree in trees:
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            parameters = {arg.arg for arg in function.args.args}
            for call in ast.walk(function):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
                    continue
                if call.func.attr in METHODS and call.args:
                    first = call.args[0]
                    if isinstance(first, ast.Name) and first.id in parameters:
                        found[function.name] = call.func.attr
    return found


@cache
def writes() -> tuple[Write, ...]:
    """Every call of the code that counts or sets a stat."""
    paths = _code_files()
    wrappers = _wrappers([_tree(path) for path in paths])
    found = []
    for path in paths:
        tree = _tree(path)
        forwarded = {  # the calls inside a wrapper that count whatever it is given
            id(call)
            for function in ast.walk(tree)
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
            for call in ast.walk(function)
            if isinstance(call, ast.Call)
            and call.args
            and isinstance(call.args[0], ast.Name)
            and call.args[0].id in {arg.arg for arg in function.args.args}
        }
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call) or id(call) in forwarded or not call.args:
                continue
            func = call.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            method = called if called in METHODS else wrappers.get(called)
            if method is None:
                continue
            first = call.args[0]
            literal = None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                literal = first.value
            elif isinstance(first, ast.JoinedStr):
                literal = _sample(first)
            stat = _declaration(first) if literal is None else declared(literal)
            found.append(
                Write(
                    where=f"{path.relative_to(ROOT)}:{call.lineno}",
                    method=method,
                    stat=stat,
                    text=ast.unparse(first),
                    literal=literal,
                )
            )
    return tuple(found)


def _strings(path: Path) -> list[tuple[int, str]]:
    """The string literals of ``path`` (an f-string with its placeholders as ``x``)."""
    found = []
    inside = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.JoinedStr):
            found.append((node.lineno, _sample(node)))
            inside.update(id(part) for part in node.values)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in inside
        ):
            found.append((node.lineno, node.value))
    return found


# --- the declarations --------------------------------------------------------------------


def test_the_declarations_are_found() -> None:
    assert len(stats.STATS) >= 80
    assert len(stats.SCRAPY_STATS) >= 5
    assert len(writes()) >= 90


@pytest.mark.parametrize("stat", [*stats.STATS, *stats.SCRAPY_STATS], ids=lambda s: s.name)
def test_each_stat_is_declared_once_with_its_meaning(stat: Stat) -> None:
    assert [s.name for s in (*stats.STATS, *stats.SCRAPY_STATS)].count(stat.name) == 1
    assert stat.meaning.strip() == stat.meaning
    assert stat.meaning
    assert "|" not in stat.meaning  # a cell of the reference's table
    if stat in stats.STATS:
        assert re.fullmatch(r"news/[a-z_]+/[a-z_]+(/[\w<>]+)*", stat.name), stat.name


def test_a_familys_names() -> None:
    assert FETCH_ERROR.of("timeout") == "news/fetch/error/timeout"
    assert FETCH_ERROR.prefix == "news/fetch/error/"
    assert FETCH_ERROR.matches("news/fetch/error/ValueError")
    assert not FETCH_ERROR.matches("news/fetch/error/a/b")
    assert ROBOTS_HTTP_ERROR.of(503) == "news/robots/error/http_503"
    assert declared("news/robots/error/http_503") is ROBOTS_HTTP_ERROR  # the closer family
    assert declared("news/robots/error/dns") is ROBOTS_ERROR
    assert declared("news/fetch/error/redirect_loop") is stats.FETCH_ERROR_REDIRECT_LOOP
    assert declared("news/fetch/nothing") is None
    assert FETCH_ERROR.of(r"a\1") == r"news/fetch/error/a\1"
    with pytest.raises(ValueError, match="one stat"):
        stats.FETCH_PAGES.of("x")


def test_the_reference_tables() -> None:
    table = stats.markdown_table()
    assert table.startswith("| stat | kind | meaning |\n|---|---|---|\n")
    assert "| `news/fetch/error/<reason>` | counter | requests that failed:" in table
    assert "| `news/extract/workers_failed` | gauge |" in table
    assert "`item_dropped_reasons_count/<reason>`" in stats.markdown_table(scrapy=True)
    assert "news/" not in stats.markdown_table(scrapy=True)


# --- what the code counts ------------------------------------------------------------------


def test_every_stat_the_code_counts_is_declared() -> None:
    # a name of Scrapy's own naming is not declared (robotstxt/request_count,
    # scheduler/enqueued/redis: counted as Scrapy's components count them, read by no one)
    undeclared = [
        f"{w.where}: {w.text}"
        for w in writes()
        if w.stat is None and (w.literal is None or w.literal.startswith("news/"))
    ]
    assert not undeclared, "count a declared stat (pipelines/stats.py): " + ", ".join(undeclared)


def test_the_code_counts_with_the_declarations() -> None:
    retyped = [
        f"{w.where}: {w.text}" for w in writes() if w.literal is not None and w.stat in stats.STATS
    ]
    assert not retyped, "count with the declaration (X.name, X.of(...)): " + ", ".join(retyped)


@pytest.mark.parametrize("stat", stats.STATS, ids=lambda s: s.name)
def test_every_declared_stat_is_counted(stat: Stat) -> None:
    assert any(w.stat == stat for w in writes()), f"nothing counts {stat.name}"


@pytest.mark.parametrize("stat", stats.STATS, ids=lambda s: s.name)
def test_every_stat_is_counted_as_its_kind_says(stat: Stat) -> None:
    methods = {w.method for w in writes() if w.stat == stat}
    assert methods <= {stat.kind.method}, f"{stat.name} is a {stat.kind}, kept with {methods}"


# --- what the code and the tests read ------------------------------------------------------


@pytest.mark.parametrize("path", _code_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_code_types_no_stat_name(path: Path) -> None:
    # readers typed the names again (.get("news/fetch/pages", 0)): a renamed stat read 0
    typed = []
    for line, text in _strings(path):
        stage = _STAT_LIKE.fullmatch(text)
        if stage and stage.group(1) in STAGES and text != f"news/{stage.group(1)}/":
            typed.append(f"{line}: {text}")  # a stage's own prefix ("news/fetch/") is no stat
        scrapy_names = {s.prefix for s in stats.SCRAPY_STATS} - SAME_NAMED_FIELDS
        if text in scrapy_names:
            typed.append(f"{line}: {text}")
    assert not typed, "read and count stats through pipelines/stats.py: " + ", ".join(typed)


def _test_files() -> list[Path]:
    """The tests' files, but this one (its wrong names are wrong on purpose)."""
    return [path for path in sorted((ROOT / "tests").glob("*.py")) if path.name != "test_stats.py"]


@pytest.mark.parametrize("path", _test_files(), ids=lambda p: p.name)
def test_the_tests_read_declared_stats(path: Path) -> None:
    wrong = []
    for line, text in _strings(path):
        shape = _STAT_LIKE.fullmatch(text)
        if not shape or shape.group(1) in NOT_STATS:
            continue
        if shape.group(1) not in STAGES:
            wrong.append(f"{line}: {text} (no stage {shape.group(1)})")
        elif declared(text) is None and not (
            text.endswith(("/", "_")) and any(s.name.startswith(text) for s in stats.STATS)
        ):
            wrong.append(f"{line}: {text}")
    assert not wrong, "no such stat (pipelines/stats.py): " + ", ".join(wrong)


def test_the_check_of_the_tests_sees_a_renamed_stat(tmp_path: Path) -> None:
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        'def test_x(stats):\n    assert stats.get("news/fetch/page", 0)\n'
        '    assert stats["news/fetch/http_error/404"]\n'
        '    assert f"news/extract/dropped/{1}"\n',
        encoding="utf-8",
    )
    found = {text: declared(text) for _, text in _strings(sample) if _STAT_LIKE.fullmatch(text)}
    assert found == {
        "news/fetch/page": None,
        "news/fetch/http_error/404": stats.FETCH_HTTP_ERROR,
        "news/extract/dropped/x": stats.EXTRACT_DROPPED,
    }
