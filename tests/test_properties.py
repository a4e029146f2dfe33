"""Invariants over generated repositories (Hypothesis), checked after `check` and `build`.

For every repository: no traceback; exit code 0, 1 or 2; `catalog.json` is strict JSON and
`feed.xml` is XML; every entry of the tree is catalogued, ignored or named by a problem; the
canary outside the repository (reachable only through symlinks) is never opened and its marker
appears in no output; nothing but the output and the state is written.

`make test` runs the `ci` profile (deterministic, a couple of hundred examples); `make fuzz`
runs the `fuzz` profile (10,000 examples, random, failures kept in `.hypothesis/`).
"""

from __future__ import annotations

import functools
import io
import json
import os
import secrets
import shutil
import signal
import stat
import tempfile
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from generator import cli
from generator.config import DEFAULT_IGNORE
from generator.read.scan import ignore_matcher
from generator.site import render
from tests.open_watch import OpenWatch
from tests.repo_strategies import HOSTILE_FRONT_MATTER, Entry, additions, materialize, repositories

settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("STAR_FUZZ_EXAMPLES", "100")),
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # shrinking may take minutes: `make fuzz` does it
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "quick",  # for debugging: no shrinking, the first failure as found
    max_examples=int(os.environ.get("STAR_FUZZ_EXAMPLES", "50")),
    deadline=None,
    phases=[Phase.generate],
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("STAR_FUZZ_EXAMPLES", "10000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = os.environ.get("STAR_FUZZ_PROFILE", "ci")
HANG_SECONDS = 30
OURS = {"site", "state", ".site.builds", ".site.lock"}  # what a build may add beside the repository
MAX_JSON_GROWTH = 20  # catalog.json may hold each input byte a few times over, not millions  # one example runs in well under a second; longer is a hang


class Hang(Exception):
    """A command ran far longer than any example should (a FIFO or device read blocks)."""


@dataclass
class Workspace:
    """A scratch area: the repository, the canary outside it, a sibling that must not change."""

    base: Path
    marker: str = field(default_factory=lambda: f"CANARY-{secrets.token_hex(8)}")

    def __post_init__(self) -> None:
        self.repo, self.outside, self.sibling = (
            self.base / "repo",
            self.base / "outside",
            self.base / "sibling",
        )
        self.site, self.state = self.base / "site", self.base / "state"
        self.outside.mkdir()
        (self.outside / "secret.img").write_text(f"{self.marker}\n")
        (self.outside / "secret.txt").write_text(f"---\nkey: {self.marker}\n---\n{self.marker}\n")
        (self.outside / "secret.checksum").write_text(f"{'0' * 32}  {self.marker}\n")
        self.sibling.mkdir()
        (self.sibling / "keep.html").write_text("not ours\n")


@dataclass
class Outcome:
    code: int | None
    out: str
    err: str
    crash: str = ""


def run_cli_in_process(*argv: str) -> Outcome:
    """`generator.cli.main` in this process (a subprocess per example would take 10x longer).

    An exception escaping `main` is what a user would see as a traceback; SystemExit is what
    argparse does; a run over HANG_SECONDS is interrupted and reported as a hang.
    """
    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _raise_hang)
    signal.alarm(HANG_SECONDS)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code: int | None = cli.main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException:
        return Outcome(None, out.getvalue(), err.getvalue(), traceback.format_exc())
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return Outcome(code, out.getvalue(), err.getvalue())


def _raise_hang(_signum: int, _frame: object) -> None:
    raise Hang(f"a command ran over {HANG_SECONDS} s")


def snapshot(directory: Path) -> dict[str, tuple[int, int, int, int]]:
    """Every entry below `directory` with mode, size, mtime and ctime, by lstat only (no open
    of a file: the canary's inotify watch must see only the tool)."""
    seen = {}
    for current, dirs, files in os.walk(directory):
        for name in dirs + files:
            path = os.path.join(current, name)
            st = os.lstat(path)
            seen[os.path.relpath(path, directory)] = (
                st.st_mode,
                st.st_size,
                st.st_mtime_ns,
                st.st_ctime_ns,
            )
    return seen


def shown(relpath: str) -> str:
    """A relpath as the catalog names it (undecodable bytes as `\\xNN`, as scan does)."""
    return os.fsencode(relpath).decode("utf-8", "backslashreplace")


def tree_entries(root: Path) -> list[tuple[str, ...]]:
    """Every entry below root as a tuple of names, not following symlinks."""
    found = []
    for current, dirs, files in os.walk(root):
        rel = Path(current).relative_to(root).parts
        found += [(*rel, name) for name in dirs + files]
    return found


