"""The layers of ``docs/architecture.md``, checked from the code's own imports.

crawler/ (the Scrapy project) -> pipelines/ (the item pipelines) -> dataset/ -> extraction/:
every import points down (or within a package), no import circle anywhere, and the two
libraries import neither Scrapy nor Twisted.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"extraction": 0, "dataset": 1, "pipelines": 2, "crawler": 3}
"""The project's packages, from the bottom up."""
LIBRARIES = ("extraction", "dataset")
FRAMEWORK = ("scrapy", "twisted", "itemadapter", "scrapy_redis", "parsel", "w3lib.http")
"""What the libraries must not import: Scrapy, Twisted and the packages that come with them
for Scrapy's sake (w3lib's URL and encoding helpers are plain functions, and allowed)."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in LAYERS
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def imported_names(path: Path, package: str | None = None) -> list[tuple[int, str]]:
    """Every module ``path`` imports (``from a.b import c`` names ``a.b.c`` and ``a.b``), with
    the line: imports inside functions and under ``TYPE_CHECKING`` included. Relative imports
    resolve against ``package`` (by default the package ``path`` is in)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    if package is None:
        package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def project_edges() -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    modules = project_modules()
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {target for _, target in imported_names(path) if target in modules}
        edges[name] = targets - {name}
    return edges


def layer(module: str) -> int:
    return LAYERS[module.split(".", 1)[0]]


def test_the_packages_are_found() -> None:
    modules = project_modules()
    for package in LAYERS:
        assert package in modules, f"{package}/__init__.py is missing"
    assert len(modules) > 40


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    return [
        f"{module} ({module.split('.')[0]}) imports {target} ({target.split('.')[0]})"
        for module, targets in sorted(edges.items())
        for target in sorted(targets)
        if layer(target) > layer(module)
    ]


def circles_of(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: Tarjan's strongly connected components of two modules or more."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = itertools.count()

    def visit(module: str) -> None:
        index[module] = low[module] = next(counter)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(edges.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return circles


def test_no_import_runs_up_a_layer() -> None:
    upward = upward_imports(project_edges())
    assert not upward, "\n".join(upward)


def test_no_import_circle() -> None:
    circles = circles_of(project_edges())
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


@pytest.mark.parametrize("library", LIBRARIES)
def test_the_libraries_import_no_framework(library: str) -> None:
    offending = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in sorted((ROOT / library).rglob("*.py"))
        for line, name in imported_names(path)
        if any(name == banned or name.startswith(f"{banned}.") for banned in FRAMEWORK)
    ]
    assert not offending, "\n".join(offending)


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """An upward import, a circle and a relative import, written out, are all seen."""
    assert upward_imports({"dataset.writer": {"pipelines.parquet"}}) == [
        "dataset.writer (dataset) imports pipelines.parquet (pipelines)"
    ]
    assert upward_imports({"pipelines.parquet": {"dataset.writer"}}) == []
    assert circles_of({"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": {"a.x"}}) == [
        ["a.x", "a.y", "a.z"]
    ]
    assert circles_of({"a.x": {"a.y"}, "a.y": set()}) == []
    source = tmp_path / "b.py"
    source.write_text(
        "from . import c\nfrom .c import d\n\ndef f():\n    import scrapy.http\n",
        encoding="utf-8",
    )
    names = {name for _, name in imported_names(source, package="pkg")}
    assert {"pkg.c", "pkg.c.d", "scrapy.http"} <= names


WORKER_PROBE = """
import asyncio, json, sys
from scrapy.cmdline import execute  # noqa: F401 - as Scrapy's console script does
from extraction.pool import PagePool
from extraction.worker import PageOptions, imported_packages


async def main():
    pool = PagePool(1, function=imported_packages)
    pool.start()
    try:
        names = await pool.run(b"", "", None, PageOptions())
    finally:
        pool.close()
    json.dump({"worker": names, "parent": imported_packages()}, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
"""


def test_extraction_workers_import_the_extraction_library_alone(tmp_path: Path) -> None:
    """Run from a main script that imports Scrapy (as ``scrapy crawl`` is), a worker of the
    extraction pool imports no other package of the project, nor Scrapy, Twisted or Arrow."""
    script = tmp_path / "crawl_like.py"
    script.write_text(WORKER_PROBE, encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = json.loads(completed.stdout)
    assert {"scrapy", "twisted"} <= set(found["parent"])  # the probe can see them
    worker = set(found["worker"])
    assert "extraction" in worker
    unwanted = {"scrapy", "twisted", "itemadapter", "pyarrow", *LAYERS} - {"extraction"}
    assert not worker & unwanted, sorted(worker & unwanted)
