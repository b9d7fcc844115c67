"""Tests for crawler/addon.py: the contact in the User-Agent, directly and through Scrapy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from scrapy.crawler import AsyncCrawlerRunner, CrawlerRunner
from scrapy.settings import Settings
from scrapy.utils.reactor import is_reactor_installed
from scrapy.utils.spider import DefaultSpider
from scrapy.utils.test import get_crawler, get_reactor_settings

from crawler import settings as project_module
from crawler.addon import NewsCrawlerAddon, user_agent_with_contact

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

ADDONS = {"crawler.addon.NewsCrawlerAddon": 0}


@pytest.mark.parametrize(
    ("user_agent", "contact", "expected"),
    [
        (
            "bot/1 (+https://example.org/bot)",
            "ops@example.org",
            "bot/1 (+https://example.org/bot; ops@example.org)",
        ),
        (
            "news-crawler/0.1 (+https://github.com/news-crawler/news-crawler)",
            "https://example.org/contact",
            (
                "news-crawler/0.1 (+https://github.com/news-crawler/news-crawler; "
                "https://example.org/contact)"
            ),
        ),
        ("bot/1", "ops@example.org", "bot/1 (ops@example.org)"),
        ("bot/1 (+https://x)", "", "bot/1 (+https://x)"),
        ("bot/1 (+https://x)", "   \t\n ", "bot/1 (+https://x)"),
        ("bot/1", "", "bot/1"),
        (
            "bot/1 (+https://x)",
            "  Jane   Doe\t<ops@example.org>\n",
            "bot/1 (+https://x; Jane Doe <ops@example.org>)",
        ),
    ],
)
def test_user_agent_with_contact(user_agent: str, contact: str, expected: str) -> None:
    assert user_agent_with_contact(user_agent, contact) == expected


def test_contact_with_newline_never_splits_the_header() -> None:
    result = user_agent_with_contact("bot/1", "ops@example.org\r\nX-Injected: 1")
    assert "\r" not in result
    assert "\n" not in result


def project_settings(**values: Any) -> Settings:
    settings = Settings()
    settings.setdict(values, priority="project")
    return settings


def test_update_settings_directly() -> None:
    settings = project_settings(USER_AGENT="bot/1 (+https://x)", CRAWLER_CONTACT="ops@example.org")
    NewsCrawlerAddon().update_settings(settings)
    assert settings["USER_AGENT"] == "bot/1 (+https://x; ops@example.org)"


def test_update_settings_without_contact_leaves_user_agent() -> None:
    settings = project_settings(USER_AGENT="bot/1 (+https://x)")
    NewsCrawlerAddon().update_settings(settings)
    assert settings["USER_AGENT"] == "bot/1 (+https://x)"


@pytest.mark.parametrize("priority", ["cmdline", "spider"])
def test_update_settings_leaves_a_higher_priority_user_agent(priority: str) -> None:
    settings = project_settings(CRAWLER_CONTACT="ops@example.org")
    settings.set("USER_AGENT", "mine/2", priority=priority)
    NewsCrawlerAddon().update_settings(settings)
    assert settings["USER_AGENT"] == "mine/2"


def test_update_settings_on_scrapy_default_user_agent() -> None:
    settings = Settings()  # USER_AGENT only at "default" priority
    settings.set("CRAWLER_CONTACT", "ops@example.org", priority="project")
    default_user_agent = settings["USER_AGENT"]
    NewsCrawlerAddon().update_settings(settings)
    assert settings["USER_AGENT"] == user_agent_with_contact(default_user_agent, "ops@example.org")
    assert settings["USER_AGENT"].endswith("; ops@example.org)")


def test_addon_through_scrapy_get_crawler() -> None:
    # get_crawler() creates the crawler and calls _apply_settings(), which loads ADDONS.
    crawler = get_crawler(
        settings_dict={
            "CRAWLER_CONTACT": "ops@example.org",
            "ADDONS": ADDONS,
            "USER_AGENT": "bot/1 (+https://x)",
        }
    )
    assert crawler.settings.frozen
    assert crawler.settings["USER_AGENT"] == "bot/1 (+https://x; ops@example.org)"


def test_addon_through_scrapy_without_contact() -> None:
    crawler = get_crawler(settings_dict={"ADDONS": ADDONS, "USER_AGENT": "bot/1 (+https://x)"})
    assert crawler.settings["USER_AGENT"] == "bot/1 (+https://x)"


def crawler_with(settings: Settings) -> Crawler:
    """Like scrapy.utils.test.get_crawler(), but keeping the priorities of ``settings``."""
    runner = CrawlerRunner(settings) if is_reactor_installed() else AsyncCrawlerRunner(settings)
    crawler = runner.create_crawler(DefaultSpider)
    crawler._apply_settings()
    return crawler


def test_addon_through_scrapy_leaves_cmdline_user_agent() -> None:
    settings = project_settings(
        REMOTE_CONTROL_ENABLED=False,
        TELNETCONSOLE_ENABLED=False,
        **get_reactor_settings(),
        CRAWLER_CONTACT="ops@example.org",
        ADDONS=ADDONS,
        USER_AGENT="bot/1 (+https://x)",
    )
    settings.set("USER_AGENT", "mine/2 (+https://mine.example)", priority="cmdline")
    crawler = crawler_with(settings)
    assert crawler.settings.frozen
    assert crawler.settings["USER_AGENT"] == "mine/2 (+https://mine.example)"


def test_addon_through_scrapy_same_settings_at_project_priority() -> None:
    # The counterpart of the cmdline test: the same helper does apply the add-on.
    settings = project_settings(
        REMOTE_CONTROL_ENABLED=False,
        TELNETCONSOLE_ENABLED=False,
        **get_reactor_settings(),
        CRAWLER_CONTACT="ops@example.org",
        ADDONS=ADDONS,
        USER_AGENT="bot/1 (+https://x)",
    )
    crawler = crawler_with(settings)
    assert crawler.settings["USER_AGENT"] == "bot/1 (+https://x; ops@example.org)"


def test_project_settings_module_enables_the_addon() -> None:
    assert project_module.ADDONS.get("crawler.addon.NewsCrawlerAddon") is not None
