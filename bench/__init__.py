"""Benchmarks: `python -m bench` (all) or `python -m bench NAME...`; ratios measured in one run."""
