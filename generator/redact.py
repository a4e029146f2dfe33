"""Remove secrets from everything the catalog publishes, stores or mails.

The storage spec suggests putting the root-password command, seed included, into the
description; that text is published, so seeds, private keys and password values are cut out.
Matching runs on a normalised copy of the text (NFKC, look-alike letters folded, zero-width and
control characters dropped, HTML entities and URL escapes decoded) so a disguised secret is
still found; the published text is the original with only the secret's span replaced.
The forms of secret are the rule table of `generator.redact_rules`; this is the engine.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from generator.redact_rules import REDACTED, RULES, SECRET_KEY_RE, TRIGGER_WORDS, Rule

ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
PARAGRAPH_END = "\n\n"
# Zero-width, bidi and control characters (NUL included): dropped before matching.
INVISIBLE_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
# Cyrillic and Greek letters that look like Latin ones (NFKC leaves them alone).
CONFUSABLES = str.maketrans(
    "АВЕКМНОРСТХЅІЈаеорсухѕіјԁΑΒΕΖΗΙΚΜΝΟΡΤΥΧοα",
    "ABEKMHOPCTXSIJaeopcyxsijdABEZHIKMNOPTYXoa",
)
CANDIDATE_RE = re.compile(r"[^\t\n\r\x20-\x24\x27-\x7e]")  # where SPECIAL_RE may match
SPECIAL_RE = re.compile(
    r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?"
    r"|(?:%[0-9A-Fa-f]{2})+|[^\t\n\r\x20-\x7e]+"
)


@dataclass(frozen=True)
class Redaction:
    """What was removed and where (never the secret itself)."""

    kind: str
    line: int


class Normalised:
    """A normalised copy of a text with a map from its positions back to the original's."""

    def __init__(self, original: str) -> None:
        self.original = original
        parts: list[str] = []
        self.starts: list[int] = []  # normalised position where each piece starts
        self.pieces: list[tuple[int, int, bool]] = []  # (original start, end, copied as is)
        position = done = 0
        for match in _specials(original):
            start, token = match.start(), match[0]
            if start > done:
                position = self._add(parts, original[done:start], done, position, True)
            text = _fold(token)
            if token[0] in "&%" or text == token:  # an escape, or characters left as they are
                position = self._add(parts, text, start, position, text == token, match.end())
            else:  # a run of characters that changed: map each on its own
                for offset, char in enumerate(token, start):
                    position = self._add(parts, _fold(char), offset, position, False, offset + 1)
            done = match.end()
        if done < len(original):
            self._add(parts, original[done:], done, position, True)
        self.text = "".join(parts)

    def _add(
        self, parts: list[str], text: str, start: int, position: int, same: bool, end: int = -1
    ) -> int:
        """Append one piece taken from original[start:end] and return the next position."""
        if text:
            parts.append(text)
            self.starts.append(position)
            self.pieces.append((start, end if end >= 0 else start + len(text), same))
        return position + len(text)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span holding normalised positions start..end (end exclusive)."""
        return self._at(start, False), self._at(end - 1, True)

    def _at(self, position: int, after: bool) -> int:
        index = bisect.bisect_right(self.starts, position) - 1
        begin, finish, same = self.pieces[index]
        if same:
            return begin + position - self.starts[index] + (1 if after else 0)
        return finish if after else begin


def _specials(text: str) -> Iterator[re.Match[str]]:
    """SPECIAL_RE's matches, found fast: its alternatives defeat the regex engine's scan for a
    first character, so candidates come from one character class and are tried one by one."""
    at = 0
    while candidate := CANDIDATE_RE.search(text, at):
        match = SPECIAL_RE.match(text, candidate.start())
        if match:
            yield match
            at = match.end()
        else:
            at = candidate.end()


def _fold(text: str) -> str:
    """The plain text an entity, URL escape or non-ASCII character stands for."""
    if text.startswith("&"):
        import html  # only for text with entities: most runs never need it

        text = html.unescape(text)
    elif text.startswith("%"):
        text = unquote(text)
    return INVISIBLE_RE.sub("", unicodedata.normalize("NFKC", text).translate(CONFUSABLES))


def find_secrets(text: str) -> list[tuple[int, int, str, Rule]]:
    """Original spans (start, end, kind, rule) of every secret, sorted, overlaps merged."""
    if not may_hold_secret(text):
        return []
    normal = Normalised(text)
    lower = _lower(normal.text)
    if not _triggered(lower):
        return []
    spans: list[tuple[int, int, str, Rule]] = []
    for rule in RULES:
        for begin, end in _regions(rule, lower):
            for match in rule.pattern.finditer(normal.text, begin, end):
                cells = rule.name == "table-column"
                for start, stop in _column_cells(match) if cells else [_unquoted(match)]:
                    if stop > start:
                        spans.append((*normal.span(start, stop), rule.kind, rule))
    return _merge(sorted(spans, key=lambda s: (s[0], -s[1])))


def may_hold_secret(text: str) -> bool:
    """False when no rule can find anything in `text`: none of their words, nothing the
    normalisation changes. Also true of any part of such a text, so one test of several names
    joined by a newline clears them all."""
    return _triggered(_lower(text)) or _has_specials(text)


def _lower(text: str) -> str:
    """Lower case of the same length (str.lower may lengthen non-ASCII text), so positions agree."""
    return text.lower() if text.isascii() else text.translate(ASCII_LOWER)


def _triggered(lower: str) -> bool:
    for word in TRIGGER_WORDS:  # noqa: SIM110 (a plain loop: twice as fast as any() here)
        if word in lower:
            return True
    return False


def _has_specials(text: str) -> bool:
    """Anything the normalisation changes: non-ASCII, escapes, control characters."""
    if not text.isascii() or "%" in text or "&" in text:
        return True
    return not text.isprintable() and CANDIDATE_RE.search(text) is not None


def _regions(rule: Rule, lower: str) -> list[tuple[int, int]]:
    """The paragraphs holding one of the rule's words: running each rule over the whole
    text cost about 1 ms per rule for a page of text; most paragraphs hold no such word."""
    if rule.whole_text:
        return [(0, len(lower))] if any(word in lower for word in rule.words) else []
    regions: list[tuple[int, int]] = []
    for word in rule.words:
        at = lower.find(word)
        while at >= 0:
            begin = lower.rfind(PARAGRAPH_END, 0, at) + 1
            end = lower.find(PARAGRAPH_END, at)
            regions.append((begin, len(lower) if end < 0 else end + 1))
            at = lower.find(word, regions[-1][1])
    return _merged_regions(regions)


def _merged_regions(regions: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(regions):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def _unquoted(match: re.Match[str]) -> tuple[int, int]:
    """The secret group without its quotes and trailing blanks: the quotes stay on the page."""
    groups = match.groupdict()
    group = "secret" if groups.get("secret") is not None else "secret2"
    start, end = match.span(group)
    value = match[group]
    stripped = value.rstrip()
    end -= len(value) - len(stripped)
    if stripped[:1] in "\"'`" and stripped:
        start += 1
        if len(stripped) > 1 and stripped[-1] == stripped[0]:
            end -= 1
    return start, end


CELL_KEY_RE = re.compile(r"(?:seed|pass(?:word|wd|phrase)?)[\"'`*]*$", re.I)


def _column_cells(match: re.Match[str]) -> list[tuple[int, int]]:
    """Spans of the body cells under each header cell that names a seed or password."""
    header = _cells(match["header"], match.start("header"))
    columns = [
        i for i, (start, end) in enumerate(header) if CELL_KEY_RE.search(match.string[start:end])
    ]
    spans, offset = [], match.start("secret")
    for row in match["secret"].splitlines(keepends=True):
        cells = _cells(row, offset)
        spans += [cells[i] for i in columns if i < len(cells)]
        offset += len(row)
    return spans


def _cells(line: str, offset: int) -> list[tuple[int, int]]:
    """(start, end) of each cell's text in a Markdown table row; outer pipes start no cell."""
    text = line.rstrip("\n")
    bounds = [-1, *(i for i, c in enumerate(text) if c == "|"), len(text)]
    cells = []
    for left, right in itertools.pairwise(bounds):
        part = text[left + 1 : right]
        start = left + 1 + len(part) - len(part.lstrip())
        cells.append((offset + start, offset + start + len(part.strip())))
    if text.lstrip().startswith("|"):
        cells = cells[1:]
    if text.rstrip().endswith("|"):
        cells = cells[:-1]
    return cells


