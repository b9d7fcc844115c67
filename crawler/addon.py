"""The project's Scrapy add-on: every setting the project declares, with its default, and the
settings that follow from other settings.

The settings are declared once, by the component that reads them (a ``SETTINGS`` tuple in its
module, made with :mod:`pipelines.setting`); :data:`DECLARED` gathers them here, in the order of
the settings reference (``docs/settings.md``, made by ``python -m crawler.addon``).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object

from crawler import (
    address_guard,
    clock,
    httpcache,
    incremental,
    memory,
    progress,
    report,
    retry_after,
    source_accounting,
)
from crawler.spiders import news
from crawler.startup import import_tls
from dataset.layout import HTTPCACHE, LocationError, state_dir_for
from dataset.schema import COLUMNS
from pipelines import dedupe, extract, language, locations, normalize, parquet, site_boilerplate
from pipelines import state as crawl_state
from pipelines.setting import SettingError, text

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings, Settings

    from pipelines.setting import Setting

CRAWLER_CONTACT = text(
    "CRAWLER_CONTACT",
    "",
    "an e-mail or URL added to the User-Agent so site owners can reach you",
    allowed="an e-mail address or URL, or empty",
)
SETTINGS = (CRAWLER_CONTACT,)

DECLARED: tuple[Setting[Any], ...] = (
    *locations.SETTINGS,
    *SETTINGS,
    *address_guard.SETTINGS,
    *news.SETTINGS,
    *retry_after.SETTINGS,
    *httpcache.SETTINGS,
    *incremental.SETTINGS,
    *extract.SETTINGS,
    *site_boilerplate.SETTINGS,
    *language.SETTINGS,
    *normalize.SETTINGS,
    *dedupe.SETTINGS,
    *parquet.SETTINGS,
    *report.SETTINGS,
    *source_accounting.SETTINGS,
    *progress.SETTINGS,
    *memory.SETTINGS,
    *clock.SETTINGS,
    *crawl_state.SETTINGS,
)
"""Every setting the project declares."""


def user_agent_with_contact(user_agent: str, contact: str) -> str:
    """``user_agent`` with ``contact`` added inside its trailing comment.

    >>> user_agent_with_contact("bot/1 (+https://example.org/bot)", "ops@example.org")
    'bot/1 (+https://example.org/bot; ops@example.org)'
    """
    contact = " ".join(contact.split())
    if not contact:
        return user_agent
    if user_agent.endswith(")"):
        return f"{user_agent[:-1]}; {contact})"
    return f"{user_agent} ({contact})"


OFF_MEANS_UNLOADED = (
    ("TELNETCONSOLE_ENABLED", "scrapy.extensions.telnet.TelnetConsole"),
    ("REMOTE_CONTROL_ENABLED", "scrapy.extensions.remote_control.RemoteControl"),
)
"""Scrapy's extensions not even imported while their setting is off."""


class NewsCrawlerAddon:
    """Sets every declared setting's default at ``addon`` priority, and what follows from other
    settings:

    * ``CRAWLER_CONTACT`` is added to the project's User-Agent (a ``USER_AGENT`` given on the
      command line or in the environment is left as it is);
    * the HTTP cache of feeds and sitemaps lives in ``STATE_DIR/httpcache`` (by default
      ``OUTPUT_DIR/state/httpcache``) unless ``HTTPCACHE_DIR`` is given;
    * feed exports (``-O file.jsonl``) write the dataset's columns, not the crawl's own fields;
    * Scrapy's "Crawled N pages" line (``LOGSTATS_INTERVAL``) is off while the progress line
      (``PROGRESS_ENABLED``) is on;
    * Scrapy's Telnet console and remote control are not loaded at all while they are off.
    """

    def update_settings(self, settings: Settings) -> None:
        for setting in DECLARED:
            settings.set(setting.name, setting.default, priority="addon")
        settings.set("FEED_EXPORT_FIELDS", list(COLUMNS), priority="addon")
        self._user_agent(settings)
        self._log_stats(settings)
        self._unloaded_extensions(settings)
        import_tls()
        if (settings.getpriority("HTTPCACHE_DIR") or 0) <= SETTINGS_PRIORITIES["project"]:
            try:
                state = state_dir_for(
                    locations.OUTPUT_DIR.read(settings), locations.STATE_DIR.read(settings)
                )
            except SettingError:
                return  # refused by the settings check, with the reason
            except LocationError:
                if locations.OUTPUT_DIR.read(settings):  # an object store without STATE_DIR:
                    return  # refused by the commands, with the reason
                state = state_dir_for("output")
            try:
                state = state.resolve()
            except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13):
                return  # refused by the commands, with the reason
            settings.set("HTTPCACHE_DIR", str(state / HTTPCACHE), priority="project")

    def _log_stats(self, settings: Settings) -> None:
        # The progress line says what Scrapy's LogStats line says (pages fetched and their rate,
        # items scraped), and more; logging both says it twice. (LogStats' final
        # responses_per_minute and items_per_minute stats go with it; nothing here reads them.)
        # Set at addon priority: a LOGSTATS_INTERVAL in the project's settings or -s still wins.
        try:
            progress_on = progress.PROGRESS_ENABLED.read(settings)
        except SettingError:
            return  # refused by the settings check, with the reason
        if progress_on:
            settings.set("LOGSTATS_INTERVAL", 0, priority="addon")

    def _unloaded_extensions(self, settings: Settings) -> None:
        # Scrapy imports an extension's module before the extension says it is turned off (it
        # even imports every class path named in EXTENSIONS_BASE and EXTENSIONS, None or not, to
        # compare them): the Telnet console's brings Twisted's conch (~30 MiB), the remote
        # control's aiohttp (~26 MiB), into every crawl process, for nothing. So while one is
        # off its path leaves EXTENSIONS_BASE; turned on (-s TELNETCONSOLE_ENABLED=True), it
        # is loaded as Scrapy loads it.
        base = settings["EXTENSIONS_BASE"]
        for switch, path in OFF_MEANS_UNLOADED:
            try:
                on = settings.getbool(switch)
            except ValueError:
                continue  # refused by the settings check, with the reason
            if not on and path in base:
                base.delete(path, priority="addon")

    def _user_agent(self, settings: Settings) -> None:
        contact = CRAWLER_CONTACT.read(settings)
        if (settings.getpriority("USER_AGENT") or 0) > SETTINGS_PRIORITIES["project"]:
            return
        settings.set(
            "USER_AGENT",
            user_agent_with_contact(settings.get("USER_AGENT"), contact),
            priority="project",
        )


def effective_settings(settings: BaseSettings) -> BaseSettings:
    """A copy of ``settings`` as the add-ons of ``ADDONS`` leave them: what a command checks
    before any crawler exists (Scrapy applies the add-ons when it makes one)."""
    copy = settings.copy()
    # in Scrapy's order, without the add-ons switched off (None), as scrapy.addons does
    for path in build_component_list(copy["ADDONS"]):
        addon = load_object(path)
        instance = addon() if isinstance(addon, type) else addon
        instance.update_settings(copy)
    return copy


def markdown_table() -> str:
    """The table of ``docs/settings.md``: every declared setting."""
    lines = ["| setting | default | allowed | meaning |", "|---|---|---|---|"]
    lines += [f"| `{s.name}` | {s.default_text()} | {s.allowed} | {s.doc} |" for s in DECLARED]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown_table())
