"""Descriptions of many images are read on every core (`generator.parallel`): same bytes as one
process, nothing lost when a worker dies, the Markdown time limit and interrupts still hold."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from golden import site_files

from generator import failpoints, parallel
from generator.build import build
from generator.config import Config
from generator.markup import TooSlow, render_markdown
from generator.read.parse import ParseRules, parse_images, parsed_in_order
from generator.read.scan import ScanResult, scan
from generator.session import BUILD, parse_rules
from generator.state.database import open_state
from generator.state.stored_reads import StateReadStore
from tests.conftest import (
    CLI,
    FIXED_NS,
    ROOT,
    Clock,
    image_entries,
    peak_of,
    read_catalog,
    write_tree,
)

COUNT = 300  # images: several times `parallel.MIN_ITEMS`
HOSTILE = (7, 150, 290)  # images whose description takes Markdown past its time limit
EPOCH = str(FIXED_NS // 10**9 + 60)
TWO_CORES = pytest.mark.skipif(parallel.cores() < 2, reason="needs two cores to fork a worker")


def description(n: int) -> str:
    """A few lines of Markdown as STAR writes them; some with front matter, three hostile."""
    if n in HOSTILE:
        return "<b>" + "[" * (64 * 1024)  # Python-Markdown alone: minutes
    front = f"---\nmaintainer: star{n % 7}\nkernel: 3.10.{n}\n---\n" if n % 4 == 0 else ""
    return (
        f"{front}# Image {n}\n\nBuilt for **grid** jobs with `sl20a`.\n\n- root 5.34.{n % 9}\n"
        f"- see [the twiki](https://www.star.bnl.gov/twiki/Vm{n})\n"
    )


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = {}
    for n in range(COUNT):
        relpath = f"{('kvm', 'xen')[n % 2]}/sl7.{n % 10}_x86_64_sl20a_8GB_n{n:04d}.img"
        files.update(image_entries(relpath, f"image {n}\n", description(n)))
    return write_tree(tmp_path_factory.mktemp("parallel") / "repo", files, mtime_ns=FIXED_NS)


def build_command(repository: Path, work: Path) -> list[str]:
    site, state = work / "site", work / "state"
    options = ["--output", str(site), "--state", str(state), "--quiet"]
    return [*CLI, "build", "--repository", str(repository), *options]


def start_build(repository: Path, work: Path, *prefix: str) -> subprocess.Popen[str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    command = [*prefix, *build_command(repository, work)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def one_core_site(repository: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The site a build confined to one core makes (`taskset`: no worker is forked)."""
    work = tmp_path_factory.mktemp("one-core")
    child = start_build(repository, work, "taskset", "-c", "0")
    _, stderr = child.communicate(timeout=300)
    assert child.returncode == 0, stderr  # the hostile descriptions are warnings
    return site_files((work / "site").resolve())


def worker_of(child: subprocess.Popen[str], deadline: float = 60) -> int:
    """The pid of the first copy of itself the build forks (a reader: reads come first)."""
    return first_copy(child, "read descriptions", deadline)


def first_copy(child: subprocess.Popen[str], work: str, deadline: float = 60) -> int:
    """The pid of the first copy of itself the build forks (to do `work`). Programs it runs
    (`ldconfig -p`, at the import of `publish.copies`) are passed over: their command line is
    not the build's. The build's own command line is read each time round: it reads empty for
    a moment after `Popen` returns (the new program still being set up), and a program that
    starts the build (`taskset`) has its own until it runs it."""
    children = Path(f"/proc/{child.pid}/task/{child.pid}/children")
    ends = time.monotonic() + deadline
    while time.monotonic() < ends and child.poll() is None:
        own = b""
        with contextlib.suppress(OSError):  # ended meanwhile
            own = Path(f"/proc/{child.pid}/cmdline").read_bytes()
        for pid in children.read_text().split() if own and children.exists() else []:
            with contextlib.suppress(OSError):  # ended meanwhile
                if Path(f"/proc/{pid}/cmdline").read_bytes() == own:
                    return int(pid)
        time.sleep(0.001)
    raise AssertionError(f"the build forked no worker to {work}")


def copies_left(command: list[str]) -> list[int]:
    """Processes still running `command`, wherever they are now: the workers of a build that
    has exited. One it forked but never recorded outlives it a while, reparented (its
    `PR_SET_PDEATHSIG` kill is on its way), where the children of the build no longer show."""
    wanted = "".join(f"{part}\0" for part in command).encode()
    left = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):  # not a process, or ended meanwhile
            if entry.name.isdigit() and (entry / "cmdline").read_bytes() == wanted:
                left.append(int(entry.name))
    return [pid for pid in left if not gone(pid, deadline=0)]


def gone(pid: int, deadline: float = 10) -> bool:
    """The process has ended (no longer exists, or is a zombie nobody reaped)."""
    ends = time.monotonic() + deadline
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        if time.monotonic() >= ends:
            return False
        time.sleep(0.01)


