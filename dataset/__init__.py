"""The dataset library: the article dataset on disk or in an object store, without Scrapy.

The schema (:mod:`dataset.schema`, made from :mod:`extraction.article`), the layout of an
output directory (:mod:`dataset.layout`), where it lives (:mod:`dataset.storage`), the writer
and its commit protocol (:mod:`dataset.writer`), compaction (:mod:`dataset.compaction`), and
the crawl state's stores (:mod:`dataset.state`).
"""
