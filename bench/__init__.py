"""Benchmarks, run by `make bench`; results go to bench/results/. Never part of the unit tests."""
