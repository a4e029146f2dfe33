"""Shared fixtures: real repository trees in tmp_path, real md5sum, an isolated environment."""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import pytest

from generator import build as run
from generator.build import build
from generator.catalog.model import Catalog
from generator.config import Config
from generator.publish.copies import publish
from generator.read.names import split_extension
from generator.resources import content_dir
from generator.session import RunResult
from generator.site.content import load_content
from generator.site.render import Layout, render_site
from generator.verify.verdict import Digester
from tests.browser_session import browser  # noqa: F401 (the one Chromium of all browser tests)

ROOT = Path(__file__).resolve().parent.parent
UNPRIVILEGED_UID = 65534  # nobody
FIXED_TIME = 1_709_300_000.0  # 2024-03-01T13:33:20Z: the clock of every test build
FIXED_NS = int(FIXED_TIME) * 10**9
CLI = (sys.executable, "-m", "generator")  # the command line, for runs that need a Popen


T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C handled as at a terminal, however the suite was started. A script that starts it
    as a background job (`cmd &`, nohup) ignores SIGINT in it, and an ignored signal stays
    ignored in every program it runs: the builds the interrupt tests start would go on to the
    end instead of stopping, and the in-process tests would see no KeyboardInterrupt."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the developer's real cache or state directories."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@dataclass(frozen=True)
class Sums:
    """The md5sum sidecar: what `md5sum [flags] names...` prints, run in the sidecar's folder
    (or its subfolder `inside`, for a directory image's members). No names: the image beside
    the sidecar with the same stem."""

    names: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    inside: str = ""


@dataclass(frozen=True)
class Link:
    """A symbolic link to `target`, written as given (relative or absolute)."""

    target: str


@dataclass(frozen=True)
class Fifo:
    """A named pipe."""


@dataclass(frozen=True)
class Folder:
    """An empty directory."""


Entry = bytes | str | Sums | Link | Fifo | Folder
SUMS = Sums()


def sums(*names: str, flags: tuple[str, ...] = (), inside: str = "") -> Sums:
    """`Sums` of the given names, e.g. `sums("a.vmdk", "b.vmdk", inside=stem)`."""
    return Sums(tuple(names), flags, inside)


def image_entries(
    relpath: str, data: bytes | str = b"STAR image bytes\n", description: str | None = None
) -> dict[str, Entry]:
    """An image, its md5sum sidecar and (when given) its description, as `write_tree` entries."""
    folder, _, name = relpath.rpartition("/")
    stem = f"{folder}/{_stem(name)}" if folder else _stem(name)
    files: dict[str, Entry] = {relpath: data, f"{stem}.checksum": sums(name)}
    if description is not None:
        files[f"{stem}.txt"] = description
    return files


def directory_image(relpath: str, members: Mapping[str, bytes | str]) -> dict[str, Entry]:
    """A multi-file image: its members and one `.checksum` beside it listing them all."""
    folder, _, name = relpath.rpartition("/")
    sidecar = f"{folder}/{name}.checksum" if folder else f"{name}.checksum"
    files: dict[str, Entry] = {f"{relpath}/{member}": data for member, data in members.items()}
    return {**files, sidecar: sums(*sorted(members), inside=name)}


def image_files(files: Mapping[str, bytes | str]) -> dict[str, Entry]:
    """Every {image path: content} with its md5sum sidecar beside it."""
    return {
        k: v for relpath, data in files.items() for k, v in image_entries(relpath, data).items()
    }


def write_tree(root: Path, files: Mapping[str, Entry], mtime_ns: int | None = None) -> Path:
    """Create a repository from {relative path: entry}: the one builder of every test tree.

    Text is written as UTF-8; `Sums` run the real md5sum once every plain file exists;
    `mtime_ns` stamps every entry (links themselves, not their targets).
    """
    root.mkdir(parents=True, exist_ok=True)
    for kind in (bytes, Link, Sums):  # files first, so links and sums see them
        for relpath, entry in files.items():
            if _kind(entry) is kind:
                _write_entry(root, relpath, entry)
    if mtime_ns is not None:
        for path in [root, *root.rglob("*")]:
            os.utime(path, ns=(mtime_ns, mtime_ns), follow_symlinks=False)
    return root


