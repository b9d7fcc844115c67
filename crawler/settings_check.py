"""Every setting checked before a command does anything: a crawl with a value a setting cannot
take never starts.

What is checked: every setting the project declares (:data:`crawler.addon.DECLARED`, each with
its type and range), the Scrapy settings the project relies on (:data:`SCRAPY_SETTINGS`, checked
here for the values Scrapy itself would choke on later, with a traceback), and the rules that
tie settings together (:data:`RULES`). The first problem is reported as one line,
``NAME=value: why``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.settings import default_settings

from crawler.addon import DECLARED
from pipelines import parquet
from pipelines.locations import state_dir_setting
from pipelines.setting import Setting, SettingError, flag, integer, number, seconds, text

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.settings import BaseSettings

LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


def _log_level(value: str) -> str:
    if value.upper() not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
    return value.upper()


def _default(name: str) -> Any:
    """Scrapy's default of a setting (the project's own values are in ``crawler/settings.py``)."""
    return getattr(default_settings, name)


SCRAPY_SETTINGS: tuple[Setting[Any], ...] = (
    seconds(
        "DOWNLOAD_DELAY",
        _default("DOWNLOAD_DELAY"),
        "seconds between two requests to one site",
        minimum=0,
    ),
    seconds(
        "DOWNLOAD_TIMEOUT",
        _default("DOWNLOAD_TIMEOUT"),
        "seconds before a request is abandoned",
        minimum=0,
        above=True,
    ),
    integer(
        "DOWNLOAD_MAXSIZE",
        _default("DOWNLOAD_MAXSIZE"),
        "largest response, in bytes (0: no limit)",
        minimum=0,
    ),
    integer(
        "DOWNLOAD_WARNSIZE",
        _default("DOWNLOAD_WARNSIZE"),
        "responses logged above this size",
        minimum=0,
    ),
    integer("CONCURRENT_REQUESTS", _default("CONCURRENT_REQUESTS"), "requests at once", minimum=1),
    integer(
        "CONCURRENT_REQUESTS_PER_DOMAIN",
        _default("CONCURRENT_REQUESTS_PER_DOMAIN"),
        "requests at once to one site",
        minimum=1,
    ),
    flag("RETRY_ENABLED", _default("RETRY_ENABLED"), "retry failed requests"),
    integer("RETRY_TIMES", _default("RETRY_TIMES"), "retries of a failed request", minimum=0),
    integer(
        "REDIRECT_MAX_TIMES",
        _default("REDIRECT_MAX_TIMES"),
        "redirects followed per request",
        minimum=0,
    ),
    flag("ROBOTSTXT_OBEY", _default("ROBOTSTXT_OBEY"), "obey robots.txt"),
    flag(
        "AUTOTHROTTLE_ENABLED",
        _default("AUTOTHROTTLE_ENABLED"),
        "adapt the delay to each site's latency",
    ),
    seconds(
        "AUTOTHROTTLE_START_DELAY",
        _default("AUTOTHROTTLE_START_DELAY"),
        "AutoThrottle's first delay",
        minimum=0,
    ),
    seconds(
        "AUTOTHROTTLE_MAX_DELAY",
        _default("AUTOTHROTTLE_MAX_DELAY"),
        "AutoThrottle's longest delay",
        minimum=0,
    ),
    number(
        "AUTOTHROTTLE_TARGET_CONCURRENCY",
        _default("AUTOTHROTTLE_TARGET_CONCURRENCY"),
        "AutoThrottle's requests in flight per site",
        minimum=0,
        above=True,
    ),
    flag("HTTPCACHE_ENABLED", _default("HTTPCACHE_ENABLED"), "cache responses"),
    flag("HTTPCACHE_GZIP", _default("HTTPCACHE_GZIP"), "compress cached responses"),
    number(
        "CLOSESPIDER_TIMEOUT",
        _default("CLOSESPIDER_TIMEOUT"),
        "seconds after which the crawl stops (0: never)",
        minimum=0,
    ),
    integer(
        "CLOSESPIDER_TIMEOUT_NO_ITEM",
        _default("CLOSESPIDER_TIMEOUT_NO_ITEM"),
        "seconds without an item after which the crawl stops (0: never)",
        minimum=0,
    ),
    integer(
        "CLOSESPIDER_PAGECOUNT_NO_ITEM",
        _default("CLOSESPIDER_PAGECOUNT_NO_ITEM"),
        "responses without an item after which the crawl stops (0: never)",
        minimum=0,
    ),
    integer(
        "CLOSESPIDER_ITEMCOUNT",
        _default("CLOSESPIDER_ITEMCOUNT"),
        "items after which the crawl stops",
        minimum=0,
    ),
    integer(
        "CLOSESPIDER_PAGECOUNT",
        _default("CLOSESPIDER_PAGECOUNT"),
        "responses after which the crawl stops",
        minimum=0,
    ),
    integer(
        "CLOSESPIDER_ERRORCOUNT",
        _default("CLOSESPIDER_ERRORCOUNT"),
        "errors after which the crawl stops",
        minimum=0,
    ),
    integer("CONCURRENT_ITEMS", _default("CONCURRENT_ITEMS"), "items processed at once", minimum=1),
    flag(
        "RANDOMIZE_DOWNLOAD_DELAY",
        _default("RANDOMIZE_DOWNLOAD_DELAY"),
        "wait 0.5 to 1.5 times the delay",
    ),
    seconds(
        "DNS_TIMEOUT",
        _default("DNS_TIMEOUT"),
        "seconds a DNS lookup may take",
        minimum=0,
        above=True,
    ),
    integer("DNSCACHE_SIZE", _default("DNSCACHE_SIZE"), "host names cached", minimum=0),
    integer(
        "REACTOR_THREADPOOL_MAXSIZE",
        _default("REACTOR_THREADPOOL_MAXSIZE"),
        "threads for DNS lookups and other blocking calls",
        minimum=1,
    ),
    flag("MEMUSAGE_ENABLED", _default("MEMUSAGE_ENABLED"), "watch the crawl's memory"),
    integer(
        "MEMUSAGE_LIMIT_MB",
        _default("MEMUSAGE_LIMIT_MB"),
        "memory after which the crawl stops, in MB (0: no limit)",
        minimum=0,
    ),
    integer(
        "MEMUSAGE_WARNING_MB",
        _default("MEMUSAGE_WARNING_MB"),
        "memory after which a warning is logged, in MB (0: none)",
        minimum=0,
    ),
    integer("DEPTH_LIMIT", _default("DEPTH_LIMIT"), "link depth followed (0: no limit)", minimum=0),
    flag("DUPEFILTER_DEBUG", _default("DUPEFILTER_DEBUG"), "log every filtered request"),
    flag(
        "SCHEDULER_DEBUG",
        _default("SCHEDULER_DEBUG"),
        "log requests the disk queue cannot take",
    ),
    flag("TELNETCONSOLE_ENABLED", _default("TELNETCONSOLE_ENABLED"), "Scrapy's telnet console"),
    flag(
        "REMOTE_CONTROL_ENABLED",
        _default("REMOTE_CONTROL_ENABLED"),
        "Scrapy's remote control (an HTTP endpoint)",
    ),
    text(
        "LOG_LEVEL",
        _default("LOG_LEVEL"),
        "the log level",
        check=_log_level,
        allowed="a log level",
    ),
)
"""The Scrapy settings the project relies on, with the values they take (the project's values
are in ``crawler/settings.py``)."""


def _parquet_files(settings: BaseSettings) -> None:
    file_rows = parquet.PARQUET_FILE_ROWS.read(settings)
    row_group_rows = parquet.PARQUET_ROW_GROUP_ROWS.read(settings)
    if file_rows < row_group_rows:
        raise SettingError(parquet.file_rows_problem(file_rows, row_group_rows))


def _autothrottle_delays(settings: BaseSettings) -> None:
    start = settings.getfloat("AUTOTHROTTLE_START_DELAY")
    most = settings.getfloat("AUTOTHROTTLE_MAX_DELAY")
    if most < start:
        raise SettingError(
            f"AUTOTHROTTLE_MAX_DELAY={most:g}: must be at least AUTOTHROTTLE_START_DELAY "
            f"({start:g})"
        )


def _state_dir(settings: BaseSettings) -> None:
    state_dir_setting(settings)  # an object store as OUTPUT_DIR needs a STATE_DIR


RULES: tuple[Callable[[BaseSettings], None], ...] = (
    _parquet_files,
    _autothrottle_delays,
    _state_dir,
)
"""Rules that tie settings together; each raises :class:`SettingError`."""


def settings_problem(settings: BaseSettings) -> str | None:
    """The first setting that holds a value it cannot take, as one line (``NAME=value:
    why``); ``None`` when every one can be used. ``settings`` as the add-ons leave them
    (:func:`crawler.addon.effective_settings`)."""
    try:
        for setting in (*DECLARED, *SCRAPY_SETTINGS):
            setting.read(settings)
        for rule in RULES:
            rule(settings)
    except SettingError as exc:
        return str(exc)
    return None
