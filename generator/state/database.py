"""What one run leaves for the next: digests, fingerprints and image history, in SQLite.

One database (`state.sqlite`) per repository, in the state directory, never in the site. WAL
mode, and digests are committed as they are known, a few files to a transaction
(`group_commit`), so `kill -9` loses only the files being read and the last half second's.
The database is a cache: when it cannot be read it is moved aside and rebuilt, which costs a
full re-read, never a wrong verdict and never a crash.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.digests import Digest
from generator.problems import Problem, problem
from generator.state.group_commit import Batch, GroupCommit
from generator.state.migrations import MIGRATIONS
from generator.state.transaction import transaction

if TYPE_CHECKING:
    from generator.verify.hashing import FileDigest

STATE_FILE = "state.sqlite"
SCHEMA_VERSION = len(MIGRATIONS)
COMPACTING = 10  # the schema whose migration copies `images` and `stored_reads` anew
LAST_SEEN_RESOLUTION = 3600.0  # seconds
# size, mtime_ns, ctime_ns, inode, digests, hashed_at, read_at: a plain tuple, read in bulk.
CachedFile = tuple[int, int, int, int, tuple[Digest, ...], float, float]
# Every file row with its digests as one `algorithm hex ...` string: one query, and a
# primary-key lookup per file in C (two queries joined in Python cost more).
FILES_QUERY = (
    "SELECT relpath, size, mtime_ns, ctime_ns, inode, hashed_at, read_at, "
    "(SELECT group_concat(algorithm || ' ' || hex, ' ') FROM file_digests d "
    "WHERE d.relpath = f.relpath) FROM files f"
)
FILES_AMONG = " WHERE f.relpath IN (SELECT value FROM json_each(?))"
FEW_FILES = 1000  # fewer file rows than this are looked up by path, not read with all the others
# Errors that mean the file is not a usable database; anything else (busy, full, I/O) may pass.
REBUILD_ON = {"SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_ERROR", "SQLITE_CANTOPEN"}
NEWER_HINT = "run the newer star-vm-catalog, or give this one its own --state directory"
BUSY_HINT = "check the state directory (space, permissions); until then every run reads everything"


class NewerSchema(Exception):
    """The database was written by a newer version; leave it alone."""


class State:
    """The state database of one repository.

    File rows are read in one query on first use (the report shortcut never needs them). Any
    database error while opening or reading is handled here, once: a broken file is moved aside
    and replaced, anything else (busy, full, a newer schema) leaves it alone and this run goes
    on with an empty in-memory state. Writes are serialized so hashing threads can record.
    """

    def __init__(self, path: Path, clock: Callable[[], float]) -> None:
        self.path = path
        self.clock = clock
        self._problems: list[Problem] = []
        self.connection = _memory_connection()
        self._files: dict[str, CachedFile] | None = None
        self._lock = threading.Lock()
        self._broken = False
        self._opened = False
        # The database was replaced (rebuilt, or set aside) after the run opened it: what the
        # run recorded before is not in the one it now writes (see `catalog.kept`).
        self.replaced = False
        self._reports_voided = False
        self.pending = GroupCommit(self._write_batches)

    def open(self) -> State:
        try:
            self.connection = _connect(self.path)
        except NewerSchema as exc:
            self._set_aside(str(exc), NEWER_HINT)
        except sqlite3.Error as exc:
            self._recover(exc)
        self._opened = True
        return self

    @property
    def problems(self) -> list[Problem]:
        """What went wrong with the state, saving the digests still queued included."""
        self.flush()
        return self._problems

    @property
    def files(self) -> dict[str, CachedFile]:
        """Every file row, read at once: one query beats one per file by far."""
        if self._files is None:
            self.flush()
            rows = self._read(lambda: self.connection.execute(FILES_QUERY).fetchall()) or []
            self._files = _cached_files(rows)
        return self._files

    def file_rows(self, relpaths: list[str]) -> dict[str, CachedFile]:
        """The rows of these files (some may have none): looked up by path when they are few
        (the files of an edit build's few images), else every row at once (`files`)."""
        if self._files is not None or len(relpaths) > FEW_FILES:
            return self.files
        self.flush()
        query = (FILES_QUERY + FILES_AMONG, (_json_list(relpaths),))
        return _cached_files(self._read(lambda: self.connection.execute(*query).fetchall()) or [])

    def forget_files(self) -> None:
        """Let the file rows go once hashing is over: a build holds them no longer (at 100,000
        images about 110 MB); `files` reads them again if asked."""
        self._files = None

    def record(self, digest: FileDigest) -> None:
        """Store a fresh digest (committed within `group_commit.INTERVAL`); forget a file that
        changed while read. Any new digest (a scrub may find bit rot under an unchanged stat)
        voids stored reports.
        """
        if not self._reports_voided:
            self._reports_voided = True
            # (not the record of problems logged, `log:<command>`, the live site's facts,
            # `published`, nor the last build's problems, kept by their digest: none is voided)
            self._write(
                "DELETE FROM snapshots WHERE command NOT LIKE 'log:%' "
                "AND command NOT IN ('published', 'build:problems')",
                (),
            )
        self.pending.add(digest)

    def flush(self) -> None:
        """Commit the digests recorded so far (before their rows are read, or problems told)."""
        self.pending.flush()

    def see_images(self, ids: Iterable[str], now: float) -> None:
        """Note that these images exist now: first_seen once, last_seen to the hour.

        Refreshing last_seen at most hourly means a run that finds nothing new writes nothing:
        rewriting every row each run costs 0.2 s at 100,000 images.
        """
        self._write(
            "INSERT INTO images (id, first_seen, last_seen) "
            "SELECT value, ?1, ?1 FROM json_each(?2) WHERE true "
            "ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen "
            "WHERE images.last_seen <= excluded.last_seen - ?3",
            (now, _json_list(ids), LAST_SEEN_RESOLUTION),
        )

    def forget_kept(self, ids: list[str]) -> None:
        """Drop the kept records of these images (`catalog.kept`), committed before any of
        their files is read again."""
        if ids:
            self._write(
                "DELETE FROM kept_images WHERE image_id IN (SELECT value FROM json_each(?))",
                (_json_list(ids),),
            )

    def touch_images(self, now: float) -> None:
        """Every image of an unchanged tree was seen again: move last_seen (to the hour)."""
        self._write(
            "UPDATE images SET last_seen = ?1 WHERE last_seen <= ?1 - ?2 AND removed_at IS NULL",
            (now, LAST_SEEN_RESOLUTION),
        )

    def live_image_ids(self) -> frozenset[str]:
        """Images the history knows as present (published at least once and not removed)."""
        sql = "SELECT id FROM images WHERE record IS NOT NULL AND removed_at IS NULL"
        rows = self._read(lambda: self.connection.execute(sql).fetchall()) or []
        return frozenset(row[0] for row in rows)

    def oldest_read(self) -> float | None:
        """When the least recently read file was read (for the rehash policy)."""
        sql = "SELECT min(read_at) FROM files"
        self.flush()
        return self._read(lambda: self.connection.execute(sql).fetchone()[0])

    def snapshot(self, command: str, key: str) -> str | None:
        """The stored report of `command` for exactly this key, if any."""
        sql = "SELECT report FROM snapshots WHERE command = ? AND key = ?"
        row = self._read(lambda: self.connection.execute(sql, (command, key)).fetchone())
        return row[0] if row else None

    def save_snapshot(self, command: str, key: str, report: str, now: float) -> None:
        self._write(
            "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?)", (command, key, now, report)
        )

    def close(self) -> None:
        self.pending.close()
        self.connection.close()

    def _read(self, query: Callable[[], Any]) -> Any:
        """Run a query; a failing database is recovered and the answer is 'nothing stored'."""
        try:
            return query()
        except sqlite3.Error as exc:
            self._recover(exc)
            return None

    def _recover(self, exc: sqlite3.Error) -> None:
        """Move a broken database aside and start a new one; leave any other kind alone."""
        self.connection.close()
        self.replaced = self._opened
        if getattr(exc, "sqlite_errorname", "SQLITE_ERROR") not in REBUILD_ON:
            self._set_aside(f"cannot open: {exc}", BUSY_HINT)
            return
        try:
            moved = _move_aside(self.path, self.clock)
            self.connection = _connect(self.path)
        except (OSError, sqlite3.Error, NewerSchema) as again:
            self._set_aside(f"cannot rebuild: {again}", BUSY_HINT)
            return
        self._problems.append(_problem(self.path, "state_rebuilt", error=exc, moved=moved.name))

    def _set_aside(self, detail: str, remedy: str) -> None:
        """Work without the real database for this run (it is left untouched)."""
        self.connection = _memory_connection()
        self._problems.append(_problem(self.path, "state_not_used", detail=detail, remedy=remedy))

    def _write(self, sql: str, parameters: tuple) -> None:
        """One statement, one transaction; a failing database stops being written, not the run."""
        self._write_all([(sql, parameters)])

    def _write_all(self, statements: list[tuple[str, tuple]]) -> None:
        """Statements in one transaction, runs of the same one as one `executemany`."""
        batches: Batch = []
        for sql, parameters in statements:
            if batches and batches[-1][0] == sql:
                batches[-1][1].append(parameters)
            else:
                batches.append((sql, [parameters]))
        self._write_batches(batches)

    def _write_batches(self, batches: Batch) -> None:
        """One transaction (one statement alone needs none: autocommit is one); a failing
        database stops being written, not the run."""
        with self._lock:
            if self._broken:
                return
            try:
                if len(batches) == 1 and len(batches[0][1]) == 1:
                    self.connection.execute(batches[0][0], batches[0][1][0])
                else:
                    _transaction(self.connection, batches)
            except sqlite3.Error as exc:
                self._broken = True
                remedy = (
                    "check free space and the state directory; the next run reads again what "
                    "this one could not record"
                )
                self._problems.append(
                    _problem(self.path, "state_not_saved", action="write", error=exc, remedy=remedy)
                )


def _transaction(connection: sqlite3.Connection, batches: Batch) -> None:
    """All or nothing: a file row never stays without its digests, nor digests without it."""
    with transaction(connection):
        for sql, rows in batches:
            connection.executemany(sql, rows)


def _cached_files(rows: list[tuple]) -> dict[str, CachedFile]:
    """`FILES_QUERY` rows by path, as `CachedFile` tuples."""
    return {r[0]: (r[1], r[2], r[3], r[4], _digests(r[7]), r[5], r[6]) for r in rows}


def _digests(text: str | None) -> tuple[Digest, ...]:
    """`md5 <hex> sha256 <hex>` (the bulk query's form) as Digest values.

    Called once per file row, so the usual single digest skips the NamedTuple's Python-level
    `__new__`: `State.files` on 100,000 rows took 0.73 s this way against 1.7 s with the
    generic path (0.35 s with the old md5 column; a loaded 2-core machine).
    """
    if not text:
        return ()
    words = text.split(" ")
    if len(words) == 2:
        return (tuple.__new__(Digest, words),)
    return tuple(map(Digest, words[::2], words[1::2]))


def open_state(directory: Path, clock: Callable[[], float]) -> State:
    """Open (creating or migrating) the state in `directory`; never raises for a bad database."""
    return State(directory / STATE_FILE, clock).open()


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        connection.execute("PRAGMA busy_timeout = 5000")
        _refuse_newer(connection)  # before anything is written, WAL mode included
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")  # WAL: durable against kill -9
        migrate(connection)
        return connection
    except BaseException:
        connection.close()
        raise


def _memory_connection() -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    migrate(connection)
    return connection


def migrate(connection: sqlite3.Connection) -> None:
    """Bring the schema up to SCHEMA_VERSION, one migration per transaction.

    A state that went through the migration rebuilding its large tables (`COMPACTING`) is
    compacted once afterwards: the old tables' pages would otherwise stay in the file as free
    pages (46 MB of 122 MB at 10,000 images). Compacting needs as much free disk as the file
    takes; when it fails the state is used as it is.
    """
    version = _refuse_newer(connection)
    for number in range(version, SCHEMA_VERSION):
        connection.executescript(
            f"BEGIN; {MIGRATIONS[number]}; PRAGMA user_version = {number + 1}; COMMIT;"
        )
    if 0 < version < COMPACTING <= SCHEMA_VERSION:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("VACUUM")


def _refuse_newer(connection: sqlite3.Connection) -> int:
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise NewerSchema(
            f"state database has schema {version}, newer than this program's {SCHEMA_VERSION}"
        )
    return version


def _move_aside(path: Path, clock: Callable[[], float]) -> Path:
    """Rename the database (and its WAL files) to `state.sqlite.corrupt-<UTC time>`."""
    stamp = dt.datetime.fromtimestamp(clock(), dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    path.rename(target)
    return target


def _problem(path: Path, code: str, **details: object) -> Problem:
    """Named by file name only: problems reach the public site, the server's paths must not."""
    return problem(code, path.name, **details)


def _json_list(values: Iterable[str]) -> str:
    return json.dumps(list(values))
