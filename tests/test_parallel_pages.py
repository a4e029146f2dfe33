"""Image pages are rendered on every core while a build publishes them (`publish.made_pages`
over `generator.parallel`): the bytes of one core, nothing lost when a worker dies, interrupts
and terminations stop the workers, a few pages are rendered without a fork, and the results
of the pool come back a few chunks at a time."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import signal
import sqlite3
import subprocess
import time
import traceback
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest
from golden import site_files
from test_parallel_reads import TWO_CORES, copies_left, first_copy, gone

from generator import parallel
from generator.build import build
from generator.config import Config
from generator.site.image_memo import BATCH
from tests.conftest import CLI, FIXED_NS, ROOT, Clock, image_entries, read_catalog, write_tree

COUNT = 240  # images: their pages several times `parallel.MIN_ITEMS`


class Primed(NamedTuple):
    """A repository, a state that has read it and kept each image's site pieces, and the clock
    of every build from it: a minute after its files were written (their ctime is the real
    time), so that what is read from them is kept in the state (`read.stored_reads`)."""

    repository: Path
    state: Path
    now: int


def entries(count: int, tag: str = "p") -> dict[str, object]:
    """STAR-like images: each with a checksum and a few lines of Markdown."""
    files: dict[str, object] = {}
    for n in range(count):
        relpath = f"{('kvm', 'xen')[n % 2]}/sl7.{n % 10}_x86_64_sl20a_8GB_{tag}{n:04d}.img"
        text = f"# Image {n}\n\nBuilt for **grid** jobs with `sl20a`.\n\n- root 5.34.{n % 9}\n"
        files.update(image_entries(relpath, f"image {n}\n", text))
    return files


def build_command(repository: Path, state: Path, output: Path) -> list[str]:
    """A build publishing the site and its members-only copy (`<output>-members`)."""
    options = ["--state", str(state), "--output", str(output), "--quiet"]
    options += ["--private-output", f"{output}-members"]
    return [*CLI, "build", "--repository", str(repository), *options]


def both_copies(output: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The files of the published site and of its members-only copy."""
    return site_files(output.resolve()), site_files(Path(f"{output}-members").resolve())


def start(primed: Primed, state: Path, output: Path, *prefix: str) -> subprocess.Popen[str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(primed.now)}
    command = [*prefix, *build_command(primed.repository, state, output)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)


def renderer_of(child: subprocess.Popen[str], deadline: float = 60) -> int:
    """The pid of the first copy of itself the build forks: a page renderer, from the primed
    state (the build forks no other)."""
    return first_copy(child, "render pages", deadline)


@pytest.fixture(scope="module")
def primed(tmp_path_factory: pytest.TempPathFactory) -> Primed:
    """A build into a new output from this state reads nothing and computes no pieces, so every
    process it forks renders pages (see `test_a_primed_build_forks_to_render_pages_only`)."""
    work = tmp_path_factory.mktemp("pages")
    repository = write_tree(work / "repo", entries(COUNT), mtime_ns=FIXED_NS)
    made = Primed(repository, work / "state", int(time.time()) + 60)
    child = start(made, made.state, work / "first", "taskset", "-c", "0")
    _, stderr = child.communicate(timeout=300)
    assert child.returncode == 0, stderr
    return made


def state_copy(primed: Primed, work: Path) -> Path:
    """The primed state, copied: each build records into its own."""
    shutil.copytree(primed.state, work / "state")
    return work / "state"


