"""The README's reading recipes (pandas, DuckDB, Polars, pyarrow), run on a real crawl."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import ROOT, run_crawl

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _recipes() -> str:
    section = README.split("### Reading it", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "no python block under '### Reading it'"
    return match.group(1)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, site_url: str) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("recipes")
    crawl = run_crawl(
        out, "-a", f"feeds={site_url}/feed.xml", "-a", f"sitemaps={site_url}/sitemap.xml"
    )
    assert crawl.returncode == 0, crawl.log[-2000:]
    code = _recipes().replace("output/articles", str(out / "articles"))
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    return namespace


def test_every_reader_sees_every_row(results: dict[str, Any]) -> None:
    rows = results["table"].num_rows
    assert rows >= 30
    assert len(results["df"]) == rows
    assert sum(count for _, count in results["by_language"]) == rows


def test_readers_agree_on_filters_and_partitions(results: dict[str, Any]) -> None:
    df = results["df"]
    assert results["lemonde"].height == int((df["source"] == "lemonde.fr").sum()) >= 1
    languages = dict(results["by_language"])
    assert languages == df["language"].value_counts().to_dict()
    assert "fetch_date" in df.columns
    assert "fetch_date" in results["table"].column_names
    assert str(df["published_at"].dtype).startswith("datetime64")
