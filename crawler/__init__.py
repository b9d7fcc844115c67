"""The Scrapy project of the news crawler: settings, add-ons, the item, spiders, commands,
discovery, the frontier of Redis mode."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("news-crawler")  # declared in pyproject.toml
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "unknown"