@TWO_CORES
def test_a_build_on_every_core_writes_the_bytes_of_a_one_core_build(
    repository: Path, one_core_site: dict[str, bytes], tmp_path: Path
) -> None:
    child = start_build(repository, tmp_path)
    worker_of(child)
    _, stderr = child.communicate(timeout=300)
    assert child.returncode == 0, stderr
    site = (tmp_path / "site").resolve()
    assert site_files(site) == one_core_site
    catalog = read_catalog(site)
    hostile = [
        f"{('kvm', 'xen')[n % 2]}/sl7.{n % 10}_x86_64_sl20a_8GB_n{n:04d}.txt" for n in HOSTILE
    ]
    too_complex = {p["path"] for p in catalog["problems"] if p["code"] == "description_too_complex"}
    assert too_complex == set(hostile)


@TWO_CORES
def test_a_worker_killed_mid_run_loses_nothing(
    repository: Path, one_core_site: dict[str, bytes], tmp_path: Path
) -> None:
    child = start_build(repository, tmp_path)
    worker = worker_of(child)
    os.kill(worker, signal.SIGKILL)  # as the out-of-memory killer would
    _, stderr = child.communicate(timeout=300)
    assert child.returncode == 0, stderr
    assert site_files((tmp_path / "site").resolve()) == one_core_site


@TWO_CORES
def test_ctrl_c_stops_the_workers_too(repository: Path, tmp_path: Path) -> None:
    child = start_build(repository, tmp_path)
    worker = worker_of(child)
    child.send_signal(signal.SIGINT)  # the build alone: the worker must be stopped by it
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130
    assert "interrupted" in stderr
    assert gone(worker, deadline=0)
    assert copies_left(build_command(repository, tmp_path)) == []  # nor any forked since


