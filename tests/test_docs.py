"""The README documents every column, setting, stat and drop reason the code has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem

from pipelines import dedupe, extract, parquet
from pipelines.schema import ARTICLE_SCHEMA

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CODE = "\n".join(
    path.read_text(encoding="utf-8")
    for folder in ("crawler", "pipelines")
    for path in sorted((ROOT / folder).rglob("*.py"))
)
SETTINGS_PY = (ROOT / "crawler" / "settings.py").read_text(encoding="utf-8")


def _documented(name: str) -> bool:
    return f"`{name}`" in README


def _settings_read_by_code() -> set[str]:
    return set(re.findall(r'settings\.get\w*\(\s*"([A-Z][A-Z0-9_]+)"', CODE)) - {"USER_AGENT"}


def _stats_counted_by_code() -> set[str]:
    names = re.findall(r'inc_value\(\s*f?"(news/[^"]+)"', CODE)
    # f-string placeholders are documented as <placeholder>
    return {re.sub(r"\{(\w+)\}", r"<\1>", name) for name in names}


def test_code_reads_and_counts_something() -> None:
    assert len(_settings_read_by_code()) >= 15
    assert len(_stats_counted_by_code()) >= 20


@pytest.mark.parametrize("column", ARTICLE_SCHEMA.names)
def test_every_column_is_documented(column: str) -> None:
    assert _documented(column)


@pytest.mark.parametrize("setting", sorted(_settings_read_by_code()))
def test_every_component_setting_is_documented(setting: str) -> None:
    assert _documented(setting)


@pytest.mark.parametrize(
    "setting", sorted(set(re.findall(r"^([A-Z][A-Z0-9_]+) = ", SETTINGS_PY, re.MULTILINE)))
)
def test_project_settings_are_documented_or_plumbing(setting: str) -> None:
    plumbing = {
        "BOT_NAME", "SPIDER_MODULES", "NEWSPIDER_MODULE", "COMMANDS_MODULE", "ADDONS",
        "ITEM_PIPELINES", "EXTENSIONS", "DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES",
        "FEED_EXPORT_ENCODING",
        "LOG_LEVEL", "LOG_FORMATTER", "AUTOTHROTTLE_START_DELAY", "AUTOTHROTTLE_MAX_DELAY",
        "AUTOTHROTTLE_TARGET_CONCURRENCY", "CONCURRENT_REQUESTS",
    }  # fmt: skip
    assert setting in plumbing or _documented(setting)


@pytest.mark.parametrize("stat", sorted(_stats_counted_by_code()))
def test_every_stat_is_documented(stat: str) -> None:
    assert _documented(stat)


@pytest.mark.parametrize(
    "reason",
    [
        cls.__name__
        for module in (extract, dedupe, parquet)
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, DropItem) and cls is not DropItem
    ],
)
def test_every_drop_reason_is_documented(reason: str) -> None:
    assert _documented(reason)
