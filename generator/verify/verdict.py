"""Compare what the images hold with what their `.checksum` sidecars promise.

The digest source is a seam: a `Digester` either reuses a digest it can trust (the incremental
state cache, `generator.verify.cached`) or reads the bytes. Status rules live here, once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from generator.digests import CHECKED, Digest, hex_of
from generator.problems import Problem, problem
from generator.read.check_command import CheckCommand, check_command, create_command
from generator.read.checksum import ChecksumFile, member_key
from generator.read.scan import FileStat, ImageEntry
from generator.verify.hashing import FileDigest

VERIFIED = "verified"
MISMATCH = "mismatch"
MISSING_CHECKSUM = "missing_checksum"
INVALID_CHECKSUM = "invalid_checksum"
UNREADABLE = "unreadable"
CHANGING = "changing"
UNVERIFIED = "unverified"
PENDING = "pending"  # not read yet: --hash-budget left it for a later run
# Worst first: an image's status is the worst of its members'.
STATUSES = (
    UNREADABLE,
    CHANGING,
    INVALID_CHECKSUM,
    MISMATCH,
    MISSING_CHECKSUM,
    PENDING,
    UNVERIFIED,
    VERIFIED,
)
INTEGRITY_FAILURES = frozenset({MISMATCH, UNREADABLE, INVALID_CHECKSUM})


class Digester(Protocol):
    """Where digests come from: plain hashing here, the state cache for incremental runs.

    `reuse` answers from memory (None: the bytes must be read); `digest` reads them, on a worker
    thread (with a helper thread for the copy when `spare_core`); `cancel` asks files being read
    to stop so an interrupted run ends at once.
    """

    def reuse(self, member: FileStat) -> FileDigest | None: ...

    def digest(self, root: Path, member: FileStat, spare_core: bool = False) -> FileDigest: ...

    def cancel(self) -> None: ...


@dataclass(frozen=True)
class MemberResult:
    """One member file of an image after comparison.

    `digests` are every algorithm computed from one read of the file (empty when not read or
    not trusted), `expected` the `.checksum` digest compared with them; the hex properties
    name them as catalog.json does.
    """

    name: str
    size: int
    status: str
    digests: tuple[Digest, ...] = ()
    expected: Digest | None = None

    @property
    def md5(self) -> str | None:
        return hex_of(self.digests, CHECKED)

    @property
    def expected_md5(self) -> str | None:
        return self.expected.hex if self.expected else None

    @property
    def sha256(self) -> str | None:
        return hex_of(self.digests, "sha256")

    @property
    def sha512(self) -> str | None:
        return hex_of(self.digests, "sha512")

    def to_json(self) -> dict[str, object]:
        """catalog.json's member record: MD5 always, other digests when computed."""
        data: dict[str, object] = {
            "name": self.name,
            "size": self.size,
            "md5": self.md5,
            "expected_md5": self.expected_md5,
            "status": self.status,
        }
        data.update(extra_digests(self.digests))
        return data


def extra_digests(digests: Iterable[Digest]) -> dict[str, str]:
    """catalog.json keys of the digests beside MD5 (`sha256`, `sha512`), those computed only."""
    return {d.algorithm: d.hex for d in digests if d.algorithm != CHECKED}


