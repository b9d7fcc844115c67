"""Project commands: ``scrapy crawl`` (with exit status), ``scrapy summary``, ``scrapy compact``."""
