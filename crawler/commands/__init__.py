"""Project commands: ``scrapy crawl`` (with exit status) and ``scrapy summary``."""
