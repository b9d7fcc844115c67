"""Tests for crawler/addon.py: the declared settings and their defaults, the feed export's
fields, the contact in the User-Agent (directly and through Scrapy), and effective_settings()."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.crawler import AsyncCrawlerRunner, CrawlerRunner
from scrapy.settings import SETTINGS_PRIORITIES, Settings
from scrapy.utils.reactor import is_reactor_installed
from scrapy.utils.spider import DefaultSpider
from scrapy.utils.test import get_crawler, get_reactor_settings

from crawler import settings as project_module
from crawler.addon import DECLARED, NewsCrawlerAddon, effective_settings, user_agent_with_contact
from dataset.schema import COLUMNS
from pipelines.setting import Setting
from pipelines.state import EMBEDDED_STORES, REDIS_STORES
from tests.conftest import ROOT

if TYPE_CHECKING:
    from pathlib import Path

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


@pytest.mark.parametrize("setting", ["OUTPUT_DIR", "STATE_DIR"])
def test_a_symlink_loop_is_left_to_the_commands_checks(tmp_path: Path, setting: str) -> None:
    # OUTPUT_DIR or STATE_DIR a symlink loop: resolving the cache's folder raised (a traceback,
    # exit 1, where the commands' checks refuse it in one line, status 2)
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    settings = project_settings(OUTPUT_DIR=str(tmp_path / "out"))
    settings.set(setting, str(tmp_path / "a"), priority="cmdline")
    NewsCrawlerAddon().update_settings(settings)
    assert settings.getpriority("HTTPCACHE_DIR") == SETTINGS_PRIORITIES["default"]


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


# --- the declared settings -------------------------------------------------------------------


def test_every_declared_default_is_set_at_addon_priority() -> None:
    settings = Settings()
    NewsCrawlerAddon().update_settings(settings)
    for setting in DECLARED:
        assert settings.getpriority(setting.name) == SETTINGS_PRIORITIES["addon"], setting.name
        assert settings[setting.name] == setting.default, setting.name
        assert setting.read(settings) == setting.default, setting.name


@pytest.mark.parametrize("priority", ["project", "spider", "cmdline"])
def test_a_given_value_wins_over_the_declared_default(priority: str) -> None:
    settings = Settings()
    for setting in DECLARED:
        settings.set(setting.name, f"given {setting.name}", priority=priority)
    settings.set("FEED_EXPORT_FIELDS", ["url", "title"], priority=priority)
    NewsCrawlerAddon().update_settings(settings)
    for setting in DECLARED:
        assert settings[setting.name] == f"given {setting.name}"
        assert settings.getpriority(setting.name) == SETTINGS_PRIORITIES[priority]
    assert settings.getlist("FEED_EXPORT_FIELDS") == ["url", "title"]


def test_a_declared_setting_given_through_scrapy_wins() -> None:
    crawler = get_crawler(settings_dict={"ADDONS": ADDONS, "EXTRACT_WORKERS": "3"})
    assert crawler.settings["EXTRACT_WORKERS"] == "3"
    assert crawler.settings["DEDUPE_POLICY"] == "drop"  # the declared default


def test_feed_exports_write_the_dataset_columns() -> None:
    settings = Settings()
    NewsCrawlerAddon().update_settings(settings)
    assert settings.getlist("FEED_EXPORT_FIELDS") == list(COLUMNS)
    assert settings.getpriority("FEED_EXPORT_FIELDS") == SETTINGS_PRIORITIES["addon"]
    assert "html" not in COLUMNS
    assert "source_name" in COLUMNS


def test_no_setting_is_declared_twice() -> None:
    names = [setting.name for setting in DECLARED]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def _modules() -> list[Any]:
    """Every module of the project's packages."""
    found = []
    for name in ("crawler", "pipelines", "dataset", "extraction"):
        package = importlib.import_module(name)
        found.append(package)
        found.extend(
            importlib.import_module(info.name)
            for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
        )
    return found


def test_every_settings_tuple_is_declared() -> None:
    declared = {id(setting) for setting in DECLARED}
    owners = [module for module in _modules() if hasattr(module, "SETTINGS")]
    assert len(owners) >= 10  # the walk found the components
    for module in owners:
        missing = [s.name for s in module.SETTINGS if id(s) not in declared]
        assert not missing, f"{module.__name__}.SETTINGS not in DECLARED: {missing}"


def _assigned_names(module: Any) -> set[str]:
    """The names ``module`` assigns at its top level (not those it imports)."""
    tree = ast.parse(inspect.getsource(module))
    names: set[str] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        names.update(target.id for target in targets if isinstance(target, ast.Name))
    return names


def test_every_setting_is_in_its_modules_settings_tuple() -> None:
    # A Setting left out of its module's SETTINGS was out of DECLARED: dropped from
    # docs/settings.md by `make docs` without a word, never checked before a command runs (no
    # status 2 for a bad value) and not set at addon priority. Scrapy's own settings the project
    # checks (crawler.settings_check.SCRAPY_SETTINGS) are no module constants, so no exception.
    declared = {id(setting) for setting in DECLARED}
    found = 0
    for module in _modules():
        defined = {
            name: value
            for name, value in vars(module).items()
            if isinstance(value, Setting) and name in _assigned_names(module)
        }
        owned = {id(setting) for setting in getattr(module, "SETTINGS", ())}
        missing = [name for name, setting in defined.items() if id(setting) not in owned]
        assert not missing, f"{module.__name__} declares {missing} outside its SETTINGS"
        found += len(defined)
        # imported ones are the same objects: in DECLARED too
        held = [name for name, value in vars(module).items() if isinstance(value, Setting)]
        assert not [name for name in held if id(vars(module)[name]) not in declared]
    assert found == len(DECLARED)  # every declared setting is a module constant somewhere


