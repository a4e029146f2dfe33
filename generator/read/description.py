"""Read a `.txt` description: front matter fields plus Markdown, secrets removed, HTML sanitized."""

from __future__ import annotations

import codecs
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
from generator.problems import Problem, problem
from generator.read.safe_open import read_scanned
from generator.read.scan import FileStat
from generator.redact import redact_fields, redact_text

MAX_DESCRIPTION_BYTES = 256 * 1024
MARKDOWN_SECONDS = 1.0  # past this, a description is shown as plain text (the target is 2 s)
KEY_RE = re.compile(r"[A-Za-z][A-Za-z0-9_ -]{0,63}")
HTML_COMMENT_RE = re.compile(r"<!--.*?(?:-->|\Z)", re.S)


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
        problems.append(problem("unreadable_description", relpath, reason=exc.strerror))
        return Description(), problems
    if len(data) > MAX_DESCRIPTION_BYTES:
        data = data[:MAX_DESCRIPTION_BYTES]
        kib = MAX_DESCRIPTION_BYTES // 1024
        problems.append(problem("description_too_large", relpath, kib=kib))
    text = original = _decode(data, relpath, problems)
    try:
        raw_fields, body = split_front_matter(text)
    except FrontMatterError as exc:
        problems.append(problem("invalid_front_matter", relpath, detail=str(exc)))
        raw_fields, body = {}, text
    front = text[: len(text) - len(body)] if raw_fields else ""
    body = _redact_body(body, text[: len(text) - len(body)].count("\n"), relpath, problems)
    fields = _clean_fields(raw_fields, relpath, reserved, problems, front)
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
    body = HTML_COMMENT_RE.sub("", body)
    html = _render(body, "", [])  # too complex: plain text here too, as on the public page
    return Description(dict(sorted(fields.items())), html, body.strip())


def _render(body: str, relpath: str, problems: list[Problem]) -> str:
    """HTML of the body; Markdown that cannot be rendered in time is shown as plain text."""
    try:
        return render_markdown(body, MARKDOWN_SECONDS)
    except TooSlow:
        problems.append(problem("description_too_complex", relpath, seconds=MARKDOWN_SECONDS))
        return plain_text_html(body)


def _redact_body(body: str, offset: int, relpath: str, problems: list[Problem]) -> str:
    """Secrets out, then HTML comments out (they are notes to editors, never published)."""
    body, redactions = redact_text(body)
    for redaction in redactions:
        where = f"{redaction.kind} on line {redaction.line + offset}"
        problems.append(problem("secret_redacted", relpath, where=where))
    return HTML_COMMENT_RE.sub("", body)


# Byte order marks, longest first (the UTF-32 LE mark begins with the UTF-16 LE one).
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _decode(data: bytes, relpath: str, problems: list[Problem]) -> str:
    """Text as its bytes say: a BOM or NUL-padded UTF-16 is read as such, never as Latin-1.

    Reading UTF-16 as Latin-1 would publish `S\\0E\\0E\\0D\\0=...`, a secret that no rule sees
    and that anyone gets back by dropping the NULs.
    """
    encoding = _utf16_or_32(data)
    if encoding is not None and not encoding.startswith("utf-8"):
        bom = next((b for b, name in BOMS if name == encoding and data.startswith(b)), b"")
        problems.append(
            problem("description_not_utf8", relpath, encoding=encoding.upper(), reading="such")
        )
        return data[len(bom) :].decode(encoding, errors="replace")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8").removeprefix("\ufeff")  # cut at the cap
        encoding = f"not UTF-8 (byte {exc.start})"
        problems.append(
            problem("description_not_utf8", relpath, encoding=encoding, reading="Latin-1")
        )
        return data.decode("latin-1")


def _utf16_or_32(data: bytes) -> str | None:
    """The encoding a BOM names, or UTF-16 guessed from NULs in every other byte."""
    for bom, name in BOMS:
        if data.startswith(bom):
            return name
    pairs = len(data) // 2
    if pairs >= 2 and b"\0" in data[:4096]:
        head = data[: 2 * min(pairs, 2048)]
        odd, even = head[1::2].count(0), head[0::2].count(0)
        if odd >= len(head) // 4 and even * 8 < odd:
            return "utf-16-le"
        if even >= len(head) // 4 and odd * 8 < even:
            return "utf-16-be"
    return None


def _clean_fields(
    raw: dict[str, Any],
    relpath: str,
    reserved: frozenset[str],
    problems: list[Problem],
    front: str = "",
) -> dict[str, Any]:
    """Keep well-named keys with JSON-safe values; redact keys and values that hold secrets."""
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.strip().lower().replace(" ", "_").replace("-", "_")
        if not KEY_RE.fullmatch(key.strip()) or name in reserved:
            why = "is a catalog field" if name in reserved else "is not a simple name"
            problems.append(problem("invalid_front_matter_key", relpath, key=key, why=why))
            continue
        fields[name] = _json_safe(value)
    fields, redacted = redact_fields(fields)
    for key in redacted:
        line = _key_line(front, key)
        where = f"front matter value of '{key}'" + (f" on line {line}" if line else "")
        problems.append(problem("secret_redacted", relpath, where=where))
    return dict(sorted(fields.items()))


def _key_line(front: str, where: str) -> int | None:
    """The line of the front matter holding the last key of `where` (`users[1].password`)."""
    lines, line = front.splitlines(), 0
    for key in re.findall(r"[^.\[\]]+", where):
        if key.isdigit():
            continue  # a list index
        name = re.escape(key).replace("_", "[ _-]")
        pattern = re.compile(rf"(?:^|[\s{{,-])[\"']?{name}[\"']?\s*:", re.I)
        found = next((n for n in range(line, len(lines)) if pattern.search(lines[n])), None)
        if found is None:
            return None
        line = found
    return line + 1


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
