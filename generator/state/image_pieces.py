"""The state's tables of site pieces and catalog.json lines (see `generator.site.image_memo`):
one row per image in each, under the key its pieces were made for.

Rows are read by image, a batch per query (a join in C, and only one batch of blobs held at a
time: at 100,000 images the table is some 300 MB), and count when their key is the one asked
for. New rows are written a batch to a transaction, replacing the image's row; then the rows of
images the build did not show are dropped.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Collection, Iterator, Mapping, Sequence

from generator.state.database import State, _json_list
from generator.state.stored_reads import StateReadStore

# The lines of a batch of images in the order of their ids: the IN list is walked in order and
# each id looked up in the table's key, so SQLite sorts nothing and holds no row for long.
LINES_BY_ID = (
    "SELECT image_id, key, value FROM image_records "
    "WHERE image_id IN (SELECT value FROM json_each(?)) ORDER BY image_id"
)
ROWS_AT_ONCE = 16  # lines read from the cursor at a time


def _fetch(rows: sqlite3.Cursor) -> list[tuple]:
    """The next rows of a cursor; none once its connection was replaced meanwhile (the state
    recovered from a failure), which is no reason to set the new database aside."""
    try:
        return rows.fetchmany(ROWS_AT_ONCE)
    except sqlite3.ProgrammingError:
        return []


class StatePieceStore:
    """A `PieceStore` over the state database. The table has the columns of the tables of kept
    reads and records, so it is read and written with their store's statements; only what is
    dropped differs: every image shown has its row (found, or just written), so any more rows
    than images shown are of images gone."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.rows = StateReadStore(state, 0.0, "image_pieces")
        self.line_rows = StateReadStore(state, 0.0, "image_records")

    def get(self, wanted: Mapping[str, str]) -> dict[str, bytes]:
        """The kept pieces of these images (`wanted`: image id -> key), by key, of those kept
        under that key; nothing when the state cannot be read."""
        found = self.rows.get_many(list(wanted.items()))
        return {wanted[image]: v for image, v in found.items() if isinstance(v, bytes)}

    def lines_by_id(self, wanted: Mapping[str, str]) -> Iterator[tuple[str, bytes]]:
        """The kept catalog.json lines of these images, as (image id, line), of those kept under
        the key `wanted` gives, in the order of the ids (as the catalog orders its images, so
        they are never sorted or held here), a few rows at a time; none once the state fails."""
        query = (LINES_BY_ID, (_json_list(wanted),))
        rows = self.state._read(lambda: self.state.connection.execute(*query))
        if rows is None:
            return
        try:
            while found := self.state._read(lambda: _fetch(rows)):
                for image, key, value in found:
                    if wanted.get(image) == key and isinstance(value, bytes):  # else: damage
                        yield image, value
        finally:
            with contextlib.suppress(sqlite3.Error):  # the state may have been set aside
                rows.close()

    def line(self, image: str, key: str) -> bytes | None:
        """One image's kept catalog.json line, if kept under `key`."""
        value = self.line_rows.get(image, key)
        return value if isinstance(value, bytes) else None

    def put(
        self, new: Sequence[tuple[str, str, bytes]], lines: Sequence[tuple[str, str, bytes]]
    ) -> None:
        """Write the `new` pieces and their catalog.json `lines` (image id, key, value: one
        batch of the build's), in one transaction."""
        writes = [(self.rows.put_sql, row) for row in new]
        self.state._write_all(writes + [(self.line_rows.put_sql, row) for row in lines])

    def keep_only(self, images: Collection[str]) -> None:
        """Drop the rows of images this build did not show (when there are more rows than
        images shown: an image's new pieces replaced its row)."""
        for table in (self.rows, self.line_rows):
            self._drop_gone(table, images)

    def _drop_gone(self, table: StateReadStore, images: Collection[str]) -> None:
        count = table.count_sql
        rows = self.state._read(lambda: self.state.connection.execute(count).fetchone())
        if rows and rows[0] > len(images):
            self.state._write(table.forget_sql, (_json_list(images),))
