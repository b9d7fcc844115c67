"""``scrapy shell``: Scrapy's command, leaving the dataset alone (see
:class:`crawler.project_command.DatasetLeftAlone`)."""

from __future__ import annotations

from scrapy.commands.shell import Command as ScrapyCommand

from crawler.project_command import DatasetLeftAlone


class Command(DatasetLeftAlone, ScrapyCommand):
    pass
