"""The state's table of site pieces (see `generator.site.image_memo`): one row per image key.

Rows are read by their keys, a batch per query (a join in C, and only one batch of blobs held
at a time: at 100,000 images the table is some 300 MB). New rows are written a batch to a
transaction, then the rows of keys the build did not use are dropped.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from generator.state.database import State, _json_list

GET = "SELECT key, value FROM image_pieces WHERE key IN (SELECT value FROM json_each(?))"
COUNT = "SELECT count(*) FROM image_pieces"
PUT = "INSERT OR REPLACE INTO image_pieces VALUES (?, ?)"
FORGET = "DELETE FROM image_pieces WHERE key NOT IN (SELECT value FROM json_each(?))"


class StatePieceStore:
    """A `PieceStore` over the state database."""

    def __init__(self, state: State) -> None:
        self.state = state

    def get(self, keys: Sequence[str]) -> dict[str, bytes]:
        """The kept pieces of these keys; nothing when the state cannot be read."""
        query = (GET, (_json_list(keys),))
        rows = self.state._read(lambda: self.state.connection.execute(*query).fetchall())
        return {key: bytes(value) for key, value in rows or ()}

    def put(self, new: Mapping[str, bytes]) -> None:
        """Write the `new` pieces (one batch of the build's)."""
        self.state._write_all([(PUT, (key, value)) for key, value in new.items()])

    def keep_only(self, used: Collection[str]) -> None:
        """Drop the rows of keys not `used` by this build (when there are more rows than keys
        used)."""
        rows = self.state._read(lambda: self.state.connection.execute(COUNT).fetchone())
        if rows and rows[0] > len(used):
            self.state._write(FORGET, (_json_list(used),))
