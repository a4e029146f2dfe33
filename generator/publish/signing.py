"""Detached GnuPG signatures (`sign-with: KEYID`) of the SUMS files and catalog.json.

A site whose signing fails is still published, unsigned, with a `signing_failed` error: a
missing key must not stop the catalog, and no signature is left that no longer matches its
file (the publisher removes what the new site does not have).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterable
from typing import BinaryIO

from generator.problems import Problem, problem
from generator.site.deferred import parts_of
from generator.site.sums import SUMS_NAMES

SIGNED = (*SUMS_NAMES.values(), "catalog.json")
GPG_TIMEOUT = 120  # seconds per signature: an agent asking for a passphrase must not hang cron


def signing_problem(key: str) -> Problem | None:
    """None when GnuPG holds a secret key `key` can sign with, else the problem to show.

    Asked before rendering, so the problem reaches catalog.json and the problems page too.
    """
    listed = _gpg(["--list-secret-keys", "--with-colons", "--", key], ())
    if isinstance(listed, str):
        return _failed(key, listed)
    return None if listed.startswith(b"sec:") else _failed(key, "no secret key matches it")


def signatures(files: dict[str, bytes], key: str) -> tuple[dict[str, bytes], Problem | None]:
    """`NAME.asc` (ASCII armour) for each file to sign that the site has; on any failure no
    signature at all, and the problem."""
    made = {}
    for name in SIGNED:
        if name not in files:
            continue
        arguments = ["--armor", "--detach-sign", "--local-user", key, "--output", "-"]
        signed = _gpg(arguments, parts_of(files[name]))
        if isinstance(signed, str):
            return {}, _failed(key, signed)
        made[f"{name}.asc"] = signed
    return made, None


def _gpg(arguments: list[str], parts: Iterable[bytes]) -> bytes | str:
    """gpg's standard output, or the reason it failed (its last message line).

    Its input, `parts`, goes through a temporary file written part by part rather than a pipe
    fed from one bytes object: catalog.json is signed without being joined
    (`site.deferred.Chunked`).
    """
    command = ["gpg", "--batch", "--no-tty", "--quiet", *arguments]
    try:
        given = _input_file(parts)
    except OSError as exc:  # no usable temporary folder, or a full one
        return f"cannot give gpg its input through a temporary file: {exc.strerror or exc}"
    try:
        with given:
            done = subprocess.run(command, stdin=given, capture_output=True, timeout=GPG_TIMEOUT)
    except FileNotFoundError:
        return "gpg is not installed (Debian: gnupg)"
    except subprocess.TimeoutExpired:
        return f"gpg gave no answer in {GPG_TIMEOUT} s (waiting for a passphrase?)"
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return lines[-1].removeprefix("gpg: ") if lines else f"gpg exited {done.returncode}"
    return done.stdout


def _input_file(parts: Iterable[bytes]) -> BinaryIO:
    """A temporary file holding the parts, open at its start (closed on failure)."""
    given = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it)
    try:
        given.writelines(parts)
        given.seek(0)
    except BaseException:
        given.close()
        raise
    return given


def _failed(key: str, detail: str) -> Problem:
    return problem("signing_failed", "catalog.json", key=key, detail=detail)
