"""The C allocator's setting for a run: large blocks go back to the system when freed.

glibc gives a block of 128 KiB or more a mapping of its own, unmapped when the block is freed,
but it raises that threshold to the size of every such block freed, up to 32 MiB. A build reads
and lets go of large texts (a manifest of 200,000 files is 20 MB), so afterwards its blocks of
up to that size come from the heap instead, where a small block allocated above one keeps the
heap from shrinking when it is freed: the process keeps memory it no longer uses. A fixed
threshold of `LARGE` keeps the old rule: at 100,000 images an edit build peaked at 709 MiB
resident, 663 MiB with it (a full build at 10,000 images takes as long).
"""

from __future__ import annotations

import ctypes
import os

M_MMAP_THRESHOLD = -3  # glibc's `mallopt` parameter (malloc.h)
LARGE = 1 << 20  # blocks from this size up are mapped, and unmapped when freed


def return_large_blocks() -> bool:
    """Fix glibc's mapping threshold at `LARGE`; False (nothing done) on another C library."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return False
    except (ValueError, OSError, AttributeError):  # not glibc, or no such name here
        return False
    libc = ctypes.CDLL(None)
    return bool(libc.mallopt(M_MMAP_THRESHOLD, LARGE))