# --- effective_settings() --------------------------------------------------------------------


def _project(**values: Any) -> Settings:
    settings = Settings()
    settings.setmodule(project_module, priority="project")
    for name, value in values.items():
        settings.set(name, value, priority="cmdline")
    return settings


def test_effective_settings_in_embedded_mode() -> None:
    settings = _project(OUTPUT_DIR="somewhere")
    effective = effective_settings(settings)
    assert effective["STATE_STORES"] == EMBEDDED_STORES
    assert effective["SCHEDULER"] == "crawler.scheduler.DiskScheduler"
    assert effective["OUTPUT_DIR"] == "somewhere"
    assert effective["DEDUPE_POLICY"] == "drop"


def test_effective_settings_in_redis_mode_leave_the_settings_as_they_were() -> None:
    settings = _project(REDIS_URL="redis://127.0.0.1:6379/0")
    effective = effective_settings(settings)
    assert effective["STATE_STORES"] == REDIS_STORES
    assert effective["SCHEDULER"] == "crawler.frontier.SharedScheduler"
    assert effective["DUPEFILTER_CLASS"] == "crawler.frontier.SharedDupeFilter"
    # a copy: the settings given are untouched
    assert settings.get("STATE_STORES") is None
    assert settings.get("DEDUPE_POLICY") is None
    assert settings["SCHEDULER"] == "crawler.scheduler.DiskScheduler"
    assert not settings.frozen


def test_effective_settings_skip_a_switched_off_addon() -> None:
    settings = _project(REDIS_URL="redis://127.0.0.1:6379/0")
    settings.set("ADDONS", {**project_module.ADDONS, "crawler.redis_mode.RedisModeAddon": None})
    effective = effective_settings(settings)
    assert effective["STATE_STORES"] == EMBEDDED_STORES  # declared default, no Redis mode
    assert effective["SCHEDULER"] == "crawler.scheduler.DiskScheduler"


# --- Scrapy's LogStats line and the progress line ----------------------------------------------


@pytest.mark.parametrize(
    ("given", "interval"),
    [
        ({}, 0.0),  # the progress line says it all
        ({"PROGRESS_ENABLED": "False"}, 60.0),  # Scrapy's default line again
        ({"LOGSTATS_INTERVAL": "30"}, 30.0),  # asked for: both lines
        ({"PROGRESS_ENABLED": "sometimes"}, 60.0),  # refused by the settings check
    ],
)
def test_scrapys_log_stats_line_gives_way_to_the_progress_line(
    given: dict[str, str], interval: float
) -> None:
    effective = effective_settings(_project(**given))
    assert effective.getfloat("LOGSTATS_INTERVAL") == interval


EXTENSIONS_LOADED = """
import sys
from scrapy.utils.reactor import install_reactor
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
from scrapy.crawler import Crawler
from scrapy.utils.project import get_project_settings
from crawler.spiders.news import NewsSpider
settings = get_project_settings()
for given in sys.argv[1:]:
    settings.set(*given.split("=", 1), priority="cmdline")
crawler = Crawler(NewsSpider, settings)
crawler._apply_settings()
print(sorted(module for module in ("aiohttp", "twisted.conch") if module in sys.modules),
      sorted(type(extension).__name__ for extension in crawler.extensions.middlewares))
"""


@pytest.mark.parametrize(
    ("given", "imported", "extension"),
    [
        ((), [], None),
        (("TELNETCONSOLE_ENABLED=True",), ["twisted.conch"], "TelnetConsole"),
        (("REMOTE_CONTROL_ENABLED=True",), ["aiohttp"], "RemoteControl"),
    ],
)
def test_extensions_turned_off_are_not_even_imported(
    given: tuple[str, ...], imported: list[str], extension: str | None
) -> None:
    # in a process of its own: what a crawl process imports when its extensions are built
    done = subprocess.run(
        [sys.executable, "-c", EXTENSIONS_LOADED, *given],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    modules, extensions = done.stdout.split("] [")
    assert modules == repr(imported)[:-1]
    assert ("TelnetConsole" in extensions, "RemoteControl" in extensions) == (
        extension == "TelnetConsole",
        extension == "RemoteControl",
    )


PIPELINES_LOADED = """
import sys
from scrapy.utils.reactor import install_reactor
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
from scrapy.crawler import Crawler
from scrapy.pipelines import ItemPipelineManager
from scrapy.utils.project import get_project_settings
from crawler.spiders.news import NewsSpider
crawler = Crawler(NewsSpider, get_project_settings())
crawler._apply_settings()
manager = ItemPipelineManager.from_crawler(crawler)
print(len(manager.middlewares),
      sorted(module for module in ("trafilatura", "htmldate", "justext") if module in sys.modules))
"""


def test_the_crawl_process_does_not_import_the_extraction_libraries() -> None:
    # its workers extract: trafilatura and htmldate would cost every start ~0.1 s; feedparser
    # (~15 ms) is imported by the first feed read
    done = subprocess.run(
        [sys.executable, "-c", PIPELINES_LOADED],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    pipelines, imported = done.stdout.split(" ", 1)
    assert int(pipelines) >= 5  # the item pipelines were built
    assert imported.strip() == "[]"
