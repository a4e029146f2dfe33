"""The hashing commands as a person or a cron job sees them: options, progress, start-up."""

from __future__ import annotations

import os
import pty
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli_options import parser
from generator.state.database import STATE_FILE
from generator.verify.progress import clock_text, line
from tests.conftest import CLI, image_entries, run_cli, write_tree

IMAGE = "xen/sl7.3_x86_64_sl20a_8GB_base.img"
MIB = 1 << 20


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write_tree(tmp_path / "repo", image_entries(IMAGE, os.urandom(3 * MIB)))
    return tmp_path / "repo"


def common(tmp_path: Path, repo: Path) -> list[str]:
    return ["--repository", str(repo), "--state", str(tmp_path / "state")]


def run_on_terminal(args: list[str]) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal; return its exit code and what it drew."""
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [*CLI, *args],
        stdout=subprocess.DEVNULL,
        stderr=terminal,
        stdin=subprocess.DEVNULL,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            data = os.read(controller, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(controller)
    return child.wait(), b"".join(chunks).decode()


def test_progress_bar_on_a_terminal(tmp_path: Path, repo: Path) -> None:
    code, screen = run_on_terminal(["verify", *common(tmp_path, repo), "--jobs", "1"])
    assert code == 0
    assert "[" in screen and " of 3.0 MiB" in screen and "left" in screen
    assert "\r\x1b[K" in screen  # the bar is erased before the summary
    assert screen.rstrip().endswith("0 problems, 0 integrity failures")


def test_no_progress_bar_when_quiet_or_piped(tmp_path: Path, repo: Path) -> None:
    code, screen = run_on_terminal(["verify", *common(tmp_path, repo), "--quiet"])
    assert (code, screen) == (0, "")
    (tmp_path / "state" / STATE_FILE).unlink()
    piped = run_cli("verify", *common(tmp_path, repo))
    assert piped.returncode == 0 and "\r" not in piped.stderr and "left" not in piped.stderr
    assert piped.stderr.startswith("1 images, 1 files hashed (3145728 bytes read)")


def test_progress_line_format() -> None:
    assert line(3 * MIB, 12 * MIB, 2.0) == (
        "[######------------------]  25%  3.0 MiB of 12.0 MiB  1.5 MiB/s  0:06 left"
    )
    assert line(0, 0, 0.0).endswith("--:-- left")
    assert clock_text(3725) == "1:02:05"


def test_verify_starts_without_site_libraries(tmp_path: Path, repo: Path) -> None:
    (repo / "xen/sl7.3_x86_64_sl20a_8GB_base.txt").write_text("---\nkernel: 5\n---\n*hi*\n")
    script = (
        "import sys; from generator.cli import main; code = main(sys.argv[1:]); "
        "heavy = {'jinja2', 'markdown', 'nh3', 'yaml'} & set(sys.modules); "
        "print(sorted(heavy)); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "verify", *common(tmp_path, repo)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def imported_modules(importtime_report: str) -> set[str]:
    """The modules named by `python -X importtime` (one `import time: self | total | name`
    line per module the interpreter loaded)."""
    lines = importtime_report.splitlines()
    return {line.rsplit("|", 1)[1].strip() for line in lines if line.startswith("import time:")}


def test_verify_imports_neither_the_rendering_stack_nor_package_metadata(
    tmp_path: Path, repo: Path
) -> None:
    """Start-up is part of every cron run's time: `verify` loads what hashing and reporting
    need, not the templates, Markdown, sanitiser, YAML, publishing or importlib.metadata
    (which only kept reads and kept pages need, to know what made them)."""
    (repo / "xen/sl7.3_x86_64_sl20a_8GB_base.txt").write_text("---\nkernel: 5\n---\n*hi*\n")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *CLI[1:], "verify", *common(tmp_path, repo)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "1 files hashed (3145728 bytes read)" in done.stderr
    modules = imported_modules(done.stderr)
    assert {"generator.cli", "generator.verify.hashing", "hashlib", "sqlite3"} <= modules
    heavy = {"jinja2", "markdown", "nh3", "markupsafe", "yaml", "importlib.metadata", "email"}
    assert heavy & modules == set()
    later_stages = ("generator.site", "generator.publish.deploy", "generator.publish.copies")
    assert [m for m in modules if m.startswith(later_stages)] == []


def test_check_and_no_verify_never_hash(tmp_path: Path, repo: Path) -> None:
    checked = run_cli("check", *common(tmp_path, repo))
    assert checked.returncode == 0, checked.stderr
    assert not (tmp_path / "state" / STATE_FILE).exists()
    built = run_cli(
        "build", *common(tmp_path, repo), "--no-verify", "--output", str(tmp_path / "s")
    )
    for done in (checked, built):
        assert done.returncode == 0, done.stderr
        assert "0 files hashed (0 bytes read), 0 digests reused" in done.stderr
    # build keeps the image history in the state, but no digest was read into it
    with sqlite3.connect(tmp_path / "state" / STATE_FILE) as db:
        assert db.execute("SELECT count(*) FROM files").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM images").fetchone()[0] > 0


def test_build_reuses_what_verify_read(tmp_path: Path, repo: Path) -> None:
    env = {"SOURCE_DATE_EPOCH": "4102444800"}  # the clock of both runs: 2100, far from racy
    first = run_cli("verify", *common(tmp_path, repo), env=env)
    built = run_cli("build", *common(tmp_path, repo), "--output", str(tmp_path / "s"), env=env)
    assert "1 files hashed" in first.stderr
    assert "0 files hashed (0 bytes read), 1 digests reused" in built.stderr
    assert not any(p.name.startswith("state") for p in (tmp_path / "s").rglob("*"))


def test_state_inside_the_site_is_refused(tmp_path: Path, repo: Path) -> None:
    site = tmp_path / "site"
    done = run_cli(
        "build", "--repository", str(repo), "--state", str(site / "state"), "--output", str(site)
    )
    assert done.returncode == 2
    assert "the output (--output) contains the state directory" in done.stderr


@pytest.mark.parametrize(
    ("args", "field", "value"),
    [
        (["--rehash-budget", "200GB"], "rehash_budget", 200 << 30),
        (["--rehash-budget", "1.5TB"], "rehash_budget", int(1.5 * (1 << 40))),
        (["--rehash-older-than", "30"], "rehash_older_than", 30.0),
        (["--rehash-older-than", "0.5"], "rehash_older_than", 0.5),
    ],
)
def test_rehash_options(args: list[str], field: str, value: float) -> None:
    for command in ("verify", "build"):
        assert getattr(parser().parse_args([command, *args]), field) == value


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["verify", "--rehash-budget", "200"], "expected a size with a unit"),
        (["verify", "--rehash-older-than", "soon"], "expected a number of days"),
        (["verify", "--rehash-older-than", "-1"], "expected a number of days"),
        (["check", "--rehash-budget", "1GB"], "unrecognized arguments"),
    ],
)
def test_bad_rehash_options(args: list[str], message: str) -> None:
    done = run_cli(*args)
    assert done.returncode == 2 and message in done.stderr


def test_rehash_options_in_the_config_file(tmp_path: Path, repo: Path) -> None:
    config = tmp_path / "catalog.yaml"
    config.write_text("rehash-budget: 2MB\nrehash-older-than: 7\n")
    from generator.config import read_config_file

    assert read_config_file(config) == {"rehash_budget": 2 * MIB, "rehash_older_than": 7.0}
    config.write_text("rehash-budget: lots\n")
    done = run_cli("verify", "--config", str(config), *common(tmp_path, repo))
    assert done.returncode == 2 and "key 'rehash-budget'" in done.stderr
