"""After a build: the admin's command that copies the published site to the web server's host."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SITE_VARIABLE = "STAR_VM_CATALOG_SITE"


def run_publish_command(command: str, live: Path) -> str | None:
    """Run `command` with /bin/sh, the live copy's path as `$1` and in $STAR_VM_CATALOG_SITE.

    Returns None on success, else what went wrong (the command's last line of stderr included),
    for the CLI to report: the site here is fine, but the other host may serve an old one.
    """
    env = {**os.environ, SITE_VARIABLE: str(live)}
    try:
        done = subprocess.run(
            ["/bin/sh", "-c", command, "publish-command", str(live)],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        return f"'{command}': the publish command cannot be started: {exc.strerror}"
    if done.returncode == 0:
        return None
    said = (done.stderr.strip().splitlines() or [""])[-1]
    return (
        f"'{command}': the publish command failed with exit code {done.returncode}"
        + (f" ({said})" if said else "")
        + f"; the site in '{live}' is published here, the other host may serve an old one "
        "(fix the command or the connection: the next run copies again)"
    )
