"""Scrapy settings of the news crawler: constants and comments only.

These are Scrapy's own settings as the project wants them. The project's settings (``OUTPUT_DIR``,
``EXTRACT_*``, ``LANGUAGE_*``, ``DEDUPE_*``, ``PARQUET_*``, ``REDIS_*`` ...) are declared by the
components that read them, with their defaults, types and ranges, and set by the add-on
(``crawler/addon.py``; reference in ``docs/settings.md``). Override anything with ``-s``.
"""

BOT_NAME = "news_crawler"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"

# The project's settings and their defaults, the User-Agent from CRAWLER_CONTACT
# (crawler/addon.py); with REDIS_URL set, Redis mode: several crawler processes share the work
# and the state (crawler/redis_mode.py).
ADDONS = {"crawler.addon.NewsCrawlerAddon": 0, "crawler.redis_mode.RedisModeAddon": 10}

# Request fingerprints in SQLite on disk, not in memory (flat memory on long crawls).
DUPEFILTER_CLASS = "crawler.dupefilter.DiskDupeFilter"
# Pending requests in Scrapy's disk queues (JOBDIR, else a scratch folder), not in memory.
SCHEDULER = "crawler.scheduler.DiskScheduler"

# --- Politeness -----------------------------------------------------------------------------
ROBOTSTXT_OBEY = True
# Scrapy's robots.txt middleware, fixed for requests made while robots.txt downloads.
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.robots.RobotsTxtMiddleware": 100,
    # Before any other: no request to other schemes than HTTP(S), nor to internal addresses
    # the crawl was not given (pages cannot steer the crawler into the local network).
    "crawler.address_guard.AddressGuardMiddleware": 50,
    # Scrapy's meta-refresh redirects, without decoding the pages that cannot have one.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.meta_refresh.MetaRefreshMiddleware": 580,
    # Retry-After obeyed on 429 and 503 answers, before Scrapy's retry middleware (550) sees
    # them (crawler/retry_after.py).
    "crawler.retry_after.RetryAfterMiddleware": 560,
    # Scrapy's cache, never answering for the server (crawler/httpcache.py).
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
    "crawler.httpcache.HttpCacheMiddleware": 900,
}
# An honest User-Agent; CRAWLER_CONTACT (an e-mail or URL) is appended when set.
USER_AGENT = "news-crawler/0.1 (+https://github.com/news-crawler/news-crawler)"
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# With AutoThrottle on, the minimum delay between two requests to one site.
DOWNLOAD_DELAY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Scrapy starts this many tasks for each response's output, however little it yields: an article
# page yields one item, and Scrapy's 100 cost the crawl process ~4 ms of CPU a page (12 -> 16
# ms, bench/RESULTS.md, "Lean"); a listing's thousand requests go as fast through 4.
CONCURRENT_ITEMS = 4

# --- Limits for hostile or broken pages -----------------------------------------------------
# News pages are rarely above 2 MiB; the default of 1 GiB lets a gzip bomb exhaust memory.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
# A news page that takes longer than this is not worth holding a slot for.
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
# A page that still fails after its retries is one lost page, not a failed crawl: the spider
# logs it in one line ("Fetch failed", with its retries), so Scrapy's own line is not shown.
RETRY_GIVE_UP_LOG_LEVEL = "DEBUG"
REDIRECT_MAX_TIMES = 5

# --- Cheap recrawls of feeds and sitemaps ---------------------------------------------------
# Listings are cached (in STATE_DIR/httpcache, set by the add-on) and revalidated with
# ETag/Last-Modified on every run, whatever their caching headers say; article pages are never
# cached (their requests say dont_cache).
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "crawler.httpcache.RevalidatingPolicy"
# Scrapy's filesystem storage, with entries written whole (several processes may share it).
HTTPCACHE_STORAGE = "crawler.httpcache.AtomicFilesystemCacheStorage"
HTTPCACHE_GZIP = True
HTTPCACHE_IGNORE_HTTP_CODES = [400, 401, 403, 404, 408, 410, 429, 500, 502, 503, 504]

# --- No remote control ----------------------------------------------------------------------
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's remote-control HTTP server runs Python code sent to it: never on by default.
REMOTE_CONTROL_ENABLED = False

# --- Pipelines, in order ----------------------------------------------------------------------
ITEM_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.site_boilerplate.SiteBoilerplatePipeline": 150,
    "pipelines.language.LanguagePipeline": 200,
    "pipelines.normalize.NormalizePipeline": 300,
    "pipelines.dedupe.DedupePipeline": 400,
    "pipelines.parquet.ParquetPipeline": 500,
}

# Article requests for pages the dataset already holds are not sent (crawler/incremental.py).
SPIDER_MIDDLEWARES = {"crawler.incremental.IncrementalMiddleware": 950}

# A progress line every PROGRESS_INTERVAL and, on a terminal, a live display of the same figures
# (in place of Scrapy's "Crawled N pages" line, which the add-on turns off), cleared when the
# spider closes. Then, what the crawl did for each source written to OUTPUT_DIR/runs/ and the
# sources' health judged, then (its spider_closed handler runs later: connected later) the
# crawl's stats and finish reason, health figures included, to STATE_DIR/crawls/.
EXTENSIONS = {
    # Scrapy's core stats, without a traceback when a stage could not open (crawler/corestats.py).
    "scrapy.extensions.corestats.CoreStats": None,
    "crawler.corestats.CoreStats": 0,
    # AutoThrottle, never below a source's own download_delay (crawler/throttle.py).
    "scrapy.extensions.throttle.AutoThrottle": None,
    "crawler.throttle.AutoThrottle": 0,
    # Scrapy's feed exports (-o/-O), an export that cannot be written one error line.
    "scrapy.extensions.feedexport.FeedExporter": None,
    "crawler.exports.FeedExporter": 0,
    # This machine's clock checked against the servers' Date headers (crawler/clock.py).
    "crawler.clock.ClockCheck": 460,
    # The memory the crawl process frees, given back to the system now and then.
    "crawler.memory.MemoryTrim": 470,
    "crawler.progress.CrawlProgress": 480,
    "crawler.source_accounting.SourceAccounting": 490,
    "crawler.report.CrawlReport": 500,
}

FEED_EXPORT_ENCODING = "utf-8"
# `scrapy crawl news ... -O articles.parquet` writes one Parquet file with the dataset schema
# (feed exports write the dataset's columns: FEED_EXPORT_FIELDS, set by the add-on).
# JSON, JSON Lines and CSV with ISO 8601 UTC times and lists as JSON arrays.
FEED_EXPORTERS = {
    "parquet": "pipelines.feed_export.ParquetItemExporter",
    "jsonlines": "pipelines.feed_export.JsonLinesItemExporter",
    "jsonl": "pipelines.feed_export.JsonLinesItemExporter",
    "json": "pipelines.feed_export.JsonItemExporter",
    "csv": "pipelines.feed_export.CsvItemExporter",
}
LOG_LEVEL = "INFO"

# Dropped items are logged in one line (reason and URL), not with their whole text.
LOG_FORMATTER = "crawler.logformatter.NewsLogFormatter"