def _kind(entry: Entry) -> type:
    if isinstance(entry, (bytes, str, Fifo, Folder)):
        return bytes
    return type(entry)


def _write_entry(root: Path, relpath: str, entry: Entry) -> None:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(entry, Folder):
        path.mkdir(exist_ok=True)
    elif isinstance(entry, Fifo):
        os.mkfifo(path)
    elif isinstance(entry, Link):
        path.symlink_to(entry.target)
    elif isinstance(entry, Sums):
        path.write_text(_sidecar_text(path, entry))
    else:
        path.write_bytes(entry.encode() if isinstance(entry, str) else entry)


def _sidecar_text(sidecar: Path, entry: Sums) -> str:
    """What md5sum prints for the sidecar's names (or its image, found by stem)."""
    names = entry.names
    if not names:
        stem = _stem(sidecar.name)
        names = tuple(
            p.name
            for p in sorted(sidecar.parent.iterdir())
            if p.name != sidecar.name and _stem(p.name) == stem and p.suffix != ".txt"
        )
        assert len(names) == 1, f"no single image beside {sidecar}: {names}"
    return md5sum(sidecar.parent / entry.inside, *names, flags=entry.flags)


def md5sum(directory: Path, *names: str, flags: tuple[str, ...] = ()) -> str:
    """What the real `md5sum` prints for `names`, run inside `directory`."""
    done = subprocess.run(
        ["md5sum", *flags, *names], cwd=directory, capture_output=True, text=True, check=True
    )
    return done.stdout


def _stem(name: str) -> str:
    """The image name before its extension, as the catalog splits it."""
    return split_extension(name)[0]


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            user: int | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run `python -m generator` as a subprocess, as a user would."""
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd or ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        user=user,
    )


def build_site(
    repository: Path, output: Path, base_url: str | None = None, layout: Layout | None = None
) -> Catalog:
    """Scan, verify (fixed clock), render and publish, as `star-vm-catalog build` does."""
    config = Config(repository=repository, output=output, state=output.parent / "state", jobs=1)
    catalog = build(config, clock=lambda: FIXED_TIME, publish=False).catalog
    assert catalog is not None
    files = render_site(
        catalog, load_content(content_dir()), config.title, base_url, layout or Layout()
    )
    publish(files, output)
    return catalog


class Clock:
    """A clock the test moves by hand; starts on a whole second a minute after now, so well
    after the files were written (not racy) whatever the date the tests run on."""

    def __init__(self, now: float | None = None) -> None:
        self.now = float(int(time.time()) + 60) if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, days: float) -> None:
        self.now += days * 86400

    def iso(self, form: str = "%Y-%m-%dT%H:%M:%SZ") -> str:
        return time.strftime(form, time.gmtime(self.now))


def config_for(tmp_path: Path, **changes: object) -> Config:
    base = Config(
        repository=tmp_path / "repo", state=tmp_path / "state", output=tmp_path / "site", jobs=2
    )
    return replace(base, **changes)


def verify(
    config: Config, clock: Clock, digester: Digester | None = None
) -> tuple[RunResult, dict[str, str]]:
    """Run `verify` in this process; also return each image's status by id."""
    result = run.verify(config, clock, digester)
    return result, {image.id: image.status for image in result.catalog.images}


def peak_of(work: Callable[[], T]) -> tuple[int, T]:
    """The most memory this process held at once while `work` ran (traced from its start, so
    what was held before does not count), and what it returned. Garbage is collected first:
    cycles left by earlier work would otherwise fall due in the middle of it."""
    gc.collect()
    tracemalloc.start()
    try:
        result = work()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def read_catalog(site: Path) -> dict:
    return json.loads((site / "catalog.json").read_text())


def catalog_image(catalog: dict, image_id: str) -> dict:
    """The image `image_id` of a catalog.json read back (`read_catalog`)."""
    return next(i for i in catalog["images"] if i["id"] == image_id)


def codes_of(catalog: dict, path: str) -> set[str]:
    """The codes of a catalog.json's problems at `path` (an image, a sidecar, a member)."""
    return {p["code"] for p in catalog["problems"] if p["path"] == path}


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
