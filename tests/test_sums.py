"""The digests beside MD5: the `digests` setting, catalog.json's sha256/sha512, the SUMS files
checked by the real coreutils, and an upgraded digest set filled in within the budgets."""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.conftest import directory_image, image_entries, read_catalog, run_cli, write_tree

IMG = "sl7.3_x86_64_sl20a_8GB"
FAR = {"SOURCE_DATE_EPOCH": "4102444800"}  # 2100: every stored digest is past the racy window
MIB = 1 << 20


def build_with(
    tmp_path: Path, repo: Path, settings: dict[str, object], env: dict[str, str] | None = None
) -> CompletedProcess:
    """`star-vm-catalog build` of `repo` into tmp_path/site, with a configuration file."""
    config = tmp_path / "catalog.yaml"
    config.write_text(json.dumps(settings))  # JSON is YAML
    site, state = tmp_path / "site", tmp_path / "state"
    return run_cli(
        "build", "--repository", str(repo), "--output", str(site), "--state", str(state),
        "--config", str(config), env={**FAR, **(env or {})},
    )  # fmt: skip


def build(tmp_path: Path, repo: Path, *digests: str, budget: str = "") -> CompletedProcess:
    """A build with this digest set (and hash budget)."""
    settings: dict[str, object] = {"digests": list(digests)} if digests else {}
    return build_with(tmp_path, repo, settings | ({"hash-budget": budget} if budget else {}))


