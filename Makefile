# Two commands set up everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# docs/ is a folder: the docs target is phony too
.PHONY: docs install test lint format typecheck pytest demo bench bench-extract bench-listings bench-site bench-near bench-dedupe-scale bench-writer bench-throughput bench-scale bench-kill bench-workers bench-worker-memory bench-startup bench-nothing-new bench-container bench-memory-floor clean test-spark spark-java

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	$(BIN)/mypy

# Two processes, each test module in one of them: a module's crawl fixtures then run once,
# not once per process (2026-12-06, one fresh clone, back to back: 650 s -> 577 s).
# The project's modules byte-compiled first: the suite starts hundreds of Python processes
# (crawls, commands, extraction workers), and where PYTHONDONTWRITEBYTECODE is set each one
# compiled every module it imports again.
pytest: install
	$(BIN)/python -m compileall -q crawler pipelines extraction dataset demo bench tests
	$(BIN)/python -m pytest -n 2 --dist loadfile

test: lint typecheck pytest

# The tables of docs/ made from the code's declarations (settings, schema, stats), written again.
docs: install
	$(BIN)/python -m tests.markdown

# The README's Spark recipe. Not part of `make test`: pyspark is ~450 MB and needs Java 17+.
SPARK_STAMP := $(VENV)/.installed-spark

$(SPARK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $(SPARK_STAMP)

test-spark: spark-java $(SPARK_STAMP)
	$(BIN)/python -m pytest tests/test_reading_recipes_spark.py

# A Java runtime for Spark: installed with apt-get when running as root (a CI container).
spark-java:
	@if command -v java >/dev/null 2>&1 || [ -x "$${JAVA_HOME:-/nonexistent}/bin/java" ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			default-jre-headless; \
	else \
		echo "make test-spark needs a Java 17+ runtime: no java on PATH and no JAVA_HOME." >&2; \
		echo "Install one (e.g. sudo apt-get install default-jre-headless) or set JAVA_HOME." >&2; \
		exit 1; \
	fi

demo: install
	$(BIN)/python -m demo

# Benchmarks print their tables; add ARGS=--write-results to update bench/RESULTS.md.
bench: bench-extract bench-listings bench-site bench-near bench-dedupe-scale bench-writer bench-throughput bench-kill \
	bench-workers bench-worker-memory bench-startup bench-nothing-new bench-container bench-memory-floor

# A 2,000-page crawl at default settings under a 512 MiB memory limit (a memory cgroup when
# run as root, else systemd-run, else the limit only accounted): completes, nothing killed.
bench-container: install
	$(BIN)/python -m bench.container $(ARGS)

# The process tree's memory with no crawl (the crawl process's imports and the page pool
# extracting pages) for EXTRACT_WORKERS 2, 1 and 0: which worker counts can meet 300 MiB.
bench-memory-floor: install
	$(BIN)/python -m bench.memory_floor $(ARGS)

# From the command to a one-page crawl's first request and to its exit, 7 runs; with
# BASELINE=DIR, an older checkout's runs taken in turn (git worktree add /tmp/before <commit>).
bench-startup: install
	$(BIN)/python -m bench.startup $(if $(BASELINE),--baseline $(BASELINE)) $(ARGS)

# A scheduled crawl that finds nothing new (the demo site's feed and sitemaps, every article
# stored by a first crawl): peak PSS of the tree, CPU, wall and processes, 3 rounds; with
# BASELINE=DIR, an older checkout's runs taken in turn (git worktree add /tmp/before <commit>).
bench-nothing-new: install
	$(BIN)/python -m bench.nothing_new $(if $(BASELINE),--baseline $(BASELINE)) $(ARGS)

# Articles dropped as listings (none) and listing pages kept as articles, on every page we have.
bench-listings: install
	$(BIN)/python -m bench.listings $(ARGS)

bench-extract: install
	$(BIN)/python -m bench.extraction $(ARGS)

bench-site: install
	$(BIN)/python -m bench.site_boilerplate $(ARGS)

bench-near: install
	$(BIN)/python -m bench.near_duplicates $(ARGS)

bench-writer: install
	$(BIN)/python -m bench.parquet_writer $(ARGS)

# End-to-end crawl of 2,000 pages over loopback (default workers and EXTRACT_WORKERS=0) against
# a trafilatura.extract loop (each crawl timed, then again for its memory; the timed crawls three
# times more, each between two short loops, the ratio judged on their median), per-stage costs
# and a cProfile of the inline crawl.
bench-throughput: install
	$(BIN)/python -m bench.throughput --rounds 3 $(ARGS)

# Crawls of 2k, 10k and 50k pages with the default workers: pages/s and peak RSS as the crawl
# grows (SIZES=... for others); each crawl once, its memory sampled as it runs.
SCALE_SIZES := 2000,10000,50000
bench-scale: install
	$(BIN)/python -m bench.throughput --sizes $(or $(SIZES),$(SCALE_SIZES)) --workers default --stage-pages 0 --no-profile --sampling together $(ARGS)

# Five kill -9 at random moments of a crawl, then the same crawl to its end: nothing lost or doubled.
bench-kill: install
	$(BIN)/python -m bench.kill_crawl $(ARGS)

# Redis mode: 2,000 pages crawled by 1, 2 and 4 worker processes sharing a fresh redis-server
# (EXTRACT_WORKERS default and 1), against one embedded-mode crawl; checks every article is
# fetched and stored once. Needs redis-server (Debian package; or REDIS_SERVER=/path/to/it).
bench-workers: install
	$(BIN)/python -m bench.workers $(ARGS)

# The memory (PSS, RSS) of the crawl's processes and what its extraction workers import, 500 pages
# crawled by this checkout and, with BASELINE=DIR, by an older one first (a worktree: git worktree
# add /tmp/before <commit>; remove it with git worktree remove /tmp/before).
bench-worker-memory: install
	$(BIN)/python -m bench.worker_memory $(if $(BASELINE),--baseline $(BASELINE)) $(ARGS)

# 100k articles by default; add SIZES=100000,1000000 for the million (about half an hour).
bench-dedupe-scale: install
	$(BIN)/python -m bench.dedupe_scaling --sizes $(or $(SIZES),100000) $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info build