@TWO_CORES
def test_a_build_interrupted_right_after_a_fork_exits_130_leaving_no_worker(
    repository: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(failpoints.INTERRUPT_VARIABLE, "forked")  # at the first reader's fork
    child = start_build(repository, tmp_path)
    _, stderr = child.communicate(timeout=60)
    assert (child.returncode, "interrupted" in stderr) == (130, True)
    assert copies_left(build_command(repository, tmp_path)) == []


@TWO_CORES
def test_a_ctrl_c_right_after_a_fork_stops_that_worker_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Ctrl-C landing between a worker's fork and its record (`failpoints.interrupt`) is
    raised once the worker is recorded, so that it is stopped with the others."""
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    before = set(children.read_text().split())  # (a browser other tests started, say)
    monkeypatch.setenv(failpoints.INTERRUPT_VARIABLE, "forked")
    with pytest.raises(KeyboardInterrupt):
        parallel.shared_map(where, list(range(600)), 2)
    forked = [int(pid) for pid in set(children.read_text().split()) - before]
    try:
        assert [pid for pid in forked if not gone(pid, deadline=0)] == []
    finally:
        for pid in forked:  # a worker left running, killed here not to outlive the test
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


@TWO_CORES
def test_a_terminated_build_leaves_no_worker_running(repository: Path, tmp_path: Path) -> None:
    child = start_build(repository, tmp_path)
    worker = worker_of(child)
    child.send_signal(signal.SIGTERM)  # ends the build at once, with no cleanup of its own
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGTERM
    assert gone(worker)


def where(item: int) -> tuple[int, int]:
    time.sleep(0.002)  # long enough that both processes take chunks
    return item * item, os.getpid()


@TWO_CORES
def test_results_come_back_in_order_from_several_processes() -> None:
    items = list(range(600))
    results = parallel.shared_map(where, items, 2)
    assert [square for square, _ in results] == [n * n for n in items]
    assert os.getpid() in {pid for _, pid in results}
    assert len({pid for _, pid in results}) == 2


def test_a_few_items_are_worked_in_this_process() -> None:
    results = parallel.shared_map(where, list(range(parallel.MIN_ITEMS - 1)), 2)
    assert {pid for _, pid in results} == {os.getpid()}


@TWO_CORES
def test_chunks_of_a_worker_that_dies_are_worked_here() -> None:
    parent = os.getpid()

    def fragile(item: int) -> tuple[int, int]:
        if os.getpid() != parent and item % 50 == 0:
            os.kill(os.getpid(), signal.SIGKILL)
        return where(item)

    results = parallel.shared_map(fragile, list(range(600)), 2)
    assert [square for square, _ in results] == [n * n for n in range(600)]
    assert all(pid == parent for n, (_, pid) in enumerate(results) if n % 50 == 0)


@TWO_CORES
def test_an_error_in_a_worker_is_raised_here_as_in_one_process() -> None:
    def failing(item: int) -> int:
        if item == 321:
            raise ValueError("item 321")
        return item

    with pytest.raises(ValueError, match="item 321"):
        parallel.shared_map(failing, list(range(600)), 2)


def too_complex(item: int) -> tuple[str, int]:
    try:
        render_markdown("<b>" + "[" * (64 * 1024), time_limit=0.02)
    except TooSlow:
        return "too slow", os.getpid()
    return "rendered", os.getpid()


@TWO_CORES
def test_the_markdown_time_limit_holds_in_workers() -> None:
    started = time.monotonic()
    results = parallel.shared_map(too_complex, list(range(parallel.MIN_ITEMS)), 2)
    assert {outcome for outcome, _ in results} == {"too slow"}
    assert len({pid for _, pid in results}) == 2  # the worker stopped its share too
    assert time.monotonic() - started < 30


FORKS: list[int] = []  # the pid that forked, at every fork of this test process
os.register_at_fork(before=lambda: FORKS.append(os.getpid()))


@TWO_CORES
def test_an_edited_description_is_read_without_forking(tmp_path: Path) -> None:
    files = {}
    for n in range(2 * parallel.MIN_ITEMS):
        relpath = f"kvm/sl7.{n % 10}_x86_64_sl20a_8GB_e{n:04d}.img"
        files.update(image_entries(relpath, f"image {n}\n", f"# Image {n}\n"))
    repo = write_tree(tmp_path / "repo", files, mtime_ns=FIXED_NS)
    config = Config(repository=repo, output=tmp_path / "site", state=tmp_path / "state")
    FORKS.clear()
    build(config, Clock())
    assert FORKS, "a full build reads on every core"
    (repo / "kvm/sl7.3_x86_64_sl20a_8GB_e0003.txt").write_text("# Edited\n")
    FORKS.clear()
    build(config, Clock())
    assert not FORKS
    images = {i["id"]: i for i in read_catalog(tmp_path / "site")["images"]}
    assert images["kvm/sl7.3_x86_64_sl20a_8GB_e0003"]["description"] == "# Edited"


COUNT_HELD = 1000  # images, with 3 KB descriptions: about eight times the reads waiting at most


def long_descriptions(tmp_path: Path) -> ScanResult:
    """`COUNT_HELD` images with 3 KB descriptions, scanned."""
    files = {}
    for n in range(COUNT_HELD):
        text = f"# Image {n}\n\n" + f"word{n} " * 500
        files.update(image_entries(f"kvm/sl7.{n % 10}_x86_64_sl20a_8GB_h{n:04d}.img", "x", text))
    return scan(write_tree(tmp_path / "repo", files, mtime_ns=FIXED_NS))


def described(scanned: ScanResult, rules: ParseRules) -> Callable[[], list[str]]:
    """Parsing every image as `parsed_in_order` hands them on, letting each go: the digests of
    their HTML (the HTML itself, kept, would be most of what is measured)."""

    def digests() -> list[str]:
        parsed = parsed_in_order(scanned.root, scanned.images, rules)
        return [hashlib.sha256(p.description.html.encode()).hexdigest() for p in parsed]

    return digests


@TWO_CORES
def test_reads_are_handed_on_as_they_come_not_held_together(tmp_path: Path) -> None:
    """A full build parses its images as it takes them (`parsed_in_order`): the reads waiting
    in this process are a few chunks, whatever the count. Taking each image and letting it go
    raises this process's memory by a small part of what holding them all does (as batches of
    2,000 did, each a fork of its own)."""
    scanned = long_descriptions(tmp_path)
    rules = parse_rules(Config(repository=scanned.root), BUILD)
    held = peak_of(lambda: parse_images(scanned.root, scanned.images, rules))[0]
    FORKS.clear()
    streamed = peak_of(described(scanned, rules))[0]
    assert len(FORKS) == 1  # one reader for the whole run
    assert streamed < held / 4, (streamed, held)


def test_kept_reads_are_decoded_as_handed_on_and_damaged_ones_read_again(tmp_path: Path) -> None:
    """Reads the state keeps (a build that judges every image again: a new digest setting)
    are decoded one at a time, as the images are taken, not all first; one whose row is
    damaged is read again, here, and the HTML is that of a fresh read."""
    scanned = long_descriptions(tmp_path)
    state = open_state(tmp_path / "state", lambda: 1.0)
    store = StateReadStore(state, time.time() + 60)  # the files are not new then: reads kept
    rules = replace(parse_rules(Config(repository=scanned.root), BUILD), store=store)
    fresh = described(scanned, rules)()  # read, and kept
    store.save(entry.id for entry in scanned.images)
    damaged = {scanned.images[n].id for n in (3, 500, COUNT_HELD - 1)}
    state.connection.executemany(
        "UPDATE stored_reads SET value = '[' WHERE image_id = ?", [(i,) for i in damaged]
    )
    state.connection.commit()
    held = peak_of(lambda: parse_images(scanned.root, scanned.images, rules))[0]
    streamed = peak_of(described(scanned, rules))[0]
    assert streamed < held / 4, (streamed, held)
    assert described(scanned, rules)() == fresh
    store.save(entry.id for entry in scanned.images)
    rows = state.connection.execute("SELECT image_id, value FROM stored_reads").fetchall()
    assert len(rows) == COUNT_HELD and all(value != "[" for _, value in rows)  # kept anew
    state.close()
