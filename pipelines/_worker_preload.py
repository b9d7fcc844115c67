"""Imported by the fork server that starts the extraction workers, before it forks any.

What every worker needs is made once there and inherited by each worker, instead of being made
again in every worker (which is replaced every ``EXTRACT_WORKER_MAX_TASKS`` pages): above all
the language profiles, which take about 0.25 s of CPU to load.
"""

from __future__ import annotations

from pipelines.workers import warm_up

warm_up()
