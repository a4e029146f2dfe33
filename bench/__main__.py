"""Run every benchmark module (`bench/bench_*.py`, each with a `main() -> int`) in turn."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def main() -> int:
    """Run each benchmark; the exit status is non-zero when any of them missed its target."""
    status = 0
    for module in sorted(m.name for m in pkgutil.iter_modules(bench.__path__)):
        if module.startswith("bench_"):
            print(f"== {module}", flush=True)
            status |= importlib.import_module(f"bench.{module}").main()
    return status


if __name__ == "__main__":
    sys.exit(main())
