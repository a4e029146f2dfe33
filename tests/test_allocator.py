"""The program's allocator setting (`generator.allocator`): large blocks a run lets go of are
given back to the system, in a real process on this machine's C library."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not hasattr(os, "confstr") or not os.confstr("CS_GNU_LIBC_VERSION"),
    reason="the setting is glibc's",
)

# A 30 MiB block freed first (glibc then serves blocks up to that size from its heap), then
# 60 blocks of 1.5 MiB, each followed by a small block that stays: what freeing the large ones
# gives back to the system, in MiB, is printed.
PATTERN = """
import os
def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
def pattern():
    big = b"x" * (30 << 20)
    del big
    large, small = [], []
    for n in range(60):
        large.append(bytes([n % 251]) * 1_500_000)
        small.append(bytes(600))
    before = resident()
    del large
    print(round(before - resident()))
    return 0
"""


def given_back(setup: str) -> int:
    """MiB given back by freeing the large blocks, in a fresh interpreter after `setup`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_TUNABLES"))}
    script = PATTERN + setup
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return int(run.stdout.split()[-1])


def test_glibc_keeps_freed_large_blocks_by_default() -> None:
    # The case the setting is for: without it, the memory stays with the process.
    assert given_back("pattern()") < 20


def test_the_setting_gives_freed_large_blocks_back() -> None:
    setup = "from generator.allocator import return_large_blocks\nassert return_large_blocks()\n"
    assert given_back(setup + "pattern()") > 70  # of the 86 MiB freed


def test_the_program_makes_the_setting_before_its_command() -> None:
    setup = (
        "import generator.cli as cli\ncli.command = lambda argv: pattern()\ncli.main_and_exit()\n"
    )
    assert given_back(setup) > 70
