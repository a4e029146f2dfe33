"""The demo site, built with a fixed clock, equals the committed golden copy byte for byte.

When a change is meant to alter the site, regenerate the copy with `make golden` and review
the diff of `tests/golden/` in the commit.
"""

from __future__ import annotations

from pathlib import Path

from golden import GOLDEN, build_demo_site, site_files


def test_demo_site_matches_the_golden_copy(tmp_path: Path) -> None:
    built = site_files(build_demo_site(tmp_path))
    golden = site_files(GOLDEN)
    assert sorted(built) == sorted(golden), "files added or missing: run 'make golden' on purpose"
    changed = [path for path in golden if built[path] != golden[path]]
    assert not changed, f"files differ from tests/golden/demo: {changed}"
