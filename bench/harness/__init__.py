"""What the benchmarks share, so that each benchmark script holds only its own measurement.

- :mod:`bench.harness.corpus`: where the development corpus is, its manifest, the message when
  it is missing;
- :mod:`bench.harness.pages`: the throughput page set (variants of the corpus pages);
- :mod:`bench.harness.server`: the local page server that serves them, in a process of its own;
- :mod:`bench.harness.processes`: ``/proc`` readings of process trees (RSS, PSS, CPU, command
  lines) and the periodic sampler;
- :mod:`bench.harness.crawls`: ``scrapy crawl news`` against the page server, sampled;
- :mod:`bench.harness.report`: markdown tables, the machine line, ``bench/RESULTS.md``
  sections, the command-line helpers.

A package rather than one module: together these are about 1,300 lines of six separate concerns,
each read (and tested, ``tests/test_bench_harness_<module>.py``) on its own.
"""
