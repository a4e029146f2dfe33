"""Read a `.txt` description: front matter fields plus Markdown, secrets removed, HTML sanitized."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.markup import (
    FrontMatterError,
    TooSlow,
    plain_text_html,
    render_markdown,
    split_front_matter,
)
from generator.problems import WARNING, Problem
from generator.redact import redact_fields, redact_text
from generator.safe_open import read_scanned
from generator.scan import FileStat

MAX_DESCRIPTION_BYTES = 256 * 1024
MARKDOWN_SECONDS = 1.0  # past this, a description is shown as plain text (the target is 2 s)
KEY_RE = re.compile(r"[A-Za-z][A-Za-z0-9_ -]{0,63}")


@dataclass(frozen=True)
class Description:
    """What the catalog shows of a description; every string is already redacted.

    `private_text` is the only exception: the text as read, for the members-only copy alone
    (`unredacted`); it is never rendered into the public site nor stored.
    """

    fields: dict[str, Any] = field(default_factory=dict)
    html: str = ""
    text: str = ""
    private_text: str = field(default="", repr=False)


def read_description(
    path: Path,
    relpath: str,
    reserved: frozenset[str],
    scanned: FileStat | None = None,
    root: Path | None = None,
) -> tuple[Description, list[Problem]]:
    """Read one sidecar; any defect is a warning and the rest of the text is still used.

    `scanned` is what the scan saw at `path` (inside `root`): only that file is read.
    """
    problems: list[Problem] = []
    try:
        data = read_scanned(root, path, scanned, MAX_DESCRIPTION_BYTES + 1)
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
    text = original = _decode(data, relpath, problems)
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
    redacted = any(p.code == "secret_redacted" for p in problems)
    html = _render(body, relpath, problems)
    private_text = original if redacted else ""
    return Description(fields, html, body.strip(), private_text=private_text), problems


def unredacted(text: str, reserved: frozenset[str]) -> Description:
    """The members-only view of a description: fields and HTML with nothing removed.

    Sanitized like the public one (no scripts); problems were reported by the public read.
    """
    try:
        raw, body = split_front_matter(text)
    except FrontMatterError:
        raw, body = {}, text
    fields = {}
    for key, value in raw.items():
        name = key.strip().lower().replace(" ", "_").replace("-", "_")
        if KEY_RE.fullmatch(key.strip()) and name not in reserved:
            fields[name] = _json_safe(value)
    html = _render(body, "", [])  # too complex: plain text here too, as on the public page
    return Description(dict(sorted(fields.items())), html, body.strip())


def _render(body: str, relpath: str, problems: list[Problem]) -> str:
    """HTML of the body; Markdown that cannot be rendered in time is shown as plain text."""
    try:
        return render_markdown(body, MARKDOWN_SECONDS)
    except TooSlow:
        problems.append(
            Problem(
                relpath,
                "description_too_complex",
                WARNING,
                f"the Markdown did not render within {MARKDOWN_SECONDS:g} s (deeply nested "
                "brackets?); it is shown as plain text",
                "simplify the Markdown: fewer nested brackets or links",
            )
        )
        return plain_text_html(body)


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
    """A value JSON can hold: dates as ISO text, `.nan`/`.inf` as the strings nan, inf, -inf."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return str(value)
