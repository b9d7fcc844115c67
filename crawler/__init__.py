"""The Scrapy project of the news crawler: settings, the item, spiders, commands, discovery."""

from __future__ import annotations

__version__ = "0.1.0"