@dataclass
class Verification:
    """An image's verdict: status, digests and the problems behind it.

    `digests` (computed) and `expected` (from the `.checksum`) are a single-file image's;
    a multi-file image has them per member.
    """

    status: str
    digests: tuple[Digest, ...] = ()
    expected: Digest | None = None
    verified_at: float | None = None
    members: list[MemberResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    check: CheckCommand | None = None  # "check your copy", from the .checksum's lines
    create: str = ""  # the command that writes a missing .checksum, run in the VM directory


def digest_all(
    root: Path,
    members: Iterable[FileStat],
    digester: Digester,
    jobs: int,
    on_done: Callable[[FileDigest], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    budget: int | None = None,
) -> dict[str, FileDigest]:
    """Reuse what can be trusted, then read the rest on `jobs` threads, largest first.

    Largest first so the run ends evenly. `on_start` learns how many bytes will be read;
    `on_done` gets each result as its file finishes, not in submission order. A `budget` (bytes)
    leaves the files that do not fit `deferred` for a later run.
    """
    results: dict[str, FileDigest] = {}
    pending = []
    for member in members:
        reused = digester.reuse(member)
        if reused is None:
            pending.append(member)
            continue
        results[member.relpath] = reused
        if on_done:
            on_done(reused)
    pending.sort(key=lambda m: (-m.size, m.relpath))
    if budget is not None:
        pending, deferred = within_budget(pending, budget)
        for member in deferred:
            results[member.relpath] = FileDigest(member.relpath, deferred=True)
            if on_done:
                on_done(results[member.relpath])
    if pending and on_start:
        on_start(sum(m.size for m in pending))
    if pending:
        results.update(_read_all(root, pending, digester, jobs, on_done))
    return results


def within_budget(members: list[FileStat], budget: int) -> tuple[list[FileStat], list[FileStat]]:
    """Split files to read (largest first) into those that fit `budget` and those left over.

    A file larger than what is left is skipped for smaller ones. The first file is read even
    when it alone exceeds the budget, so every run makes progress: digests are stored as they
    are computed and the next run starts with what is still unread.
    """
    chosen, deferred, left = [], [], budget
    for member in members:
        if member.size <= left or not chosen:
            chosen.append(member)
            left -= member.size
        else:
            deferred.append(member)
    return chosen, deferred


def _read_all(
    root: Path,
    members: list[FileStat],
    digester: Digester,
    jobs: int,
    on_done: Callable[[FileDigest], None] | None,
) -> dict[str, FileDigest]:
    from concurrent.futures import ThreadPoolExecutor, as_completed  # a no-op run needs no pool

    results: dict[str, FileDigest] = {}
    workers = max(1, min(jobs, len(members)))
    spare_core = workers < (os.cpu_count() or 1)
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [pool.submit(digester.digest, root, m, spare_core) for m in members]
        for future in as_completed(futures):
            result = future.result()
            results[result.relpath] = result
            if on_done:
                on_done(result)
    except BaseException:
        digester.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return results


def evaluate(
    entry: ImageEntry, checksum: ChecksumFile | None, digests: dict[str, FileDigest] | None
) -> Verification:
    """Decide an image's status from its checksum sidecar and member digests (None: not hashed)."""
    if entry.unreadable:
        found = problem(
            UNREADABLE,
            entry.relpath,
            detail=f"image cannot be read: {entry.unreadable}",
            remedy="restore the image file or remove its sidecars",
        )
        return Verification(UNREADABLE, problems=[found])
    expected, problems = _expected(entry, checksum)
    members = [_member(entry, m, expected, digests, checksum) for m in entry.members]
    problems += _member_problems(entry, members, expected)
    status = min((m.status for m in members), key=STATUSES.index, default=UNREADABLE)
    if checksum and checksum.error:
        status = min(status, INVALID_CHECKSUM, key=STATUSES.index)
    if any(p.code == "member_missing" for p in problems):  # md5sum -c fails on it too
        status = min(status, MISMATCH, key=STATUSES.index)
    read_times = [
        d.read_at for m in entry.members if digests and (d := digests.get(m.relpath)) and d.read_at
    ]
    single = entry.members[0] if len(members) == 1 and not entry.is_dir else None
    computed = _computed(digests, single) if single else ()
    return Verification(
        status=status,
        digests=computed,
        expected=_wanted(expected.get(single.relpath), computed) if single else None,
        verified_at=min(read_times) if read_times and status in (VERIFIED, MISMATCH) else None,
        members=members,
        problems=problems,
        check=check_command(entry, checksum),
        create=create_command(entry),
    )


def _expected(
    entry: ImageEntry, checksum: ChecksumFile | None
) -> tuple[dict[str, tuple[Digest, ...]], list[Problem]]:
    """Member relpath -> expected digests (matched by `checksum.match_files`), with warnings."""
    if checksum is None or checksum.error:
        return {}, []
    expected = dict(checksum.expected)
    if entry.is_dir:
        for listed in checksum.extra:  # a line for a file the directory lacks: member_missing
            expected.setdefault(f"{entry.relpath}/{shown(member_key(listed, entry.name))}", ())
    return expected, sidecar_problems(entry, checksum)


def sidecar_problems(entry: ImageEntry, checksum: ChecksumFile) -> list[Problem]:
    """Warnings for a sidecar md5sum -c reads differently, or not at all, in a copy."""
    extra = checksum.extra and not entry.is_dir
    odd = checksum.renamed is not None or checksum.absolute or extra
    if not (odd or checksum.oddities or checksum.skipped):
        return []  # the usual sidecar: no command to word (a tenth of a 10,000-image run)
    path = entry.checksum.relpath if entry.checksum else entry.relpath
    command = create_command(entry)
    found = []
    if checksum.renamed is not None:
        named = shown(checksum.renamed)
        found.append(
            problem("checksum_name_mismatch", path, named=named, image=entry.name, command=command)
        )
    if checksum.absolute:
        named = shown(checksum.absolute[0])
        found.append(problem("checksum_absolute_path", path, named=named, command=command))
    if extra:
        names = ", ".join(f"'{shown(n)}'" for n in checksum.extra[:3])
        count = len(checksum.extra)
        found.append(
            problem("checksum_extra_entries", path, count=count, names=names, command=command)
        )
    found += _odd_problems(path, checksum, command)
    return found


def _odd_problems(path: str, checksum: ChecksumFile, command: str) -> list[Problem]:
    odd = list(checksum.oddities)
    if checksum.skipped:
        numbers = ", ".join(str(n) for n in checksum.skipped[:5])
        odd.append(f"has lines that are not checksum lines (line {numbers}), which md5sum -c skips")
    if not odd:
        return []
    oddities = "; ".join(odd)
    return [problem("checksum_unusual_form", path, oddities=oddities, command=command)]


def shown(name: str) -> str:
    """A listed name made printable: bytes that are not UTF-8 as \\xNN, controls escaped."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text


def _member(
    entry: ImageEntry,
    member: FileStat,
    expected: dict[str, tuple[Digest, ...]],
    digests: dict[str, FileDigest] | None,
    checksum: ChecksumFile | None,
) -> MemberResult:
    name = member.relpath.rsplit("/", 1)[-1]
    wants = expected.get(member.relpath)
    digest = digests.get(member.relpath) if digests is not None else None
    computed = _computed(digests, member)
    if digest and digest.error:
        status = UNREADABLE
    elif digest and digest.changing:
        status = CHANGING
    elif digest and digest.deferred and wants:
        status = PENDING
    elif checksum is None:
        status = MISSING_CHECKSUM
    elif checksum.error:
        status = INVALID_CHECKSUM
    elif not wants:
        status = MISSING_CHECKSUM
    elif digest is None:
        status = UNVERIFIED
    else:  # several digests for one file: md5sum -c fails on at least one
        status = VERIFIED if all(_matches(computed, want) for want in wants) else MISMATCH
    return MemberResult(name, member.size, status, computed, _wanted(wants, computed))


def _computed(digests: dict[str, FileDigest] | None, member: FileStat) -> tuple[Digest, ...]:
    digest = digests.get(member.relpath) if digests is not None else None
    return digest.digests if digest else ()


def _wanted(wants: tuple[Digest, ...] | None, computed: tuple[Digest, ...]) -> Digest | None:
    """The expected digest to show: the first one the file fails, else the first one."""
    return next((w for w in wants or () if not _matches(computed, w)), wants[0] if wants else None)


def _matches(computed: tuple[Digest, ...], want: Digest) -> bool:
    """The file's digest of the expected one's algorithm equals it (absent: no match)."""
    return hex_of(computed, want.algorithm) == want.hex


def _member_problems(
    entry: ImageEntry, members: list[MemberResult], expected: dict[str, tuple[Digest, ...]]
) -> list[Problem]:
    """One problem per member that is not fine, plus listed members that are absent."""
    problems = []
    base = entry.relpath
    for m in members:
        path = f"{base}/{m.name}" if entry.is_dir else base
        found = _status_problem(entry, path, m)
        if found:
            problems.append(found)
    present = {m.relpath for m in entry.members}
    for missing in sorted(set(expected) - present):
        problems.append(problem("member_missing", missing, command=create_command(entry)))
    return list(dict.fromkeys(problems))


def _status_problem(entry: ImageEntry, path: str, m: MemberResult) -> Problem | None:
    sidecar = entry.checksum.relpath if entry.checksum else f"{entry.vm}/{entry.stem}.checksum"
    if m.status == MISMATCH:
        command = create_command(entry)
        return problem(
            "checksum_mismatch", path, actual=m.md5, expected=m.expected_md5, command=command
        )
    if m.status == UNREADABLE:
        return problem(
            "unreadable",
            path,
            detail="image bytes cannot be read",
            remedy="check the file's permissions and the volume",
        )
    if m.status == CHANGING:
        return problem("changing", path)
    if m.status == MISSING_CHECKSUM and entry.checksum is None:
        return problem("missing_checksum", sidecar, command=create_command(entry))
    if m.status == MISSING_CHECKSUM:
        return problem("member_not_in_checksum", path, command=create_command(entry))
    return None