def accounted(catalog: dict) -> set[str]:
    """Paths the catalog covers: images, their sidecars and members, and problem paths."""
    paths = {p["path"] for p in catalog["problems"]}
    for image in catalog["images"]:
        vm, stem = image["vm"], image["id"][len(image["vm"]) + 1 :]
        paths |= {image["path"], f"{vm}/{stem}.checksum", f"{vm}/{stem}.txt"}
        paths |= {f"{image['path']}/{m['name']}" for m in image.get("members") or []}
    return paths


def assert_all_accounted(root: Path, catalog: dict) -> None:
    """Each entry is catalogued, ignored, named by a problem, or inside one that is.

    VM directories (the first level) need no entry of their own.
    """
    covered, ignored = accounted(catalog), ignore_matcher(DEFAULT_IGNORE)
    for parts in tree_entries(root):
        prefixes = ["/".join(shown(p) for p in parts[:n]) for n in range(1, len(parts) + 1)]
        if any(prefix in covered for prefix in prefixes):
            continue
        if any(ignored(part) for part in parts):
            continue
        if len(parts) == 1 and (root / parts[0]).is_dir():
            continue
        raise AssertionError(f"{'/'.join(parts)!r} is neither catalogued nor a problem")


def input_bytes(root: Path) -> int:
    """Bytes of regular files in the repository (links not followed)."""
    total = 0
    for current, _dirs, files in os.walk(root):
        for name in files:
            st = os.lstat(os.path.join(current, name))
            total += st.st_size if stat.S_ISREG(st.st_mode) else 0
    return total


def strict_json(text: str) -> dict:
    """json.loads that refuses NaN and Infinity, which browsers' JSON.parse reject too."""

    def refuse(constant: str) -> None:
        raise ValueError(f"catalog.json holds {constant}")

    return json.loads(text, parse_constant=refuse)


def outputs_text(ws: Workspace, outcomes: list[Outcome]) -> bytes:
    """Everything the runs printed or wrote, to look for the canary's marker."""
    chunks = [o.out.encode("utf-8", "replace") + o.err.encode("utf-8", "replace") for o in outcomes]
    for directory in (ws.base / ".site.builds", ws.state):
        for current, _dirs, files in os.walk(directory):
            for name in files:
                path = os.path.join(current, name)
                if not os.path.islink(path):
                    with open(path, "rb") as handle:
                        chunks.append(handle.read())
    return b"\n".join(chunks)


def scratch_parent() -> str | None:
    """Memory-backed /dev/shm when there is one: `build` ends with syncfs, which on a disk
    shared with other jobs costs more than the whole rest of an example."""
    chosen = os.environ.get("STAR_FUZZ_TMP") or "/dev/shm"
    return chosen if os.access(chosen, os.W_OK) else None


def check_invariants(plan: list[Entry], later: list[Entry] = ()) -> None:
    """Build the repository of `plan` in a scratch area, run `check` and `build`, assert; then
    add `later` and do it again (the first build announces nothing in the feed, the second
    announces what was added)."""
    base = Path(tempfile.mkdtemp(prefix="star-fuzz-", dir=scratch_parent()))
    try:
        ws = Workspace(base)
        for part in (plan, later) if later else (plan,):
            materialize(part, ws.repo, ws.outside)
            _check_in(ws)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _check_in(ws: Workspace) -> None:
    before = {d: snapshot(d) for d in (ws.repo, ws.outside, ws.sibling)}
    top = set(os.listdir(ws.base))
    watch = OpenWatch([ws.outside, *ws.outside.iterdir()])
    try:
        common = ("--repository", str(ws.repo), "--state", str(ws.state))
        log = ("--log-file", str(ws.state / "run.log"))
        outcomes = [
            run_cli_in_process("check", *common),
            run_cli_in_process("build", *common, *log, "--output", str(ws.site), "--jobs", "2"),
        ]
        opened = watch.touched()
    finally:
        watch.close()
    for outcome in outcomes:
        assert not outcome.crash, outcome.crash
        assert "Traceback (most recent call last)" not in outcome.err, outcome.err
        assert outcome.code in (0, 1, 2), (outcome.code, outcome.err)
    assert not opened, f"read outside the repository: {sorted(map(str, opened))}"
    assert ws.marker.encode() not in outputs_text(ws, outcomes), "the canary's marker leaked"
    for directory, seen in before.items():
        assert snapshot(directory) == seen, f"{directory.name} was changed"
    made = set(os.listdir(ws.base)) - top
    assert made <= OURS, made
    if outcomes[1].code == 2:
        return
    text = (ws.site / "catalog.json").read_text(encoding="utf-8")
    assert len(text) <= MAX_JSON_GROWTH * input_bytes(ws.repo) + (1 << 20), "catalog.json blew up"
    catalog = strict_json(text)
    ET.parse(ws.site / "feed.xml")
    assert_all_accounted(ws.repo, catalog)


