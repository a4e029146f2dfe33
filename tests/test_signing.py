"""`sign-with`: detached ASCII signatures of the SUMS files and catalog.json, made by the real
gpg with a throwaway key and verified by `gpg --verify`; a key gpg cannot use is an error that
still publishes the site, unsigned."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from generator.build import build as run_build
from tests.conftest import config_for, image_entries, read_catalog, write_tree
from tests.test_sums import build_with

IMG = "xen/sl7.3_x86_64_sl20a_8GB_signed.img"
UID = "STAR VM catalog test <catalog-test@example.org>"
SIGNED = ("MD5SUMS", "SHA256SUMS", "catalog.json")


@pytest.fixture
def gnupg_home() -> Iterator[dict[str, str]]:
    """A new GnuPG home holding one key without passphrase; its agent is stopped afterwards.

    Made under /tmp with a short name: gpg-agent's socket path must fit in 108 bytes.
    """
    home = tempfile.mkdtemp(prefix="gpg", dir="/tmp")
    env = {**os.environ, "GNUPGHOME": home}
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", UID, "default", "default"],
        env=env,
        check=True,
        capture_output=True,
    )
    try:
        yield {"GNUPGHOME": home}
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def build(tmp_path: Path, key: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    repo = write_tree(tmp_path / "repo", image_entries(IMG, b"signed bytes\n"))
    return build_with(tmp_path, repo, {"sign-with": key}, env)


def assert_good_signature(site: Path, name: str, gnupg_home: dict[str, str]) -> None:
    """`gpg --verify NAME.asc NAME` in the site folder (the README's command, as written)."""
    checked = subprocess.run(
        ["gpg", "--verify", f"{name}.asc", name],
        cwd=site,
        env={**os.environ, **gnupg_home},
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0 and "Good signature" in checked.stderr, checked.stderr


def test_signatures_verify_with_gpg(tmp_path: Path, gnupg_home: dict[str, str]) -> None:
    done = build(tmp_path, "catalog-test@example.org", gnupg_home)
    assert done.returncode == 0, done.stderr
    site = tmp_path / "site"
    for name in SIGNED:
        signature = (site / f"{name}.asc").read_bytes()
        assert signature.startswith(b"-----BEGIN PGP SIGNATURE-----")
        assert_good_signature(site, name, gnupg_home)
    assert not (site / "SHA512SUMS.asc").exists()
    (site / "MD5SUMS").write_text((site / "SHA256SUMS").read_text())  # a forged file fails
    forged = subprocess.run(
        ["gpg", "--verify", str(site / "MD5SUMS.asc"), str(site / "MD5SUMS")],
        env={**os.environ, **gnupg_home},
        capture_output=True,
    )
    assert forged.returncode == 1


def test_an_unknown_key_publishes_unsigned_with_an_error(
    tmp_path: Path, gnupg_home: dict[str, str]
) -> None:
    done = build(tmp_path, "nobody@example.org", gnupg_home)
    assert done.returncode == 1
    assert "cannot sign with key 'nobody@example.org'" in done.stderr
    assert "published without signatures" in done.stderr
    site = tmp_path / "site"
    assert (site / "index.html").is_file() and (site / "SHA256SUMS").is_file()
    assert not list(site.glob("*.asc"))
    problems = {p["code"]: p for p in read_catalog(site)["problems"]}
    assert problems["signing_failed"]["severity"] == "error"
    assert "No secret key" in problems["signing_failed"]["message"]


def test_a_key_that_reads_as_an_option_is_refused(tmp_path: Path) -> None:
    done = build(tmp_path, "--export-secret-keys", {})
    assert done.returncode == 2 and "key 'sign-with': expected a GnuPG key id" in done.stderr
    assert not (tmp_path / "site").exists()


def test_a_large_catalog_is_signed_through_a_pipe_without_a_temporary_file(
    tmp_path: Path, gnupg_home: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """gpg reads what it signs from a pipe, fed part by part while its answer is read: a
    catalog.json many times the size of a pipe's buffer is signed whole, and nothing is
    written into the temporary folder (here one that cannot hold a file at all)."""
    monkeypatch.setenv("GNUPGHOME", gnupg_home["GNUPGHOME"])
    not_a_folder = tmp_path / "tmp"
    not_a_folder.write_text("a file where the temporary folder should be\n")
    monkeypatch.setattr(tempfile, "tempdir", str(not_a_folder))
    files: dict = {}
    for n in range(40):
        text = f"# Image {n}\n\n" + f"Worker image {n} for grid jobs. " * 150 + "\n"
        files |= image_entries(f"xen/sl7.{n}_x86_64_sl20a_8GB_big.img", f"bytes {n}\n", text)
    write_tree(tmp_path / "repo", files)
    config = replace(config_for(tmp_path), sign_with="catalog-test@example.org")
    result = run_build(config)
    assert not [p for p in result.summary.problems if p.code == "signing_failed"]
    site = tmp_path / "site"
    assert (site / "catalog.json").stat().st_size > 3 * 65536  # a pipe buffers 64 KiB
    for name in SIGNED:
        assert_good_signature(site, name, gnupg_home)
