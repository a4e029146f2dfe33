"""The golden demo site: the bundled demo repository built with a fixed clock.

`make golden` (or `python tests/golden.py`) rewrites `tests/golden/demo/` on purpose, after a
change that is meant to alter the site; `tests/test_golden.py` builds the same site and
compares every file byte for byte. The repository is given as the relative path `vm`, from
a scratch folder, so no path of this machine ends up in the pages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "demo"
EPOCH = "1709300000"  # 2024-03-01T13:33:20Z, the clock of every golden build


def build_demo_site(workdir: Path) -> Path:
    """Make the demo repository in `workdir/vm` and build its site into `workdir/site`."""
    sys.path.insert(0, str(ROOT))
    from generator.demo import make_demo

    make_demo(workdir / "vm")
    env = {
        **os.environ,
        "SOURCE_DATE_EPOCH": EPOCH,
        "XDG_STATE_HOME": str(workdir / "state"),
        "XDG_CACHE_HOME": str(workdir / "cache"),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "generator", "build", "--repository", "vm", "--output", "site"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode not in (0, 1):  # the demo has problems on purpose: exit 1
        raise RuntimeError(f"demo build failed ({done.returncode}): {done.stderr}")
    return (workdir / "site").resolve()


def site_files(site: Path) -> dict[str, bytes]:
    """Every file of a site by its path relative to the site root."""
    return {
        str(path.relative_to(site)): path.read_bytes()
        for path in sorted(site.rglob("*"))
        if path.is_file()
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        site = build_demo_site(Path(scratch))
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(site, GOLDEN)
    print(f"golden demo site written to {GOLDEN.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
