"""Benchmarks, each figure measured beside its baseline in the same run: `python -m tests.bench`."""
