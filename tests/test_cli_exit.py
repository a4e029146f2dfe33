"""The program exits without collecting its cyclic garbage: safe only while a run leaves nothing
open in it, which is checked here."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator import cli
from generator.failpoints import FAIL_VARIABLE
from tests.conftest import CLI, ROOT, image_entries, write_tree

IMAGE = "kvm/sl6.4_x86_64_sl11d_20GB_batch.img"


def build_args(tmp_path: Path) -> list[str]:
    repository = write_tree(tmp_path / "repo", image_entries(IMAGE, description="A batch node."))
    (repository / "kvm/sl6.4_x86_64_sl11d_20GB_batch.checksum").write_text(f"{'0' * 32}  x\n")
    args = ["build", "--repository", str(repository), "--output", str(tmp_path / "site")]
    return [*args, "--state", str(tmp_path / "state"), "--quiet"]


def open_descriptors() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_the_program_exits_with_the_run_code_and_leaves_its_objects_uncollected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["star-vm-catalog", *build_args(tmp_path)])
    try:
        with pytest.raises(SystemExit) as exited:
            cli.main_and_exit()
        assert exited.value.code == 1  # the checksum does not match
        assert gc.get_freeze_count() > 0 and gc.isenabled()
    finally:
        gc.unfreeze()
    assert (tmp_path / "site/index.html").is_file()


def test_a_run_that_did_not_complete_is_collected_as_usual(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupted or failed run may leave a generator whose `finally` stops workers."""
    missing = ["build", "--repository", str(tmp_path / "missing"), "--quiet"]
    monkeypatch.setattr(sys, "argv", ["star-vm-catalog", *missing])
    with pytest.raises(SystemExit) as exited:
        cli.main_and_exit()
    assert exited.value.code == 3 and gc.get_freeze_count() == 0 and gc.isenabled()


def test_a_run_leaves_no_descriptor_open_for_the_collector_to_close(tmp_path: Path) -> None:
    """Every file, log and SQLite connection is closed before `command` returns, so the
    garbage `main_and_exit` leaves uncollected holds no descriptor (nor unwritten data)."""
    args = build_args(tmp_path)
    runs = [[*args, "--log-file", str(tmp_path / "run.log")], args]  # a first build, an edit
    gc.collect()
    gc.disable()  # as `main_and_exit` runs: nothing the run made is collected
    try:
        before = open_descriptors()
        for argv in runs:
            assert cli.command(argv) == 1
            (tmp_path / "repo/kvm/sl6.4_x86_64_sl11d_20GB_batch.txt").write_text("Edited.\n")
        assert open_descriptors() <= before
    finally:
        gc.enable()


KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretBODYline1\nZZZsecretBODYline2\n-----END RSA PRIVATE KEY-----"


class Unprintable(Exception):
    def __str__(self) -> str:
        raise TypeError("no text")


@pytest.mark.parametrize(
    "error",
    [ValueError(f"cannot make the page of:\n{KEY}"), Unprintable("x")],
    ids=["key", "no-str"],
)
def test_an_unexpected_error_is_reported_redacted_whole_with_exit_70(
    error: Exception, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The traceback is redacted as one text (a key block spans lines), and an error whose
    text cannot even be made is still exit 70 with a line in the log."""
    try:
        raise error
    except Exception as exc:
        code = cli.crashed(exc, cli.Log(tmp_path / "run.log", "build"))
    shown = capsys.readouterr().err + (tmp_path / "run.log").read_text()
    assert code == 70 and "secretBODY" not in shown
    assert shown.count("unexpected error") == 2  # on stderr, and in the log
    if isinstance(error, ValueError):
        assert "Traceback" in shown and "private key redacted" in shown


@pytest.mark.parametrize("stream", ["stderr", "stdout"])
@pytest.mark.parametrize(
    ("fail_at", "repository", "code"),
    [(None, "repo", 1), ("reading", "repo", 70), ("reporting", "repo", 70), (None, "gone", 3)],
)
def test_a_stream_that_is_gone_loses_lines_never_the_exit_code(
    tmp_path: Path, fail_at: str | None, repository: str, code: int, stream: str
) -> None:
    """stderr or stdout a pipe nobody reads any more (journald restarted, `2>&1 | head -0`):
    the run's own code, not the 1 of a BrokenPipeError (which a timer takes for routine
    problems), nor a 70 for a line that could not be shown."""
    args = build_args(tmp_path)
    args[args.index("--repository") + 1] = str(tmp_path / repository)
    env = {k: v for k, v in os.environ.items() if k != FAIL_VARIABLE}
    env |= {FAIL_VARIABLE: fail_at} if fail_at else {}
    read_end, write_end = os.pipe()
    os.close(read_end)
    streams = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, stream: write_end}
    try:
        done = subprocess.run([*CLI, *args[:-1]], cwd=ROOT, env=env, timeout=300, **streams)
    finally:
        os.close(write_end)
    assert done.returncode == code
