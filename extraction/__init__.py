"""The extraction library: one fetched page (bytes and URL) in, one article record out.

Plain functions over bytes and strings, importing neither Scrapy nor Twisted, so that analysts
can re-run them on stored pages and the extraction worker processes load nothing else
(``docs/architecture.md``). The entry point for one page is
:func:`extraction.record.article_record`; the article's fields are declared once, in
:mod:`extraction.article`.
"""
