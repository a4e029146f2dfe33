"""What a problem kind is, and the wordings several kinds share."""

from __future__ import annotations

from dataclasses import dataclass

ERROR, WARNING = "error", "warning"
SEVERITIES = (ERROR, WARNING)


@dataclass(frozen=True)
class Kind:
    """`str.format` templates over named details; `{detail}`: a case's own wording."""

    severity: str
    meaning: str  # the README's problem-code table says the same
    message: str
    hint: str = ""


RENAME = "rename the image (and its sidecars) to follow the naming convention"
RUN = "in the VM directory, run: {command}"
RECOPY = "copy it again from a good source"
REPLACE = (
    "could replace an image together with its .checksum, and the catalog would still say verified"
)
SECRETS = "keep secrets out of descriptions; they are published on the web"
