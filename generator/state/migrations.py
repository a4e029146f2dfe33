"""The state database's schema, as the steps that build it: one SQL script per version.

`database.migrate` runs the scripts a database has not had yet, each in its transaction, and
records the version in `PRAGMA user_version`.
"""

from __future__ import annotations

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
    CREATE TABLE kept_images (
        image_id TEXT PRIMARY KEY,  -- <vm>/<stem>
        key      TEXT NOT NULL,     -- its reads' key + its files' digests + settings (catalog.kept)
        value    TEXT NOT NULL      -- JSON: the Image record as built (catalog.image_record)
    );
    """,
    """
    CREATE TABLE image_pieces (     -- what the site makes of one image (queries: image_pieces.py)
        key   TEXT PRIMARY KEY,     -- digest of the program and the image (site.image_memo)
        value BLOB NOT NULL         -- its inventory row, catalog.json line and search words
    );                              -- a rowid table: values of 2 kB stay in one page
    """,
    """
    -- the record_token of the image whose expected_md5 and description_sha256 these are
    -- (catalog.history: an image of the same token needs no fingerprint made again)
    ALTER TABLE images ADD COLUMN record_token TEXT;
    """,
    """
    -- `images` and `stored_reads` as rowid tables, the primary key a separate index. Their rows
    -- hold about 1.2 kB of JSON each (the published record, the kept reads), and a table
    -- WITHOUT ROWID stores a row inside its key's b-tree, where SQLite keeps at most about a
    -- quarter of a page and spills the rest into an overflow page of its own: at 10,000 images
    -- the two tables took 93 MB of pages for 25 MB of rows, and a scan of the ids read them all.
    CREATE TABLE images_by_rowid (
        id           TEXT PRIMARY KEY,  -- <vm>/<stem>, the permalink
        first_seen   REAL NOT NULL,
        last_seen    REAL NOT NULL,
        last_changed REAL,              -- when md5 last took a new value
        removed_at   REAL,              -- tombstone: when the image was found gone
        md5          TEXT,              -- content key (members: MD5 of their md5sum listing)
        expected_md5 TEXT,              -- what the .checksum said
        description_sha256 TEXT,        -- to notice edited descriptions
        record       TEXT,              -- catalog.json entry as last published (tombstones)
        record_token TEXT               -- the record whose expected_md5 and description these are
    );
    INSERT INTO images_by_rowid
        SELECT id, first_seen, last_seen, last_changed, removed_at, md5, expected_md5,
               description_sha256, record, record_token FROM images ORDER BY id;
    DROP TABLE images;
    ALTER TABLE images_by_rowid RENAME TO images;
    CREATE TABLE stored_reads_by_rowid (
        image_id TEXT PRIMARY KEY,  -- <vm>/<stem>
        key      TEXT NOT NULL,     -- fingerprints of its files + program + settings (stored_reads)
        value    TEXT NOT NULL      -- JSON: header facts, .checksum text, redacted description
    );
    INSERT INTO stored_reads_by_rowid SELECT image_id, key, value FROM stored_reads ORDER BY image_id;
    DROP TABLE stored_reads;
    ALTER TABLE stored_reads_by_rowid RENAME TO stored_reads;
    """,
    """
    -- image_pieces by image, as stored_reads and kept_images: a build replaces the row of an
    -- image whose key changed, and drops only rows of images gone (by key, it looked for rows
    -- no key of the build named: a query over every image's key, 30-60 ms an edit build).
    DROP TABLE image_pieces;
    CREATE TABLE image_pieces (     -- what the site makes of one image (queries: image_pieces.py)
        image_id TEXT PRIMARY KEY,  -- <vm>/<stem>
        key      TEXT NOT NULL,     -- digest of the program and the image (site.image_memo)
        value    BLOB NOT NULL      -- its inventory row, catalog.json line and search words
    );
    """,
    """
    -- Vouched records (catalog.kept): a record kept under its files' fingerprints alone stands
    -- for their digests only while every run that reads a file again drops its image's record
    -- first. Versions before this schema do not: the version number keeps them off such a state
    -- (they refuse a newer schema), and the records they kept are let go.
    DELETE FROM kept_images;
    """,
    """
    -- Each image's catalog.json line apart from its other site pieces (site.image_memo): a
    -- build holds the pieces of every image through publishing, the lines it reads back a
    -- batch at a time when catalog.json or an image.json is written. Pieces of the earlier
    -- shape (the line among them) are let go: the next build makes them anew.
    DELETE FROM image_pieces;
    CREATE TABLE image_records (
        image_id TEXT PRIMARY KEY,  -- <vm>/<stem>
        key      TEXT NOT NULL,     -- the key of its pieces (site.image_memo)
        value    BLOB NOT NULL      -- CRC-32, then its catalog.json line (UTF-8)
    );
    """,
)
