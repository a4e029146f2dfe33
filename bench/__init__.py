"""Benchmarks (`make bench` = `python -m bench`): speed targets are checked here, never in tests."""
