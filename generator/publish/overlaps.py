"""Repository, output, state and log file never overlap: a run never writes where it reads.

Paths are compared after resolving symbolic links, so `/var/www/vm` and a link to the
repository are seen for what they are. The output is compared as its link (its parent resolved,
not the link itself) together with its build area beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from generator.errors import ConfigError


@dataclass(frozen=True)
class Place:
    """One folder a run reads or writes, named as the user knows it."""

    role: str
    option: str
    path: Path

    @property
    def real(self) -> Path:
        return self.path.resolve()


def output_places(output: Path, builds: Path, role: str = "output") -> list[Place]:
    """The output link and its build area; the link's own target is not followed."""
    link = output.absolute()
    option = "--" + role.replace(" ", "-")
    return [
        Place(role, option, link.parent.resolve() / link.name),
        Place(f"{role}'s build area", option, builds),
    ]


def refuse_nested(places: list[Place]) -> None:
    """Raise ConfigError when two places of different options are equal or nested."""
    for first, second in combinations(places, 2):
        if first.option == second.option:
            continue
        relation = _relation(first.real, second.real)
        if relation:
            raise ConfigError(
                f"'{first.path}': the {first.role} ({first.option}) {relation} the "
                f"{second.role} '{second.path}' ({second.option}); give each of them its own "
                "folder, none inside another"
            )


def refuse_log_in_output(log_file: Path | None, places: list[Place]) -> None:
    """The log is appended to on every run: inside the site it would be published or lost."""
    if log_file is None:
        return
    log = log_file.resolve()
    for place in places:
        if log == place.real or place.real in log.parents:
            raise ConfigError(
                f"'{log_file}': the log file (--log-file) is inside the {place.role} "
                f"'{place.path}'; put it outside the published site"
            )


def _relation(first: Path, second: Path) -> str | None:
    if first == second:
        return "is the same folder as"
    if second in first.parents:
        return "is inside"
    if first in second.parents:
        return "contains"
    return None
