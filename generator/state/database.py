"""What one run leaves for the next: digests, fingerprints and image history, in SQLite.

One database (`state.sqlite`) per repository, in the state directory, never in the site. WAL
mode, and every digest is committed as soon as it is known, so `kill -9` loses only the files
being read. The database is a cache: when it cannot be read it is moved aside and rebuilt, which
costs a full re-read, never a wrong verdict and never a crash.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.digests import Digest
from generator.problems import Problem, problem

if TYPE_CHECKING:
    from generator.verify.hashing import FileDigest

STATE_FILE = "state.sqlite"

# MIGRATIONS[n] takes a database from schema version n to n + 1 (`PRAGMA user_version`).
# Add a migration for every change; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE files (
        relpath   TEXT PRIMARY KEY,   -- member file, relative to the repository root
        size      INTEGER NOT NULL,   -- the fingerprint: size, st_mtime_ns, st_ctime_ns, inode
        mtime_ns  INTEGER NOT NULL,
        ctime_ns  INTEGER NOT NULL,
        inode     INTEGER NOT NULL,
        md5       TEXT NOT NULL,      -- MD5 of the bytes read
        hashed_at REAL NOT NULL,      -- when the fingerprint was taken, after the read (racy rule)
        read_at   REAL NOT NULL       -- when the read started: the image's verified_at
    ) WITHOUT ROWID;
    CREATE TABLE images (
        id           TEXT PRIMARY KEY,  -- <vm>/<stem>, the permalink
        first_seen   REAL NOT NULL,
        last_seen    REAL NOT NULL,
        -- kept for the image history (issue: cron runs); NULL until that code fills them
        last_changed REAL,              -- when md5 last took a new value
        removed_at   REAL,              -- tombstone: when the image was found gone
        md5          TEXT,              -- content digest (members: MD5 of their md5sum listing)
        expected_md5 TEXT,              -- what the .checksum said
        description_sha256 TEXT         -- to notice edited descriptions
    ) WITHOUT ROWID;
    """,
    """
    CREATE TABLE snapshots (
        command TEXT PRIMARY KEY,   -- the command whose report this is ('verify')
        key     TEXT NOT NULL,      -- the tree's stat digest + settings + program
        made_at REAL NOT NULL,
        report  TEXT NOT NULL       -- JSON: the figures and problems it reported
    ) WITHOUT ROWID;
    """,
    """
    ALTER TABLE images ADD COLUMN record TEXT;  -- catalog.json entry as last published (tombstones)
    CREATE TABLE events (
        image_id TEXT NOT NULL,
        kind     TEXT NOT NULL,     -- added, changed, removed
        at       REAL NOT NULL,
        title    TEXT NOT NULL,
        PRIMARY KEY (image_id, kind, at)
    ) WITHOUT ROWID;
    CREATE INDEX events_by_time ON events (at);
    """,
    """
    CREATE TABLE file_digests (
        relpath   TEXT NOT NULL,      -- a row of `files`: all digests of one read of the file
        algorithm TEXT NOT NULL,      -- hashlib name: md5, sha256, ...
        hex       TEXT NOT NULL,
        PRIMARY KEY (relpath, algorithm)
    ) WITHOUT ROWID;
    INSERT INTO file_digests SELECT relpath, 'md5', md5 FROM files;
    CREATE TABLE files_keyed (
        relpath   TEXT PRIMARY KEY,   -- as before, without the md5 column
        size      INTEGER NOT NULL,
        mtime_ns  INTEGER NOT NULL,
        ctime_ns  INTEGER NOT NULL,
        inode     INTEGER NOT NULL,
        hashed_at REAL NOT NULL,
        read_at   REAL NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO files_keyed SELECT relpath, size, mtime_ns, ctime_ns, inode, hashed_at, read_at
        FROM files;
    DROP TABLE files;
    ALTER TABLE files_keyed RENAME TO files;
    """,
    """
    CREATE TABLE versions (          -- image lifecycle: each content an image had (queries: versions.py)
        image_id   TEXT NOT NULL,
        at         REAL NOT NULL,
        event      TEXT NOT NULL,    -- added, changed, renamed
        md5        TEXT NOT NULL,    -- content key: MD5 (directories: MD5 of the member MD5s)
        sha256     TEXT,
        size_bytes INTEGER,
        moved_from TEXT,             -- renamed: the image id it had before
        PRIMARY KEY (image_id, at, event)
    ) WITHOUT ROWID;
    CREATE TABLE moves (
        old_id TEXT PRIMARY KEY,     -- a tombstone whose content reappeared under another name
        new_id TEXT NOT NULL,
        at     REAL NOT NULL
    ) WITHOUT ROWID;
    """,
    """
    CREATE TABLE stored_reads (
        image_id TEXT PRIMARY KEY,  -- <vm>/<stem>
        key      TEXT NOT NULL,     -- fingerprints of its files + program + settings (stored_reads)
        value    TEXT NOT NULL      -- JSON: header facts, .checksum text, redacted description
    ) WITHOUT ROWID;
    """,
    """
    CREATE TABLE image_pieces (     -- what the site makes of one image (queries: image_pieces.py)
        key   TEXT PRIMARY KEY,     -- digest of the program and the image (site.image_memo)
        value BLOB NOT NULL         -- its inventory row, catalog.json line and search words
    );                              -- a rowid table: values of 2 kB stay in one page
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
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
        self.problems: list[Problem] = []
        self.connection = _memory_connection()
        self._files: dict[str, CachedFile] | None = None
        self._lock = threading.Lock()
        self._broken = False
        self._reports_voided = False

    def open(self) -> State:
        try:
            self.connection = _connect(self.path)
        except NewerSchema as exc:
            self._set_aside(str(exc), NEWER_HINT)
        except sqlite3.Error as exc:
            self._recover(exc)
        return self

    @property
    def files(self) -> dict[str, CachedFile]:
        """Every file row, read at once: one query beats one per file by far."""
        if self._files is None:
            rows = self._read(lambda: self.connection.execute(FILES_QUERY).fetchall()) or []
            self._files = {r[0]: (r[1], r[2], r[3], r[4], _digests(r[7]), r[5], r[6]) for r in rows}
        return self._files

    def record(self, digest: FileDigest) -> None:
        """Store a fresh digest at once (committed); forget a file that changed while read.

        Any new digest (a scrub may find bit rot under an unchanged stat) voids stored reports.
        """
        if not self._reports_voided:
            self._reports_voided = True
            # (not the record of problems logged, `log:<command>`: a digest does not void it)
            self._write("DELETE FROM snapshots WHERE command NOT LIKE 'log:%'", ())
        relpath = digest.relpath
        forget = [("DELETE FROM file_digests WHERE relpath = ?", (relpath,))]
        if digest.digests and digest.fingerprint and digest.hashed_at is not None:
            row = (relpath, *digest.fingerprint, digest.hashed_at, digest.read_at)
            self._write_all(
                [
                    ("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)", row),
                    *forget,  # the digests of this read replace all earlier ones
                    *(
                        ("INSERT INTO file_digests VALUES (?, ?, ?)", (relpath, *d))
                        for d in digest.digests
                    ),
                ]
            )
        elif digest.changing:
            self._write_all([("DELETE FROM files WHERE relpath = ?", (relpath,)), *forget])

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
        if getattr(exc, "sqlite_errorname", "SQLITE_ERROR") not in REBUILD_ON:
            self._set_aside(f"cannot open: {exc}", BUSY_HINT)
            return
        try:
            moved = _move_aside(self.path, self.clock)
            self.connection = _connect(self.path)
        except (OSError, sqlite3.Error, NewerSchema) as again:
            self._set_aside(f"cannot rebuild: {again}", BUSY_HINT)
            return
        self.problems.append(_problem(self.path, "state_rebuilt", error=exc, moved=moved.name))

    def _set_aside(self, detail: str, remedy: str) -> None:
        """Work without the real database for this run (it is left untouched)."""
        self.connection = _memory_connection()
        self.problems.append(_problem(self.path, "state_not_used", detail=detail, remedy=remedy))

    def _write(self, sql: str, parameters: tuple) -> None:
        """One statement, one transaction; a failing database stops being written, not the run."""
        self._write_all([(sql, parameters)])

    def _write_all(self, statements: list[tuple[str, tuple]]) -> None:
        """Statements in one transaction (one alone needs none: autocommit is one)."""
        with self._lock:
            if self._broken:
                return
            try:
                if len(statements) == 1:
                    self.connection.execute(*statements[0])
                else:
                    _transaction(self.connection, statements)
            except sqlite3.Error as exc:
                self._broken = True
                remedy = (
                    "check free space and the state directory; the next run reads again what "
                    "this one could not record"
                )
                self.problems.append(
                    _problem(self.path, "state_not_saved", action="write", error=exc, remedy=remedy)
                )


def _transaction(connection: sqlite3.Connection, statements: list[tuple[str, tuple]]) -> None:
    """All or nothing: a file row never stays without its digests, nor digests without it."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        for sql, parameters in statements:
            connection.execute(sql, parameters)
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


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
    """Bring the schema up to SCHEMA_VERSION, one migration per transaction."""
    version = _refuse_newer(connection)
    for number in range(version, SCHEMA_VERSION):
        connection.executescript(
            f"BEGIN; {MIGRATIONS[number]}; PRAGMA user_version = {number + 1}; COMMIT;"
        )


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
