"""Detached GnuPG signatures (`sign-with: KEYID`) of the SUMS files and catalog.json.

A site whose signing fails is still published, unsigned, with a `signing_failed` error: a
missing key must not stop the catalog, and no signature is left that no longer matches its
file (the publisher removes what the new site does not have).
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
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

    Its input, `parts`, goes down a pipe part by part from a thread of its own while this one
    reads gpg's answer: catalog.json is signed without being joined
    (`site.deferred.Chunked`) and without a copy of it anywhere (at 100,000 images it is some
    150 MB, more than a small temporary folder holds).
    """
    command = ["gpg", "--batch", "--no-tty", "--quiet", *arguments]
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except FileNotFoundError:
        return "gpg is not installed (Debian: gnupg)"
    pipe, process.stdin = process.stdin, None  # fed by the thread; `communicate` leaves it be
    failed: list[Exception] = []  # what stopped the parts being made: no signature then
    feeder = threading.Thread(target=_feed, args=(pipe, parts, failed), name="gpg input")
    feeder.start()
    try:
        output, errors = process.communicate(timeout=GPG_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return f"gpg gave no answer in {GPG_TIMEOUT} s (waiting for a passphrase?)"
    finally:
        feeder.join()  # gpg has exited: a write still pending fails at once (EPIPE)
    if failed:
        return f"cannot give gpg the file to sign: {failed[0]}"
    if process.returncode != 0:
        lines = errors.decode("utf-8", "replace").strip().splitlines()
        return lines[-1].removeprefix("gpg: ") if lines else f"gpg exited {process.returncode}"
    return output


def _feed(pipe: BinaryIO, parts: Iterable[bytes], failed: list[Exception]) -> None:
    """Write the parts into gpg's standard input and close it. A gpg that stopped reading
    (failed, killed) ends the writing, and its exit status tells why; an error making the
    parts is kept in `failed`, so that what gpg signed of them is thrown away."""
    try:
        for part in parts:
            pipe.write(part)
    except BrokenPipeError:
        pass
    except Exception as exc:  # reported by the caller, not lost with the thread
        failed.append(exc)
    finally:
        with contextlib.suppress(BrokenPipeError):
            pipe.close()


def _failed(key: str, detail: str) -> Problem:
    return problem("signing_failed", "catalog.json", key=key, detail=detail)
