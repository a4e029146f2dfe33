"""The shipped systemd units and crontab: valid for systemd, and consistent with the exit codes."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

from generator.errors import (
    EXIT_CRASH,
    EXIT_LOCKED,
    EXIT_PROBLEMS,
    EXIT_PUBLISH_COMMAND,
    EXIT_VANISHED,
)
from tests.conftest import ROOT

CONTRIB = ROOT / "contrib"
INSTALLED = "/opt/star-vm-catalog/bin/star-vm-catalog"


def unit(name: str) -> configparser.ConfigParser:
    parsed = configparser.ConfigParser(interpolation=None, strict=False)
    parsed.optionxform = str  # type: ignore[assignment,method-assign]
    parsed.read_string((CONTRIB / name).read_text())
    return parsed


def test_systemd_analyze_verify_accepts_the_units_without_a_warning(tmp_path: Path) -> None:
    """verify needs ExecStart to exist: point a copy at this venv's console script."""
    script = Path(sys.executable).parent / "star-vm-catalog"
    assert script.is_file()
    service = (CONTRIB / "star-vm-catalog.service").read_text()
    assert INSTALLED in service
    (tmp_path / "star-vm-catalog.service").write_text(service.replace(INSTALLED, str(script)))
    shutil.copy(CONTRIB / "star-vm-catalog.timer", tmp_path)
    done = subprocess.run(
        ["systemd-analyze", "verify", "star-vm-catalog.service", "star-vm-catalog.timer"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # unknown keys and bad values are only warnings


def test_routine_exits_succeed_and_the_paging_ones_fail() -> None:
    service = unit("star-vm-catalog.service")["Service"]
    success = {int(code) for code in service["SuccessExitStatus"].split()}
    assert success == {EXIT_PROBLEMS, EXIT_LOCKED}
    assert EXIT_VANISHED not in success and EXIT_PUBLISH_COMMAND not in success
    assert EXIT_CRASH not in success  # a bug pages someone, as it must
    assert service["IOSchedulingClass"] == "idle" and int(service["Nice"]) > 0
    assert service["ProtectSystem"] == "strict" and service["NoNewPrivileges"] == "true"


def test_crontab_runs_what_the_service_runs() -> None:
    command = unit("star-vm-catalog.service")["Service"]["ExecStart"]
    lines = [ln for ln in (CONTRIB / "crontab").read_text().splitlines() if ln and ln[0].isdigit()]
    assert len(lines) == 1 and lines[0].endswith(command)
    assert "--quiet" in command


def test_logrotate_file_is_the_readme_snippet_and_needs_no_copytruncate() -> None:
    shipped = (CONTRIB / "logrotate").read_text()
    stanza = shipped[shipped.index("\n/var/log/") + 1 :]
    indented = "".join(f"    {line}\n" if line else "\n" for line in stanza.splitlines())
    assert indented in (ROOT / "README.md").read_text()
    assert (
        "copytruncate" not in stanza
        and "LogsDirectory=star-vm-catalog" in (CONTRIB / "star-vm-catalog.service").read_text()
    )
