"""Remove secrets from everything the catalog publishes, stores or mails.

The storage spec suggests putting the root-password command, seed included, into the
description; that text is published, so seeds, private keys and password values are cut out.
Matching runs on a normalised copy of the text (NFKC, look-alike letters folded, zero-width and
control characters dropped, HTML entities and URL escapes decoded) so a disguised secret is
still found; the published text is the original with only the secret's span replaced.
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

REDACTED = "(redacted)"  # parses as plain text in YAML and Markdown alike

# A value after `=`: quoted (closed within a paragraph, or unclosed to the end of its
# paragraph), backticked, or one token that never swallows the end of an HTML comment.
_QUOTED = "|".join(
    rf"{q}(?:[^{q}\n]|\n(?![ \t]*\n)){{0,500}}{q}|{q}(?:[^{q}\n]|\n(?![ \t]*\n))*" for q in "\"'`"
)
_TOKEN = r"(?:(?!-->)[^\s\"'`<>{}])+"
_TAGS = r"(?:</?[a-z][a-z0-9]*(?:[ \t][^<>\n]*)?>)*"  # inline HTML before a value: <code>x
EQ_VALUE = rf"(?P<secret2>{_TAGS}(?:{_QUOTED}|{_TOKEN}))"
# A value after `:` (YAML, prose): quoted, a YAML block scalar, or the rest of the line.
COLON_VALUE = (
    rf"(?P<secret>{_QUOTED}|(?:[|>][-+]?[ \t]*)?\n(?:[ \t]+[^\n]*(?:\n|\Z))+|"
    r"(?:(?!-->)[^\n])*[^\s])"
)  # a YAML block (`|`, `>` or plain indented lines) included
# Keys may be quoted, backticked or in bold (`**SEED**=x`, `<b>SEED</b>=x`).
_OPEN = r"(?<![\w$])[\"'`*]{0,3}"
_CLOSE = r"(?!\w)[\"'`*]{0,3}(?:</[a-z][a-z0-9]*>)?"
_EQUALS = r"(?:=>|:?=)"
_SEED_KEY = rf"{_OPEN}(?:[a-z0-9_]*seed|root[ \t]+seed|password[ \t]+seed){_CLOSE}"
_PASSWORD_KEY = (
    rf"{_OPEN}(?:[a-z0-9]*_)?(?:root|my|db|admin|user|login|ssh)?(?:pass(?:word|wd|phrase)?|pwd?)"
    rf"{_CLOSE}"
)
_SECRET_KEY = (
    rf"{_OPEN}[a-z0-9_]*(?:secret(?:_?access)?(?:_?key)?|api_?key|token|accountkey){_CLOSE}"
)
_NOT_A_VALUE = (
    r"(?!(?:not|never|the|a|an|set|stored|kept|given|available|required|changed|in|on|at|"
    r"provided|generated|known|only|obtained|shown|empty|blank|unknown|same|written|sent|"
    r"different|random|reset|from|by|to|managed|changed|derived|computed|printed)\b)"
)
_SHELL_VALUE = r"(?P<secret>\"[^\"\n]+\"|'[^'\n]+'|[^\s\"'|;&<>]+)"


@dataclass(frozen=True)
class Rule:
    """One secret form: the `secret` group of `pattern` is what is replaced, by `replacement`."""

    name: str
    words: tuple[str, ...]  # lower-case words one of which every match contains
    kind: str  # what the secret_redacted problem calls it
    replaced: str  # for the README table
    source: str
    flags: int
    replacement: str = REDACTED

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        """Compiled on first use: all rules take 20 ms, and most runs meet no trigger word."""
        return re.compile(self.source, self.flags)

    @property
    def whole_text(self) -> bool:
        """Key blocks may hold blank lines; every other secret sits inside one paragraph."""
        return self.kind == "private key"


def _rule(
    name: str, words: tuple[str, ...], kind: str, replaced: str, pattern: str, flags: int = re.I
) -> Rule:
    replacement = f"({kind} redacted)" if kind in ("private key", "shadow hash") else REDACTED
    return Rule(name, words, kind, replaced, pattern, flags | re.M, replacement)


AWS_PREFIXES = ("akia", "asia", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "abia", "acca")


# The one table of secret forms. Each has a positive and a near-miss fixture in
# tests/test_redact.py; the README lists the same rules.
# fmt: off
RULES: tuple[Rule, ...] = (
    _rule("pem-private-key", ("private",), "private key", "the whole block, BEGIN to END (or to the end)",
          r"(?P<secret>-{2,}[ \t]*BEGIN[ \t][A-Z0-9 ]*PRIVATE[ \t]KEY(?:[ \t]BLOCK)?[ \t]*-{2,}"
          r"(?:.*?-{2,}[ \t]*END[ \t][A-Z0-9 ]*PRIVATE[ \t]KEY(?:[ \t]BLOCK)?[ \t]*-{2,}|.*\Z))",
          re.S),
    _rule("putty-private-key", ("putty-user-key-file",), "private key", "the whole key file, header to Private-MAC",
          r"(?P<secret>PuTTY-User-Key-File-\d+:.*?(?:Private-MAC:[^\n]*|\Z))", re.S),
    _rule("shadow-hash", ("$",), "shadow hash", "the whole crypt hash ($1$, $2b$, $5$, $6$, $y$, ...)",
          r"(?P<secret>(?<![\w$])\$(?:1|2[abxy]?|5|6|7|y|gy|md5|sha1|apr1)\$[./A-Za-z0-9$=,]{8,})",
          0),
    _rule("seed-assignment", ("seed",), "password seed", "the value (`SEED=x`, `ROOT_SEED = \"x\"`, `MYSEED=`)",
          rf"{_SEED_KEY}[ \t]*{_EQUALS}[ \t]*{EQ_VALUE}"),
    _rule("seed-colon", ("seed",), "password seed", "the value (`seed: x`, `Root seed: x`, JSON `\"SEED\": x`)",
          rf"{_SEED_KEY}[ \t]*:(?!=)[ \t]*{COLON_VALUE}"),
    _rule("seed-setenv", ("setenv",), "password seed", "the value (csh `setenv SEED x`)",
          rf"\bsetenv[ \t]+[a-z0-9_]*seed[ \t]+{EQ_VALUE}"),
    _rule("password-assignment", ("pass", "pw"), "password", "the value (`password: x`, `DB_PASSWD=x`)",
          rf"{_PASSWORD_KEY}[ \t]*(?::(?!=)[ \t]*{COLON_VALUE}|{_EQUALS}[ \t]*{EQ_VALUE})"),
    _rule("password-prose", ("pass", "seed"), "password", "the word after \"the (root) password is\"",
          r"\b(?:pass(?:word|wd|phrase)|seed)(?:[ \t]+(?:for|of)[ \t]+[\w.@-]+)?"
          rf"[ \t]+(?:is|was|will[ \t]+be):?[ \t]+(?:set[ \t]+to[ \t]+)?{_NOT_A_VALUE}"
          r"(?P<secret>\"[^\"\n]+\"|'[^'\n]+'|`[^`\n]+`|[^\s`]+?(?=[.,;:!?)]*(?:\s|\Z)))"),
    _rule("table-cell", ("seed", "pass"), "password", "the cell after a `seed` or `password` cell",
          rf"(?:seed|pass(?:word|wd|phrase)?){_CLOSE}[ \t]*\|[ \t]*(?P<secret>[^|\n]*[^|\s])"
          r"(?![^\n]*\n[ \t]*\|?[ \t]*:?-+:?[ \t]*\|)"),  # not in a header row: see table-column
    _rule("table-column", ("seed", "pass"), "password",
          "the cells under a header cell ending in `seed` or `password`",
          r"^(?P<header>[^\n]*(?:seed|pass(?:word|wd|phrase)?)(?!\w)[^\n]*\|[^\n]*)\n"
          r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*\n"
          r"(?P<secret>(?:[^\n]*\|[^\n]*(?:\n|\Z))+)"),
    _rule("chpasswd", ("chpasswd",), "password", "the password of `user:password` fed to chpasswd",
          r"\b(?:echo|printf)[ \t]+(?:-[a-z]+[ \t]+)*[\"']?[\w.-]+:(?P<secret>[^\s\"'|:]+)"
          r"(?:\\n)?[\"']?[ \t]*\|[ \t]*(?:sudo[ \t]+)?chpasswd"),
    _rule("chpasswd-here-string", ("chpasswd",), "password", "the password after `chpasswd <<<`",
          r"\bchpasswd\b[^\n]*?<<<[ \t]*[\"']?[\w.-]+:(?P<secret>[^\s\"':]+)"),
    _rule("passwd-stdin", ("--stdin",), "password", "the echoed value piped into `passwd --stdin`",
          rf"\b(?:echo|printf)[ \t]+(?:-[a-z]+[ \t]+)*{_SHELL_VALUE}[ \t]*\|[ \t]*"
          r"(?:sudo[ \t]+)?passwd[ \t]+--stdin"),
    _rule("passwd-stdin-here-string", ("--stdin",), "password", "the value after `passwd --stdin ... <<<`",
          rf"\bpasswd[ \t]+--stdin\b[^\n]*?<<<[ \t]*{_SHELL_VALUE}"),
    _rule("usermod-p", ("usermod", "useradd"), "password", "the value of `usermod -p` / `useradd -p` / `--password`",
          rf"\b(?:usermod|useradd)\b[^\n]*?[ \t](?:-p|--password)[ \t=]+{_SHELL_VALUE}", 0),
    _rule("sshpass-p", ("sshpass",), "password", "the value of `sshpass -p`",
          rf"\bsshpass\b(?:[ \t]+-[a-oq-zA-Z]\S*)*[ \t]+-p[ \t]*{_SHELL_VALUE}", 0),
    _rule("openssl-passwd", ("openssl",), "password", "the plain text given to `openssl passwd`",
          r"\bopenssl[ \t]+passwd\b(?:[ \t]+-(?:salt[ \t]+\S+|in[ \t]+\S+|[a-z0-9]+))*"
          r"[ \t]+(?![-<|>])(?P<secret>\"[^\"\n]*\"|'[^'\n]*'|[^\s|;&<>)]+)"),
    _rule("mkpasswd", ("mkpasswd",), "password", "the plain text given to `mkpasswd`",
          r"\bmkpasswd\b(?:[ \t]+(?:-[mSR]|--method|--salt|--rounds)[ \t=]+\S+|[ \t]+-[a-z-]+)*+"
          r"[ \t]+(?![-<|>])(?P<secret>\"[^\"\n]*\"|'[^'\n]*'|[^\s|;&<>)]+)", 0),
    _rule("password-option", ("--pass",), "password", "the value of any `--password=x` / `--passwd x`",
          rf"(?<![\w-])--pass(?:word|wd)?(?![\w-])(?:=|[ \t]+){_SHELL_VALUE}", 0),
    _rule("mysql-p", ("mysql",), "password", "the value glued to `mysql -p`",
          r"\bmysql(?:dump|admin)?\b[^\n]*?[ \t]-p(?P<secret>[^\s|;&<>]+)", 0),
    _rule("curl-user", ("curl", "wget"), "password", "the password of `curl -u user:password`",
          r"\b(?:curl|wget)\b[^\n]*?[ \t](?:-u|--user)[ \t=]+[\"']?[^\s:\"']+:(?P<secret>[^\s\"']+)", 0),
    _rule("ssh-keygen-n", ("ssh-keygen",), "password", "the passphrase of `ssh-keygen -N`",
          rf"\bssh-keygen\b[^\n]*?[ \t]-N[ \t]*{_SHELL_VALUE}", 0),
    _rule("aws-access-key-id", AWS_PREFIXES, "cloud key", "the whole key id (`AKIA...`, `ASIA...`)",
          r"(?<![A-Z0-9])(?P<secret>(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)"
          r"[A-Z0-9]{16})(?![A-Z0-9])", 0),
    _rule("secret-key", ("secret", "api", "token", "accountkey"), "secret key", "the value (`aws_secret_access_key = x`, `secret_key: x`)",
          rf"{_SECRET_KEY}[ \t]*(?::(?!=)[ \t]*{COLON_VALUE}|{_EQUALS}[ \t]*{EQ_VALUE})"),
    _rule("url-password", ("://",), "password", "the password of `scheme://user:password@host`",
          r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:(?P<secret>[^\s@/]+)@"),
)
# fmt: on

# One cheap search before the rules: a text without any rule's words holds no secret.
TRIGGER_WORDS = tuple(sorted({w for r in RULES for w in r.words}))
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
    if not _triggered(_lower(text)) and not _has_specials(text):
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


SECRET_KEY_RE = re.compile(
    r"pass(?:word|wd|phrase)|secret|seed|credential|private[ _-]?key|api[ _-]?key|"
    r"access[ _-]?key|token|^pwd$|^pass$",
    re.I,
)


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
