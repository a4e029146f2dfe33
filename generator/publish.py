"""Put a rendered site in place: write it beside the output, then swap it in."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from generator.render import write_files


def publish(files: dict[str, bytes], output: Path) -> None:
    """Write into a staging directory next to `output`, then rename it over the old site."""
    output = output.absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = output.parent / f".{output.name}.staging-{os.getpid()}"
    retired = output.parent / f".{output.name}.old-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    write_files(files, staging)
    if output.exists():
        os.rename(output, retired)
    os.rename(staging, output)
    shutil.rmtree(retired, ignore_errors=True)


def output_lock_path(output: Path) -> Path:
    """The lock file guarding one output directory (beside it, never inside the site)."""
    output = output.absolute()
    return output.parent / f".{output.name}.lock"
