"""Benchmarks: `python -m benchmarks.delivery`."""
