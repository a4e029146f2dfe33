"""The state's tables of site pieces and catalog.json lines (see `generator.site.image_memo`):
one row per image in each, under the key its pieces were made for.

Rows are read by image, a batch per query (a join in C, and only one batch of blobs held at a
time: at 100,000 images the table is some 300 MB), and count when their key is the one asked
for. New rows are written a batch to a transaction, replacing the image's row; then the rows of
images the build did not show are dropped.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from generator.state.database import State, _json_list
from generator.state.stored_reads import StateReadStore


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
        return {wanted[image]: bytes(value) for image, value in found.items()}

    def lines(self, wanted: Mapping[str, str]) -> dict[str, bytes]:
        """The kept catalog.json lines of these images, by image id, of those kept under the
        key `wanted` gives; nothing when the state cannot be read."""
        found = self.line_rows.get_many(list(wanted.items()))
        return {image: bytes(value) for image, value in found.items()}

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