def check_sums(repo: Path, site: Path, tool: str, name: str) -> CompletedProcess:
    """Exactly the command the README gives: run in the repository, the SUMS file of the site."""
    command = f"cd {shlex.quote(str(repo))} && {tool} -c {shlex.quote(str(site))}/{name}"
    return subprocess.run(command, shell=True, capture_output=True, text=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Two good single-file images (one with a name md5sum escapes), a directory image and one
    whose bytes no longer match its .checksum."""
    odd = f"xen/{IMG}_back\\slash.img"
    files = {
        **image_entries(f"xen/{IMG}_good.img", b"good bytes\n" * 1000),
        **image_entries(odd, b"odd name\n"),
        **directory_image(f"kvm/{IMG}_split", {"a.vmdk": b"first\n", "b.vmdk": b"second\n"}),
        **image_entries(f"xen/{IMG}_bad.img", b"original\n"),
    }
    root = write_tree(tmp_path / "repo", files)
    (root / f"xen/{IMG}_bad.img").write_bytes(b"corrupted\n")
    return root


def test_sums_files_pass_the_coreutils_check_in_the_repository(tmp_path: Path, repo: Path) -> None:
    done = build(tmp_path, repo)
    assert done.returncode == 1, done.stderr  # the corrupted image
    site = tmp_path / "site"
    assert not (site / "SHA512SUMS").exists()  # not configured
    listed = {
        f"xen/{IMG}_good.img",
        f"xen/{IMG}_back\\slash.img",
        f"kvm/{IMG}_split/a.vmdk",
        f"kvm/{IMG}_split/b.vmdk",
    }
    for tool, name in (("md5sum", "MD5SUMS"), ("sha256sum", "SHA256SUMS")):
        checked = check_sums(repo, site, tool, name)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert {line.removesuffix(": OK") for line in checked.stdout.splitlines()} == listed
    assert b"_bad.img" not in (site / "MD5SUMS").read_bytes()
    (repo / f"xen/{IMG}_good.img").write_bytes(b"changed after the build\n")
    assert check_sums(repo, site, "sha256sum", "SHA256SUMS").returncode == 1


def test_catalog_json_carries_sha256_and_on_request_sha512(tmp_path: Path, repo: Path) -> None:
    build(tmp_path, repo, "md5", "sha256", "sha512")
    images = {i["id"]: i for i in read_catalog(tmp_path / "site")["images"]}
    good = images[f"xen/{IMG}_good"]
    data = (repo / f"xen/{IMG}_good.img").read_bytes()
    assert good["sha256"] == hashlib.sha256(data).hexdigest()
    assert good["sha512"] == hashlib.sha512(data).hexdigest()
    split = images[f"kvm/{IMG}_split"]
    assert "sha256" not in split  # a directory image's digests are its members'
    member = {m["name"]: m for m in split["members"]}["b.vmdk"]
    assert member["sha256"] == hashlib.sha256(b"second\n").hexdigest()
    assert member["sha512"] == hashlib.sha512(b"second\n").hexdigest()
    checked = check_sums(repo, tmp_path / "site", "sha512sum", "SHA512SUMS")
    assert checked.returncode == 0 and checked.stdout.count(": OK") == 4


def test_a_name_with_a_newline_is_escaped_as_coreutils_does(tmp_path: Path) -> None:
    name = f"{IMG}_new\nline.img"
    repo = write_tree(tmp_path / "repo", image_entries(f"xen/{name}", b"bytes\n"))
    build(tmp_path, repo)
    sums = (tmp_path / "site" / "SHA256SUMS").read_text()
    digest = hashlib.sha256(b"bytes\n").hexdigest()
    assert sums == f"\\{digest}  xen/{IMG}_new\\nline.img\n"
    checked = check_sums(repo, tmp_path / "site", "sha256sum", "SHA256SUMS")
    assert checked.returncode == 0 and checked.stdout.endswith(": OK\n")


def test_an_added_digest_is_filled_in_within_the_hash_budget(tmp_path: Path) -> None:
    big, small = f"xen/{IMG}_big.img", f"xen/{IMG}_small.img"
    files = {**image_entries(big, b"b" * (3 * MIB)), **image_entries(small, b"s" * MIB)}
    repo = write_tree(tmp_path / "repo", files)
    first = build(tmp_path, repo, "md5")
    assert "2 files hashed" in first.stderr and first.returncode == 0
    assert not (tmp_path / "site" / "SHA256SUMS").exists()
    upgraded = build(tmp_path, repo, "md5", "sha256", budget="2MB")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "1 files hashed (1048576 bytes read), 1 digests reused" in upgraded.stderr
    images = {i["id"]: i for i in read_catalog(tmp_path / "site")["images"]}
    assert {i["status"] for i in images.values()} == {"verified"}  # none pending meanwhile
    assert "sha256" not in images[big[:-4]] and images[big[:-4]]["md5"]  # shown without it
    assert images[small[:-4]]["sha256"] == hashlib.sha256(b"s" * MIB).hexdigest()
    assert (tmp_path / "site" / "SHA256SUMS").read_text().count("\n") == 1
    (repo / small).write_bytes(b"t" * MIB)  # a changed file gets every digest, budget or not
    (repo / f"xen/{IMG}_small.checksum").write_text(
        f"{hashlib.md5(b't' * MIB).hexdigest()}  {IMG}_small.img\n"
    )
    changed = build(tmp_path, repo, "md5", "sha256", budget="2MB")
    assert "1 files hashed (1048576 bytes read), 1 digests reused" in changed.stderr
    later = build(tmp_path, repo, "md5", "sha256", budget="4MB")
    assert "1 files hashed (3145728 bytes read), 1 digests reused" in later.stderr
    images = {i["id"]: i for i in read_catalog(tmp_path / "site")["images"]}
    assert images[big[:-4]]["sha256"] == hashlib.sha256(b"b" * (3 * MIB)).hexdigest()
    assert images[small[:-4]]["sha256"] == hashlib.sha256(b"t" * MIB).hexdigest()
    assert check_sums(repo, tmp_path / "site", "sha256sum", "SHA256SUMS").returncode == 0


def test_an_unknown_digest_is_a_configuration_error(tmp_path: Path, repo: Path) -> None:
    done = build(tmp_path, repo, "md5", "crc32")
    assert done.returncode == 2
    assert "key 'digests': 'crc32': unknown digest algorithm" in done.stderr


def test_lines_are_sorted_by_their_bytes_with_names_beyond_ascii(tmp_path: Path) -> None:
    """Lines are sorted as text when all are ASCII; a name beyond ASCII sorts them by bytes."""
    names = [f"xen/{IMG}_caf\u00e9.img", f"xen/{IMG}_plain.img", f"kvm/{IMG}_\u00fcber.img"]
    files = {}
    for n, name in enumerate(names):
        files |= image_entries(name, f"image {n}\n".encode())
    repo = write_tree(tmp_path / "repo", files)
    build(tmp_path, repo)
    for tool, name in (("md5sum", "MD5SUMS"), ("sha256sum", "SHA256SUMS")):
        sums = (tmp_path / "site" / name).read_bytes()
        lines = sums.splitlines(keepends=True)
        assert len(lines) == 3 and lines == sorted(lines)
        assert check_sums(repo, tmp_path / "site", tool, name).returncode == 0
