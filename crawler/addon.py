"""The project's Scrapy add-on: settings that depend on other settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.settings import SETTINGS_PRIORITIES

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
    """Adds ``CRAWLER_CONTACT`` to the project's User-Agent.

    A ``USER_AGENT`` given on the command line or in the environment is left as it is.
    """

    def update_settings(self, settings: Settings) -> None:
        contact = settings.get("CRAWLER_CONTACT") or ""
        if (settings.getpriority("USER_AGENT") or 0) > SETTINGS_PRIORITIES["project"]:
            return
        settings.set(
            "USER_AGENT",
            user_agent_with_contact(settings.get("USER_AGENT"), contact),
            priority="project",
        )
