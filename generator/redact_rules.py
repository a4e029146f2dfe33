"""The one table of secret forms the redaction looks for, and the keys that name a secret.

Each rule is a regular expression whose `secret` group is replaced; `generator.redact` runs
them over a normalised copy of the text. Each has a positive and a near-miss fixture in
tests/test_redact.py, and the README lists the same rules.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

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

# Front matter keys that name a secret, at any depth: their whole value is replaced.
SECRET_KEY_RE = re.compile(
    r"pass(?:word|wd|phrase)|secret|seed|credential|private[ _-]?key|api[ _-]?key|"
    r"access[ _-]?key|token|^pwd$|^pass$",
    re.I,
)
