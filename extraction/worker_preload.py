"""Imported by the fork server that starts the extraction workers, before it forks any.

What every worker needs is made once there and inherited by each worker, instead of being made
again in every worker (which is replaced every ``max_tasks`` pages): above all the language
profiles, which take about 0.25 s of CPU to load.
"""

from __future__ import annotations

from extraction.worker import warm_up

warm_up()