@pytest.fixture(scope="module")
def one_core_site(primed: Primed, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """The sites a build confined to one core publishes from the primed state."""
    work = tmp_path_factory.mktemp("one-core-pages")
    child = start(primed, state_copy(primed, work), work / "site", "taskset", "-c", "0")
    _, stderr = child.communicate(timeout=300)
    assert child.returncode == 0, stderr
    return both_copies(work / "site")


@TWO_CORES
def test_pages_rendered_on_two_cores_are_the_bytes_of_one_core(
    primed: Primed, one_core_site: tuple, tmp_path: Path
) -> None:
    child = start(primed, state_copy(primed, tmp_path), tmp_path / "site")
    renderer_of(child)  # a page renderer: the build forks no other
    _, stderr = child.communicate(timeout=300)
    assert child.returncode == 0, stderr
    site, members = both_copies(tmp_path / "site")
    assert len([p for p in site if p.startswith("images/") and p.endswith(".html")]) == COUNT
    assert b'name="robots" content="noindex' in members["index.html"]
    assert (site, members) == one_core_site


@TWO_CORES
def test_the_pages_of_a_killed_render_worker_are_rendered_by_the_build(
    primed: Primed, one_core_site: tuple, tmp_path: Path
) -> None:
    child = start(primed, state_copy(primed, tmp_path), tmp_path / "site")
    os.kill(renderer_of(child), signal.SIGKILL)  # as the out-of-memory killer would
    _, stderr = child.communicate(timeout=300)
    assert child.returncode == 0, stderr
    assert both_copies(tmp_path / "site") == one_core_site


@TWO_CORES
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_or_terminated_build_leaves_no_render_worker(
    primed: Primed, tmp_path: Path, signum: int
) -> None:
    """Ctrl-C: the build stops its workers itself (exit 130). SIGTERM ends the build at once,
    with no cleanup of its own: its workers die with it.

    The worker is held (SIGSTOP) until the build has ended: the build waits for the pages it
    handed out, so the signal always lands mid-render (without the hold, one run in eight or
    so had already published)."""
    state = state_copy(primed, tmp_path)
    child = start(primed, state, tmp_path / "site")
    worker = renderer_of(child)
    os.kill(worker, signal.SIGSTOP)
    child.send_signal(signum)  # the build alone, not its process group
    child.wait(timeout=60)
    with contextlib.suppress(ProcessLookupError):  # let it run: it must notice it is alone
        os.kill(worker, signal.SIGCONT)
    _, stderr = child.communicate(timeout=60)
    assert not (tmp_path / "site").exists()  # nothing was published
    if signum == signal.SIGINT:
        assert (child.returncode, "interrupted" in stderr) == (130, True)
        assert gone(worker, deadline=0)
        assert copies_left(build_command(primed.repository, state, tmp_path / "site")) == []
    else:
        assert child.returncode == -signal.SIGTERM
        assert gone(worker)


FORKS: list[str] = []  # at every fork of this test process: the stack forking (file:function)
os.register_at_fork(
    before=lambda: FORKS.append(
        " ".join(f"{f.filename}:{f.name}" for f in traceback.extract_stack())
    )
)


def forked_by(name: str) -> list[str]:
    return [stack for stack in FORKS if name in stack]


@TWO_CORES
def test_a_primed_build_forks_to_render_pages_only(primed: Primed, tmp_path: Path) -> None:
    """What the tests above rely on: from the primed state, every fork renders pages."""
    state, site = state_copy(primed, tmp_path), tmp_path / "site"
    config = Config(primed.repository, site, state=state, private_output=Path(f"{site}-members"))
    FORKS.clear()
    build(config, Clock(primed.now))
    assert forked_by("made_pages.py") == FORKS
    assert forked_by("deploy_private") and len(forked_by("deploy_private")) < len(FORKS)


@TWO_CORES
def test_an_edit_or_an_added_image_renders_its_pages_without_forking(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", entries(2 * parallel.MIN_ITEMS), mtime_ns=FIXED_NS)
    config = Config(repository=repo, output=tmp_path / "site", state=tmp_path / "state")
    FORKS.clear()
    build(config, Clock())
    assert forked_by("made_pages.py") and forked_by("image_memo.py"), "a full build"
    (repo / "kvm/sl7.2_x86_64_sl20a_8GB_p0002.txt").write_text("# Edited\n")
    FORKS.clear()
    build(config, Clock())
    assert not FORKS
    write_tree(repo, entries(1, tag="added"))
    build(config, Clock())
    assert not FORKS
    site = tmp_path / "site"
    images = {i["id"]: i for i in read_catalog(site)["images"]}
    assert images["kvm/sl7.2_x86_64_sl20a_8GB_p0002"]["description"] == "# Edited"
    added = site / "images/kvm/sl7.0_x86_64_sl20a_8GB_added0000/index.html"
    assert b"Built for <strong>grid</strong> jobs" in added.read_bytes()


@TWO_CORES
def test_a_full_build_reads_and_makes_site_pieces_in_one_fork_each(tmp_path: Path) -> None:
    """More images than a batch (`image_memo.BATCH`): the reads and the site pieces are each
    made by one worker for the whole run, not a fork per batch, and all are kept."""
    count = BATCH + 100
    repo = write_tree(tmp_path / "repo", entries(count), mtime_ns=FIXED_NS)
    config = Config(repository=repo, output=tmp_path / "site", state=tmp_path / "state")
    FORKS.clear()
    build(config, Clock())
    assert len(forked_by("parse.py")) == 1 and len(forked_by("image_memo.py")) == 1
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
        for table in ("stored_reads", "image_pieces", "image_records"):
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (count,), table
    assert len(read_catalog(tmp_path / "site")["images"]) == count


def marked(folder: Path) -> Callable[[int], int]:
    """A piece of work that leaves a file for each item it works, wherever it runs."""

    def work(item: int) -> int:
        (folder / str(item)).touch()
        time.sleep(0.0005)
        return item * 3

    return work


@TWO_CORES
def test_chunks_come_back_in_order_while_workers_stay_a_few_chunks_ahead(tmp_path: Path) -> None:
    count = 100 * parallel.CHUNK
    ahead = parallel.AHEAD * 2 * parallel.CHUNK  # the most worked before it is taken
    chunks = parallel.shared_chunks(marked(tmp_path), range(count), 2)
    taken: list[int] = []
    for chunk in chunks:
        time.sleep(0.005)  # a slow writer: the workers would run far ahead if let
        worked = len(os.listdir(tmp_path))
        assert worked <= len(taken) + len(chunk) + ahead
        taken += chunk
    assert taken == [3 * n for n in range(count)]
    assert len(os.listdir(tmp_path)) == count


def page_of(item: int) -> bytes:
    """8 KB standing for a rendered page."""
    return item.to_bytes(4, "big") * 2048


@TWO_CORES
def test_this_process_holds_a_window_of_results_whatever_the_count() -> None:
    """Results waiting here to be taken are at most the chunks handed out ahead (the window)
    and the one being read and unpickled: reading a worker's pipe whole, then joining the
    pieces, held what it had sent three times over (17 chunks at the peak, against 9)."""
    window = parallel.AHEAD * 2
    chunk_bytes = parallel.CHUNK * len(page_of(0))
    count = 100 * parallel.CHUNK
    parallel.shared_map(page_of, range(count), 2)  # first: the stacks `FORKS` keeps (above)
    gc.collect()
    tracemalloc.start()
    try:
        for chunk in parallel.shared_chunks(page_of, range(count), 2):
            assert len(chunk) == parallel.CHUNK
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < (window + 4) * chunk_bytes, f"{peak / chunk_bytes:.1f} chunks held at once"


@TWO_CORES
def test_letting_go_of_the_chunks_stops_the_workers(tmp_path: Path) -> None:
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    before = set(children.read_text().split())  # (a browser other tests started, say)
    chunks = parallel.shared_chunks(marked(tmp_path), range(100 * parallel.CHUNK), 2)
    assert next(chunks) == [3 * n for n in range(parallel.CHUNK)]
    workers = [int(pid) for pid in set(children.read_text().split()) - before]
    assert workers
    chunks.close()
    assert all(gone(pid, deadline=0) for pid in workers)
    assert len(os.listdir(tmp_path)) < 100 * parallel.CHUNK
