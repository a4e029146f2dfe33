"""Output that cannot be turned against a reader: escaped terminal text, pasteable commands."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from generator.shell import command, printable, quote
from tests.conftest import run_cli, sums, write_tree

# Names an attacker with write access to the repository might choose; all valid file names.
HOSTILE = [
    "a;touch${IFS}x;b_x86_64_sl05c_2GB.img",
    "-rf_x86_64_sl05c_2GB.img",
    "$(touch x)_x86_64_sl05c_2GB.img",
    "`touch x`_x86_64_sl05c_2GB.img",
    "it's_x86_64_sl05c_2GB.img",
    'q"uote_x86_64_sl05c_2GB.img',
    "sp ace *_x86_64_sl05c_2GB.img",
    "back\\slash_x86_64_sl05c_2GB.img",
    "new\nline;touch x_x86_64_sl05c_2GB.img",
    "esc\x1b[31m\x1b]0;owned\x07_x86_64_sl05c_2GB.img",
    "bidi\u202egpj.exe_x86_64_sl05c_2GB.img",
    "cr\r2026-01-01 fake line_x86_64_sl05c_2GB.img",
]

UNSAFE_CHARS = [
    "\x00",
    "\x07",
    "\x1b",
    "\n",
    "\r",
    "\t",
    "\x7f",
    "\x85",
    "\x9b",
    "\u202e",
    "\u2066",
]


@pytest.mark.parametrize("char", UNSAFE_CHARS)
def test_printable_escapes_controls_and_bidi(char: str) -> None:
    shown = printable(f"a{char}b")
    assert char not in shown
    assert shown.isprintable()
    assert shown.startswith("a\\") and shown.endswith("b")


def test_printable_keeps_ordinary_text_and_is_idempotent() -> None:
    text = "'xen/sl5.3_x86_64 é ü 漢字.img': error: it's fine (run: md5sum -- 'a b')"
    assert printable(text) == text
    hostile = "x\x1b[2J\ny\u202ez"
    assert printable(printable(hostile)) == printable(hostile) == "x\\x1b[2J\\x0ay\\u202ez"


def test_printable_shows_undecodable_bytes_as_bytes() -> None:
    name = os.fsdecode(b"bad\xff.img")
    assert printable(name) == "bad\\xff.img"


def _bash_word(word: str, cwd: Path) -> bytes:
    """What bash makes of one shell word: its argument, byte for byte."""
    done = subprocess.run(
        ["bash", "-c", f"printf %s {word}"], cwd=cwd, capture_output=True, check=True
    )
    return done.stdout


@pytest.mark.parametrize("name", [*HOSTILE, os.fsdecode(b"latin\xe9_x86.img")])
def test_quote_reads_back_as_the_name_and_runs_nothing(name: str, tmp_path: Path) -> None:
    word = quote(name)
    assert printable(word) == word, "the quoted word must survive the terminal escaping"
    assert _bash_word(word, tmp_path) == os.fsencode(name)
    assert list(tmp_path.iterdir()) == []


def test_command_puts_names_after_double_dash() -> None:
    assert command("md5sum", names=["-rf.img"], output="-rf.checksum") == (
        "md5sum -- -rf.img > -rf.checksum"
    )
    assert command("md5sum", "-c", names=["a b.checksum"]) == "md5sum -c -- 'a b.checksum'"
    assert command("true") == "true"


def _mismatched_repository(root: Path, name: str) -> Path:
    """One image whose `.checksum` names another file: a `checksum_name_mismatch` hint."""
    stem = name.rsplit(".", 1)[0]
    write_tree(root, {
        f"xen/{name}": b"image bytes\n", "xen/other.img": b"image bytes\n",
        f"xen/{stem}.checksum": sums("other.img"),
    })  # fmt: skip
    sidecar = root / "xen" / f"{stem}.checksum"
    (root / "xen" / "other.img").unlink()
    return sidecar


PASTED = HOSTILE


@pytest.mark.parametrize("name", PASTED)
def test_pasted_hint_regenerates_the_checksum_and_nothing_else(name: str, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    sidecar = _mismatched_repository(root, name)
    args = ("verify", "--repository", str(root), "--state", str(tmp_path / "state"))
    first = run_cli(*args)
    line = next(ln for ln in first.stderr.splitlines() if "checksum names" in ln)
    pasted = line[line.index("md5sum -- ") : line.rindex(")")]  # what a person copies from mail
    before = sorted(os.listdir(root / "xen"))
    subprocess.run(["bash", "-c", pasted], cwd=root / "xen", check=True, capture_output=True)
    assert sorted(os.listdir(root / "xen")) == before, "the command created a stray file"
    assert not (tmp_path / "x").exists()
    check = subprocess.run(["md5sum", "-c", "--", sidecar.name], cwd=sidecar.parent)
    assert check.returncode == 0, "the regenerated sidecar does not check the image"
    again = run_cli(*args)
    assert "checksum names" not in again.stderr
    assert again.stderr.rstrip().endswith(", 0 integrity failures"), again.stderr


def test_terminal_and_log_get_one_escaped_line_per_problem(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    names = [n for n in HOSTILE if any(c in n for c in "\n\r\x1b\u202e")]
    write_tree(root, {f"xen/{name}": b"no checksum\n" for name in names})
    log = tmp_path / "run.log"
    done = run_cli(
        "check", "--repository", str(root), "--state", str(tmp_path / "s"), "--log-file", str(log)
    )
    logged = log.read_text()
    for text in (done.stderr, logged):
        assert not any(c in text for c in "\r\x1b\x07\u202e")
        for name in names:
            assert printable(f"xen/{name}") in text
    assert all(ln.startswith("'xen/") or " images, " in ln for ln in done.stderr.splitlines())
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 check: ")
    assert all(stamp.match(ln) for ln in logged.splitlines()), logged