def _merge(spans: list[tuple[int, int, str, Rule]]) -> list[tuple[int, int, str, Rule]]:
    merged: list[tuple[int, int, str, Rule]] = []
    for span in spans:
        if merged and span[0] < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], span[1]), last[2], last[3])
        else:
            merged.append(span)
    return merged


def redact_text(text: str) -> tuple[str, list[Redaction]]:
    """The text with every secret replaced; each removal reported by kind and line."""
    spans = find_secrets(text)
    if not spans:
        return text, []
    pieces, found, done = [], [], 0
    for start, end, kind, rule in spans:
        pieces += [text[done:start], rule.replacement]
        found.append(Redaction(kind, text.count("\n", 0, start) + 1))
        done = end
    pieces.append(text[done:])
    return "".join(pieces), found


@functools.lru_cache(maxsize=8192)
def redact(text: str) -> str:
    """Just the redacted text: for messages, paths and log lines (hints repeat: cached)."""
    return redact_text(text)[0] if text else text


def redact_fields(fields: dict[str, object]) -> tuple[dict[str, object], list[str]]:
    """Front matter with secret-named keys (at any depth) and secret values replaced.

    Returns the cleaned mapping and where each removal was (`users[1].password`), never what.
    """
    redacted: list[str] = []
    clean = _redact_value(fields, "", redacted)
    assert isinstance(clean, dict)
    return clean, redacted


def _redact_value(value: object, where: str, redacted: list[str]) -> object:
    if isinstance(value, dict):
        clean = {}
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            if SECRET_KEY_RE.search(_fold(str(key))):
                clean[key] = REDACTED
                if item != REDACTED:
                    redacted.append(inner)
            else:
                clean[key] = _redact_value(item, inner, redacted)
        return clean
    if isinstance(value, list):
        return [_redact_value(item, f"{where}[{i}]", redacted) for i, item in enumerate(value)]
    if isinstance(value, str):
        text = redact(value)
        if text != value:
            redacted.append(where)
        return text
    return value
