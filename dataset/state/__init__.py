"""The crawl state: what the dataset holds, kept so that a crawl can ask cheaply.

One interface (:mod:`dataset.state.base`), two backends: SQLite files in ``STATE_DIR``
(:mod:`dataset.state.embedded`, the default) and a Redis server shared by many crawler processes
(:mod:`dataset.state.redis`), chosen by class path in the ``STATE_STORES`` setting.
"""
