"""Text bound for a terminal, a log or a shell, made from names nobody vetted.

Repository names may hold any byte but `/` and NUL. Printed raw, an escape sequence recolours
or rewrites the reader's terminal and a newline forges a line in cron mail; pasted raw into a
shell, `a;rm -rf ~;b.img` runs. Everything printed goes through `printable`, and every command
shown to a person is built by `command`.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from collections.abc import Iterable

# Characters that reorder what follows them on screen (Trojan Source) or end a line in some
# viewers; Python calls most of them printable, so they are listed by hand.
INVISIBLE = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
)


# The same set as one pattern (C0, DEL, C1, surrogates, the list above), so that the usual
# name, which has none, is checked by one regex search instead of a call per character.
UNSAFE_RE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff" + "".join(sorted(INVISIBLE)) + "]")


def unsafe(char: str) -> bool:
    """A character that must not reach a terminal as itself: controls, bidi, surrogates."""
    if char in INVISIBLE:
        return True
    return unicodedata.category(char) in ("Cc", "Cs") or char == "\x7f"


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every unsafe character written as `\\xNN` or `\\uNNNN`: one visible line.

    Applying it twice changes nothing, so layers may each make sure.
    """
    if not UNSAFE_RE.search(text):
        return text
    return "".join(_escape(char) if unsafe(char) else char for char in text)


def quote(name: str) -> str:
    """One shell word that the shell reads back as exactly `name`, in printable characters.

    Plain names get POSIX single quotes (`shlex.quote`); a name holding an unsafe character
    gets bash's `$'...'` form with that character's bytes as `\\xNN`, so the command survives
    `printable` unchanged and still names the real file.
    """
    if not UNSAFE_RE.search(name):
        return shlex.quote(name)
    parts = []
    for char in name:
        if unsafe(char) or char in "'\\":
            data = char.encode("utf-8", "surrogateescape")
            parts.append("".join(f"\\x{byte:02x}" for byte in data))
        else:
            parts.append(char)
    return "$'" + "".join(parts) + "'"


def command(*words: str, names: Iterable[str] = (), output: str | None = None) -> str:
    """A command safe to paste: `words -- names > output`.

    `words` are the program and options we chose (trusted, shown as they are); every name
    from the repository is quoted and comes after `--`, so `-rf_x.img` is never an option.
    """
    quoted = [quote(name) for name in names]
    parts = [*words, *(["--", *quoted] if quoted else [])]
    if output is not None:
        parts += [">", quote(output)]
    return " ".join(parts)
