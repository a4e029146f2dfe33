"""The state's table of site pieces (see `generator.site.image_memo`): one row per image, under
the key its pieces were made for.

Rows are read by image, a batch per query (a join in C, and only one batch of blobs held at a
time: at 100,000 images the table is some 300 MB), and count when their key is the one asked
for. New rows are written a batch to a transaction, replacing the image's row; then the rows of
images the build did not show are dropped.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from generator.state.database import State, _json_list

GET = (
    "SELECT image_id, key, value FROM image_pieces "
    "WHERE image_id IN (SELECT value FROM json_each(?))"
)
COUNT = "SELECT count(*) FROM image_pieces"
PUT = "INSERT OR REPLACE INTO image_pieces VALUES (?, ?, ?)"
FORGET = "DELETE FROM image_pieces WHERE image_id NOT IN (SELECT value FROM json_each(?))"


class StatePieceStore:
    """A `PieceStore` over the state database."""

    def __init__(self, state: State) -> None:
        self.state = state

    def get(self, wanted: Mapping[str, str]) -> dict[str, bytes]:
        """The kept pieces of these images (`wanted`: image id -> key), by key, of those kept
        under that key; nothing when the state cannot be read."""
        query = (GET, (_json_list(wanted),))
        rows = self.state._read(lambda: self.state.connection.execute(*query).fetchall())
        return {key: bytes(value) for image, key, value in rows or () if wanted[image] == key}

    def put(self, new: Sequence[tuple[str, str, bytes]]) -> None:
        """Write the `new` pieces (image id, key, value: one batch of the build's)."""
        self.state._write_all([(PUT, row) for row in new])

    def keep_only(self, images: Collection[str]) -> None:
        """Drop the rows of images this build did not show (when there are more rows than
        images shown: an image's new pieces replaced its row)."""
        rows = self.state._read(lambda: self.state.connection.execute(COUNT).fetchone())
        if rows and rows[0] > len(images):
            self.state._write(FORGET, (_json_list(images),))
