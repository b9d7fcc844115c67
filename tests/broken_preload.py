"""A module the extraction workers' fork server cannot import (not an ImportError: the fork
server dies of it), for the test of workers that cannot start (tests/test_pool.py)."""

raise RuntimeError("this fork server cannot start")
