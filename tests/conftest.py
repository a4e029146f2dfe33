"""Shared fixtures: real repository trees in tmp_path, real md5sum, an isolated environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNPRIVILEGED_UID = 65534  # nobody


@pytest.fixture(autouse=True)
def isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the developer's real cache or state directories."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


def write_tree(root: Path, files: dict[str, bytes | str]) -> Path:
    """Create files from {relative path: content}; text is written as UTF-8."""
    for relpath, content in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def md5sum(directory: Path, *names: str, flags: tuple[str, ...] = ()) -> str:
    """What the real `md5sum` prints for `names`, run inside `directory`."""
    done = subprocess.run(
        ["md5sum", *flags, *names], cwd=directory, capture_output=True, text=True, check=True
    )
    return done.stdout


def add_checksum(image: Path, flags: tuple[str, ...] = ()) -> Path:
    """Write `<stem>.checksum` beside a file image exactly as `md5sum image > stem.checksum` would."""
    stem = image.name.split(".", 1)[0] if "_" not in image.name else _stem(image.name)
    sidecar = image.parent / f"{stem}.checksum"
    sidecar.write_text(md5sum(image.parent, image.name, flags=flags))
    return sidecar


def _stem(name: str) -> str:
    from generator.read.names import split_extension

    return split_extension(name)[0]


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            user: int | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run `python -m generator` as a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd or ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        user=user,
    )


def read_catalog(site: Path) -> dict:
    return json.loads((site / "catalog.json").read_text())


@pytest.fixture
def tree(tmp_path: Path) -> Callable[[dict[str, bytes | str]], Path]:
    """A repository root under tmp_path, filled from a declarative mapping."""
    root = tmp_path / "repo"
    root.mkdir()
    return lambda files: write_tree(root, files)


def as_unprivileged(func: Callable[..., object], *args: object) -> object:
    """Call `func` in a forked child that dropped root, so permission bits really apply.

    Forking keeps every module already imported, so the child needs no access to the venv.
    Without root, permissions already apply and `func` runs in this process.
    """
    if os.geteuid() != 0:
        return func(*args)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        status = 0
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(UNPRIVILEGED_UID)
            os.setuid(UNPRIVILEGED_UID)
            payload = {"value": func(*args)}
        except BaseException as exc:  # the child must always report and exit
            payload, status = {"error": repr(exc)}, 1
        os.write(write_end, json.dumps(payload, default=str).encode())
        os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    payload = json.loads(data)
    if "error" in payload:
        raise AssertionError(f"unprivileged child failed: {payload['error']}")
    return payload["value"]


def open_to_everyone(path: Path) -> None:
    """Let the unprivileged test user traverse tmp_path (pytest makes it 0700)."""
    for parent in [path, *path.parents]:
        if parent == Path("/"):
            break
        os.chmod(parent, os.stat(parent).st_mode | 0o711)
