"""Benchmarks (``make bench``) and the scoring rules they share with the tests."""