@pytest.fixture(autouse=True, scope="module")
def compiled_templates_once() -> Iterator[None]:
    """One Jinja environment for every in-process run: compiling the templates again for each
    example would take most of its time. The templates and their output are the real ones."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(render, "environment", functools.cache(render.environment))
        yield


@given(plan=repositories(), later=additions())
@settings(settings.get_profile(PROFILE))
def test_every_generated_repository_keeps_the_invariants(
    plan: list[Entry], later: list[Entry]
) -> None:
    check_invariants(plan, later)


@pytest.mark.parametrize(
    ("front_matter", "reason"),
    [pytest.param(text, why, id=name) for name, (text, why) in HOSTILE_FRONT_MATTER.items()],
)
def test_hostile_front_matter(front_matter: str, reason: str) -> None:
    """Each once stopped the run (`reason`); now it is one problem and the rest publishes."""
    plan = [
        Entry("file", ("xen", "sl5.3_x86_64_32_sl05c_2GB.img"), b"image"),
        Entry(
            "description",
            ("xen", "sl5.3_x86_64_32_sl05c_2GB.txt"),
            f"---\n{front_matter}---\nok\n".encode(),
        ),
    ]
    check_invariants(plan)


@pytest.mark.parametrize(
    "raw",
    [b"key: \xc2\x81\n", b"key: a\x1bb\n", b"\xe2\x81\xa6: 1\n---\nnot UTF-8: \xff\n"],
    ids=["c1-control", "escape", "latin-1-read"],
)
def test_front_matter_with_raw_control_characters(raw: bytes) -> None:
    """PyYAML refuses raw control characters with a ReaderError (a non-UTF-8 description read
    as Latin-1 turns UTF-8 bytes into C1 controls): one warning, never a traceback. Found by
    the property test on a trial merge with main, where the front-matter loader lets it out."""
    plan = [
        Entry("file", ("xen", "sl5.3_x86_64_32_sl05c_2GB.img"), b"image"),
        Entry(
            "description", ("xen", "sl5.3_x86_64_32_sl05c_2GB.txt"), b"---\n" + raw + b"---\nok\n"
        ),
    ]
    check_invariants(plan)


def test_control_characters_in_feed() -> None:
    """The second build announces the new image; its name must not break the XML."""
    first = [Entry("file", ("xen", "sl5.3_x86_64_32_sl05c_2GB.img"), b"image")]
    later = [Entry("file", ("xen", "sl5.3_x86_64_32_sl05c_2GB_a\x1b\x01b.img"), b"new")]
    check_invariants(first, later)


def test_the_checker_catches_what_it_claims(tmp_path: Path) -> None:
    """The invariants are not vacuous: a tree entry nobody names, a leaked marker, a crash."""
    catalog = {"images": [], "problems": []}
    (tmp_path / "xen").mkdir()
    (tmp_path / "xen" / "stray.img").write_bytes(b"")
    with pytest.raises(AssertionError, match=r"stray\.img"):
        assert_all_accounted(tmp_path, catalog)
    with pytest.raises(ValueError, match="NaN"):
        strict_json('{"x": NaN}')
    outcome = run_cli_in_process("build", "--jobs", "0")
    assert outcome.code == 2 and "--jobs" in outcome.err


@pytest.mark.parametrize("length", range(2, 13))
def test_image_cut_inside_a_gzip_header(length: int) -> None:
    """Found by `make fuzz`: a 3-byte file starting like gzip (`1f 8b 08`) made header
    detection index past its end, an IndexError that stopped check, verify and build."""
    header = gzip_header_with_name(b"disk.qcow2")
    plan = [Entry("file", ("xen", "sl5.3_x86_64_32_sl05c_2GB.img.gz"), header[:length])]
    check_invariants(plan)


def gzip_header_with_name(name: bytes) -> bytes:
    """The fixed 10-byte gzip header with FNAME set, then the NUL-terminated name."""
    return b"\x1f\x8b\x08\x08" + b"\x00" * 4 + b"\x00\x03" + name + b"\x00"
