"""crawler/redis_mode.py: what RedisModeAddon sets, with and without ``REDIS_URL``.

Offline and quick; the crawls of several workers sharing one Redis are in test_redis_mode.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from scrapy.settings import SETTINGS_PRIORITIES, Settings
from scrapy.utils.test import get_crawler

from crawler import settings as project_module
from crawler.redis_mode import ACK_MIDDLEWARE, ACK_MIDDLEWARE_ORDER, RedisModeAddon
from pipelines.state import REDIS_STORES

REDIS = "redis://127.0.0.1:6379/0"  # never connected to: the add-on only sets settings
SHARED = {
    "SCHEDULER": "crawler.frontier.SharedScheduler",
    "DUPEFILTER_CLASS": "crawler.frontier.SharedDupeFilter",
    "STATE_STORES": REDIS_STORES,
    # each worker runs start(): the shared request filter lets one of them fetch each listing
    "DISCOVERY_REFETCH_START": False,
}


def _project(**values: Any) -> Settings:
    """The project's settings, with ``values`` given on the command line."""
    settings = Settings()
    settings.setmodule(project_module, priority="project")
    for name, value in values.items():
        settings.set(name, value, priority="cmdline")
    return settings


def test_redis_url_switches_redis_mode_on() -> None:
    settings = _project(REDIS_URL=REDIS)
    RedisModeAddon().update_settings(settings)
    for name, value in SHARED.items():
        assert settings[name] == value, name
    middlewares = settings.getdict("SPIDER_MIDDLEWARES")
    assert middlewares[ACK_MIDDLEWARE] == ACK_MIDDLEWARE_ORDER
    # the project's own spider middlewares stay, in their places
    for path, order in project_module.SPIDER_MIDDLEWARES.items():
        assert middlewares[path] == order
    assert settings.getpriority("SPIDER_MIDDLEWARES") == SETTINGS_PRIORITIES["project"]


def test_spider_middlewares_given_on_the_command_line_are_kept() -> None:
    settings = _project(REDIS_URL=REDIS, SPIDER_MIDDLEWARES={"my.Middleware": 600})
    RedisModeAddon().update_settings(settings)
    assert settings.getdict("SPIDER_MIDDLEWARES") == {
        "my.Middleware": 600,
        ACK_MIDDLEWARE: ACK_MIDDLEWARE_ORDER,
    }
    assert settings.getpriority("SPIDER_MIDDLEWARES") == SETTINGS_PRIORITIES["cmdline"]


@pytest.mark.parametrize("redis_url", [None, "", "   "])
def test_without_redis_url_nothing_changes(redis_url: str | None) -> None:
    settings = _project() if redis_url is None else _project(REDIS_URL=redis_url)
    before = settings.copy_to_dict()
    RedisModeAddon().update_settings(settings)
    assert settings.copy_to_dict() == before
    assert settings["SCHEDULER"] == "crawler.scheduler.DiskScheduler"
    assert settings["DUPEFILTER_CLASS"] == "crawler.dupefilter.DiskDupeFilter"
    assert settings.get("STATE_STORES") is None
    assert settings.get("DISCOVERY_REFETCH_START") is None  # the add-on's default (True) holds
    assert ACK_MIDDLEWARE not in settings.getdict("SPIDER_MIDDLEWARES")


@pytest.mark.parametrize("name", sorted(SHARED))
def test_a_component_given_on_the_command_line_stays(name: str) -> None:
    settings = _project(REDIS_URL=REDIS, **{name: "my.Component"})
    RedisModeAddon().update_settings(settings)
    assert settings[name] == "my.Component"
    for other, value in SHARED.items():
        if other != name:
            assert settings[other] == value


def test_through_scrapy_with_the_project_addons() -> None:
    crawler = get_crawler(
        settings_dict={
            "ADDONS": project_module.ADDONS,
            "REDIS_URL": REDIS,
            "SPIDER_MIDDLEWARES": project_module.SPIDER_MIDDLEWARES,
        }
    )
    for name, value in SHARED.items():
        assert crawler.settings[name] == value, name
    assert crawler.settings.getdict("SPIDER_MIDDLEWARES") == {
        **project_module.SPIDER_MIDDLEWARES,
        ACK_MIDDLEWARE: ACK_MIDDLEWARE_ORDER,
    }
