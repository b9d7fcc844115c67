"""The project's Scrapy add-on: settings that depend on other settings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured
from scrapy.settings import SETTINGS_PRIORITIES

from pipelines.dataset import HTTPCACHE, STATE, state_dir_setting

if TYPE_CHECKING:
    from scrapy.settings import Settings


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


class NewsCrawlerAddon:
    """Settings that follow from other settings.

    * ``CRAWLER_CONTACT`` is added to the project's User-Agent (a ``USER_AGENT`` given on the
      command line or in the environment is left as it is);
    * the HTTP cache of feeds and sitemaps lives in ``STATE_DIR/httpcache`` (by default
      ``OUTPUT_DIR/state/httpcache``) unless ``HTTPCACHE_DIR`` is given.
    """

    def update_settings(self, settings: Settings) -> None:
        self._user_agent(settings)
        if (settings.getpriority("HTTPCACHE_DIR") or 0) <= SETTINGS_PRIORITIES["project"]:
            try:
                state = state_dir_setting(settings)
            except NotConfigured:
                if settings.get("OUTPUT_DIR"):  # an object store without STATE_DIR: refused
                    return  # by the commands, with the reason
                state = Path("output") / STATE
            settings.set("HTTPCACHE_DIR", str(state.resolve() / HTTPCACHE), priority="project")

    def _user_agent(self, settings: Settings) -> None:
        contact = settings.get("CRAWLER_CONTACT") or ""
        if (settings.getpriority("USER_AGENT") or 0) > SETTINGS_PRIORITIES["project"]:
            return
        settings.set(
            "USER_AGENT",
            user_agent_with_contact(settings.get("USER_AGENT"), contact),
            priority="project",
        )
