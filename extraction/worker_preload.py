"""Imported by the fork server that starts the extraction workers, before it forks any.

What every worker needs is made once there and inherited by each worker, instead of being made
again in every worker (which is replaced every ``max_tasks`` pages): above all the language
profiles, which take about 0.3 s of CPU to load.

Then the server's objects are frozen (:func:`gc.freeze`): a worker's garbage collector would
otherwise write to every inherited object it scans (its collection bookkeeping), and each page
of memory written to is copied into the worker; frozen, they are never scanned, and stay shared
between the server and all its workers.
"""

from __future__ import annotations

import gc

from extraction.worker import warm_up

warm_up()
gc.collect()
gc.freeze()
