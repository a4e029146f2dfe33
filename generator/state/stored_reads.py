"""The state's tables of values kept per image under a key: `stored_reads` (what an image's files
said, see `generator.read.stored_reads`) and `kept_images` (its whole record, `catalog.kept`).

Rows are looked up by key, one or a batch of images per query, rather than loaded at once: at
100,000 images the whole table is some 150 MB of text, most of it never needed again once the
catalog holds it. New rows are written a thousand to a transaction as the parse goes,
and rows of images no longer in the repository are dropped at its end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from generator.state.database import State, _json_list

# Same columns: image_id, key, value (`image_pieces` and `image_records` are read through this
# store, see `state.image_pieces`).
TABLES = frozenset({"stored_reads", "kept_images", "image_pieces", "image_records"})
# New rows written at once: a first build of 100,000 images would otherwise hold some 300 MB of
# them until the end of the parse.
WRITE_ROWS = 1000


class StateReadStore:
    """A `ReadStore` over one of the state's tables; new rows are written `WRITE_ROWS` at a time
    and by `save`."""

    def __init__(self, state: State, now: float, table: str = "stored_reads") -> None:
        assert table in TABLES
        self.state = state
        self.now = now
        self.get_sql = f"SELECT value FROM {table} WHERE image_id = ? AND key = ?"
        self.has_sql = f"SELECT 1 FROM {table} WHERE image_id = ? AND key = ?"
        self.get_many_sql = (
            f"SELECT image_id, key, value FROM {table} "
            "WHERE image_id IN (SELECT value FROM json_each(?))"
        )
        self.put_sql = f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?)"
        self.count_sql = f"SELECT count(*) FROM {table}"
        self.forget_sql = (
            f"DELETE FROM {table} WHERE image_id NOT IN (SELECT value FROM json_each(?))"
        )
        self.new: list[tuple[str, str, str | bytes]] = []
        self.written = 0
        self.hits = 0

    def get(self, image: str, key: str) -> str | bytes | None:
        row = self.state._read(
            lambda: self.state.connection.execute(self.get_sql, (image, key)).fetchone()
        )
        if row:
            self.hits += 1
        return row[0] if row else None

    def has(self, image: str, key: str) -> bool:
        """Whether a row is kept under `key` (not counted as a hit: `get` counts it when read)."""
        row = self.state._read(
            lambda: self.state.connection.execute(self.has_sql, (image, key)).fetchone()
        )
        return bool(row)

    def get_many(self, wanted: Sequence[tuple[str, str]]) -> dict[str, str | bytes]:
        """The values of these (image, key) pairs that are kept, by image: one query (a
        lookup per image costs more in calls than in SQLite)."""
        keys = dict(wanted)
        if not keys:
            return {}
        query = (self.get_many_sql, (_json_list(keys),))
        rows = self.state._read(lambda: self.state.connection.execute(*query).fetchall())
        found = {image: value for image, key, value in rows or () if keys[image] == key}
        self.hits += len(found)
        return found

    def put(self, image: str, key: str, value: str | bytes) -> None:
        self.new.append((image, key, value))
        if len(self.new) >= WRITE_ROWS:
            self._write_new()

    def _write_new(self) -> None:
        if self.new:
            self.state._write_all([(self.put_sql, row) for row in self.new])
            self.written += len(self.new)
            self.new = []

    def save(self, images: Iterable[str]) -> None:
        """Write the new rows, then forget images that are gone (`images`: all there are now).

        After the write, rows for images present number `hits + written`: any more are stale.
        """
        self._write_new()
        rows = self.state._read(lambda: self.state.connection.execute(self.count_sql).fetchone())
        if rows and rows[0] > self.hits + self.written:
            self.state._write(self.forget_sql, (_json_list(images),))
        self.written, self.hits = 0, 0
