"""Read a `.txt` description: front matter fields plus Markdown, secrets removed, HTML sanitized."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.markup import FrontMatterError, render_markdown, split_front_matter
from generator.problems import WARNING, Problem
from generator.read.redact import redact_fields, redact_text

MAX_DESCRIPTION_BYTES = 256 * 1024
KEY_RE = re.compile(r"[A-Za-z][A-Za-z0-9_ -]{0,63}")


@dataclass(frozen=True)
class Description:
    """What the catalog shows of a description; every string is already redacted."""

    fields: dict[str, Any] = field(default_factory=dict)
    html: str = ""
    text: str = ""


def read_description(
    path: Path, relpath: str, reserved: frozenset[str]
) -> tuple[Description, list[Problem]]:
    """Read one sidecar; any defect is a warning and the rest of the text is still used."""
    problems: list[Problem] = []
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_DESCRIPTION_BYTES + 1)
    except OSError as exc:
        problems.append(
            Problem(
                relpath,
                "unreadable_description",
                WARNING,
                f"cannot read description: {exc.strerror}",
                "check its permissions",
            )
        )
        return Description(), problems
    if len(data) > MAX_DESCRIPTION_BYTES:
        data = data[:MAX_DESCRIPTION_BYTES]
        problems.append(
            Problem(
                relpath,
                "description_too_large",
                WARNING,
                f"description is larger than {MAX_DESCRIPTION_BYTES // 1024} KiB; only the start is shown",
                "keep the description short and link to longer documents",
            )
        )
    text = _decode(data, relpath, problems)
    text, redactions = redact_text(text)
    for redaction in redactions:
        problems.append(
            Problem(
                relpath,
                "secret_redacted",
                WARNING,
                f"{redaction.kind} on line {redaction.line} was removed before publishing",
                "keep secrets out of descriptions; they are published on the web",
            )
        )
    try:
        raw_fields, body = split_front_matter(text)
    except FrontMatterError as exc:
        problems.append(
            Problem(
                relpath,
                "invalid_front_matter",
                WARNING,
                str(exc),
                "fix the YAML between the two '---' lines",
            )
        )
        raw_fields, body = {}, text
    fields = _clean_fields(raw_fields, relpath, reserved, problems)
    return Description(fields=fields, html=render_markdown(body), text=body.strip()), problems


def _decode(data: bytes, relpath: str, problems: list[Problem]) -> str:
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        problems.append(
            Problem(
                relpath,
                "description_not_utf8",
                WARNING,
                f"description is not UTF-8 (byte {exc.start}); read as Latin-1",
                "save the description as UTF-8",
            )
        )
        return data.decode("latin-1")


def _clean_fields(
    raw: dict[str, Any], relpath: str, reserved: frozenset[str], problems: list[Problem]
) -> dict[str, Any]:
    """Keep well-named keys with JSON-safe values; redact keys and values that hold secrets."""
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.strip().lower().replace(" ", "_").replace("-", "_")
        if not KEY_RE.fullmatch(key.strip()) or name in reserved:
            why = "is a catalog field" if name in reserved else "is not a simple name"
            problems.append(
                Problem(
                    relpath,
                    "invalid_front_matter_key",
                    WARNING,
                    f"front matter key '{key}' {why}; it is not shown",
                    "use simple names such as kernel or maintainer",
                )
            )
            continue
        fields[name] = _json_safe(value)
    fields, redacted = redact_fields(fields)
    for key in redacted:
        problems.append(
            Problem(
                relpath,
                "secret_redacted",
                WARNING,
                f"front matter value of '{key}' was removed before publishing",
                "keep secrets out of descriptions; they are published on the web",
            )
        )
    return dict(sorted(fields.items()))


def _json_safe(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return str(value)
