"""Remove secrets from description text before anything is rendered or stored.

The storage spec suggests putting the root-password command, seed included, into the
description; that text is published, so seeds, private keys and password values are cut out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REDACTED = "(redacted)"  # parses as plain text in YAML and Markdown alike

PRIVATE_KEY_RE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK|)-----.*?(?:-----END \1PRIVATE KEY\2-----|\Z)", re.S
)
SEED_RE = re.compile(r"(?i)\b(SEED\s*=\s*)(\"[^\"\n]*\"|'[^'\n]*'|[^\s'\"`]+)")
PASSWORD_RE = re.compile(r"(?im)\b((?:root[ _-]?)?pass(?:word|wd|phrase)?\s*[:=][ \t]*)(\S[^\n]*)")
SECRET_KEY_RE = re.compile(r"(?i)(pass(word|wd|phrase)?|secret|seed|private[ _-]?key)")


@dataclass(frozen=True)
class Redaction:
    """What was removed and where (never the secret itself)."""

    kind: str
    line: int


def redact_text(text: str) -> tuple[str, list[Redaction]]:
    """Replace private keys, SEED= values and password values; report each by line."""
    found: list[Redaction] = []
    for kind, pattern, keep_prefix in (
        ("password seed", SEED_RE, True),
        ("password", PASSWORD_RE, True),
        ("private key", PRIVATE_KEY_RE, False),  # last: it joins lines, which would shift numbers
    ):
        text = pattern.sub(_replacer(kind, found, keep_prefix), text)
    return text, sorted(found, key=lambda r: r.line)


def _replacer(kind: str, found: list[Redaction], keep_prefix: bool):
    def replace(match: re.Match[str]) -> str:
        found.append(Redaction(kind, match.string.count("\n", 0, match.start()) + 1))
        if keep_prefix:
            return match[1] + REDACTED
        return f"({kind} redacted)"

    return replace


def redact_fields(fields: dict[str, object]) -> tuple[dict[str, object], list[str]]:
    """Front-matter values whose key names a secret are replaced; returns the keys redacted."""
    clean, redacted = {}, []
    for key, value in fields.items():
        if SECRET_KEY_RE.search(key):
            clean[key] = REDACTED
            if value != REDACTED:
                redacted.append(key)
        elif isinstance(value, str):
            clean[key] = redact_text(value)[0]
            if clean[key] != value:
                redacted.append(key)
        else:
            clean[key] = value
    return clean, redacted
