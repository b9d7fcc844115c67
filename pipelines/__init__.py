"""The item pipelines: extract, site boilerplate, language, normalize, dedupe, parquet.

Thin Scrapy components: each reads its own declared settings (:mod:`pipelines.setting`), takes
items through ``ItemAdapter``, counts ``news/<stage>/<event>`` stats (declared once,
:mod:`pipelines.stats`) and drops with a ``DropItem`` subclass per reason; the work is done by
the libraries below, :mod:`extraction` and :mod:`dataset`, which import no Scrapy.
"""
