"""What a build imports: start-up is paid by every cron run, so modules it never needs stay out."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape as sax_escape

import pytest

from generator.site.sitemap import escape
from tests.conftest import CLI, ROOT, image_entries, write_tree

# Pulled in only by `xml.sax.saxutils`, which the sitemap no longer imports; and by Markdown
# looking up extensions by name among every package's entry points (`markup._converter`).
NEVER_NEEDED = ("urllib.request", "http.client", "ssl", "importlib.metadata")


def imported_by_a_build(tmp_path: Path) -> set[str]:
    """Every module `python -X importtime -m generator build` imported, from its own report."""
    repository = write_tree(tmp_path / "repo", image_entries("kvm/sl6.4_x86_64_sl11d_20GB_b.img"))
    args = ["build", "--repository", str(repository), "--output", str(tmp_path / "site")]
    args += ["--state", str(tmp_path / "state"), "--quiet"]
    done = subprocess.run(
        [CLI[0], "-X", "importtime", *CLI[1:], *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return set(re.findall(r"^import time:.*\| +(\S+)$", done.stderr, re.MULTILINE))


def test_a_build_imports_no_module_it_never_needs(tmp_path: Path) -> None:
    imported = imported_by_a_build(tmp_path)
    assert "generator.site.sitemap" in imported
    assert imported.isdisjoint(NEVER_NEEDED), sorted(imported & set(NEVER_NEEDED))


@pytest.mark.parametrize("text", ["a&b", "<loc>", "x > y & z < w", "&amp;", "'\"quoted\"'", "é"])
def test_sitemap_escape_is_the_standard_one(text: str) -> None:
    assert escape(text) == sax_escape(text)


# Run as `python -c`: the build's own command line under an audit hook that records every
# program it starts (Python reports each through `subprocess.Popen`, `os.exec*`, `os.system`
# and `os.posix_spawn` events, whoever calls them: a library included).
WATCHED_BUILD = """
import runpy, sys
started = []
def hook(event, args):
    if event in ("subprocess.Popen", "os.posix_spawn", "os.exec", "os.system"):
        started.append(repr(args[:2]))
sys.addaudithook(hook)
sys.argv = ["star-vm-catalog", *sys.argv[1:]]
try:
    runpy.run_module("generator", run_name="__main__")
finally:
    print("STARTED", started, file=sys.stderr)
"""


def test_a_build_starts_no_other_program(tmp_path: Path) -> None:
    """Starting a program costs a fork and an exec at every cron run, and may be refused in a
    locked-down unit: a build without a publish command or signing starts none (finding the C
    library for syncfs once ran `ldconfig -p`)."""
    repository = write_tree(tmp_path / "repo", image_entries("kvm/sl6.4_x86_64_sl11d_20GB_b.img"))
    args = ["build", "--repository", str(repository), "--output", str(tmp_path / "site")]
    args += ["--state", str(tmp_path / "state"), "--quiet"]
    done = subprocess.run(
        [CLI[0], "-c", WATCHED_BUILD, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    assert "STARTED []" in done.stderr, done.stderr
