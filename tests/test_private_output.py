"""The members-only copy: seed commands for the people who need them, never on the public site."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from tests.conftest import image_entries, read_catalog, run_cli, write_tree

IMG = "sl5.3_x86_32_sl05c_8GB_ec2"
SEED = "Zq8xK3seedvalue"
KEY_SECRET = "Wv7pL2frontmatter"
DESCRIPTION = f"""---
kernel: 2.6.18
access_note: ask the STAR VM administrator
root_seed: {KEY_SECRET}
---
Set the root password after the first boot:

    SEED={SEED}
    echo "$SEED" | openssl passwd -1 -stdin
"""
PRIVATE_URL = "https://www.star.bnl.gov/members/vm/"
SETTLED = {"SOURCE_DATE_EPOCH": "4102444800"}  # 2100: far from the racy window, nothing re-read


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = write_tree(
        tmp_path / "repo",
        {
            **image_entries(f"xen/{IMG}.img", b"STAR image bytes\n"),
            f"xen/{IMG}.txt": DESCRIPTION,
            **image_entries("kvm/sl6.4_x86_64_sl11a_10GB_plain.img", b"other bytes\n"),
            "kvm/sl6.4_x86_64_sl11a_10GB_plain.txt": "No secret here.\n",
        },
    )
    return root


def build(repo: Path, tmp_path: Path, *extra: str):
    return run_cli("build", "--repository", str(repo), "--output", str(tmp_path / "site"),
                   "--state", str(tmp_path / "state"), *extra, env=SETTLED)  # fmt: skip


def private_build(repo: Path, tmp_path: Path, *extra: str):
    return build(repo, tmp_path, "--private-output", str(tmp_path / "members"), *extra)


def files_under(*roots: Path) -> dict[Path, bytes]:
    """Every regular file below `roots`, symlinks not followed (the copies are walked directly)."""
    found = {}
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                found[path] = path.read_bytes()
    return found


def page(site: Path, image_id: str) -> str:
    return (site / "images" / image_id / "index.html").read_text()


def test_the_private_copy_has_the_seed_and_nothing_of_it_reaches_the_public_output(
    repo: Path, tmp_path: Path
) -> None:
    done = private_build(repo, tmp_path, "--private-base-url", PRIVATE_URL)
    assert done.returncode == 0, done.stderr
    public = files_under(tmp_path / ".site.builds", tmp_path / "state")
    assert any(p.name == "state.sqlite" for p in public) and len(public) > 10
    for secret in (SEED, KEY_SECRET):
        leaks = [str(p) for p, data in public.items() if secret.encode() in data]
        assert leaks == [], f"{secret} published in {leaks}"
        assert secret not in done.stderr + done.stdout
    members = tmp_path / "members"
    private_page = page(members, f"xen/{IMG}")
    assert f"SEED={SEED}" in private_page and KEY_SECRET in private_page
    assert '<meta name="robots" content="noindex, nofollow">' in private_page
    assert "Members-only copy" in private_page
    assert not (members / "sitemap.xml").exists() and (tmp_path / "site/sitemap.xml").exists()
    for path in members.rglob("*.html"):
        assert 'name="robots" content="noindex' in path.read_text(), path
    assert SEED.encode() not in (members / "catalog.json").read_bytes()


def test_public_page_shows_the_access_note_and_links_to_the_private_copy(
    repo: Path, tmp_path: Path
) -> None:
    assert private_build(repo, tmp_path, "--private-base-url", PRIVATE_URL).returncode == 0
    public_page = page(tmp_path / "site", f"xen/{IMG}")
    assert '<p id="access-note">ask the STAR VM administrator</p>' in public_page
    assert f'href="{PRIVATE_URL}images/xen/{IMG}/"' in public_page
    assert "noindex" not in public_page and "(redacted)" in public_page
    assert read_catalog(tmp_path / "site")["images"][1]["access_note"].startswith("ask the")
    plain = page(tmp_path / "site", "kvm/sl6.4_x86_64_sl11a_10GB_plain")
    assert 'id="access"' not in plain and PRIVATE_URL not in plain
    assert 'id="private-copy"' not in page(tmp_path / "members", f"xen/{IMG}")


def test_access_note_alone_needs_no_private_output(repo: Path, tmp_path: Path) -> None:
    assert build(repo, tmp_path).returncode == 0
    public_page = page(tmp_path / "site", f"xen/{IMG}")
    assert '<p id="access-note">ask the STAR VM administrator</p>' in public_page
    assert 'id="private-copy"' not in public_page
    assert not (tmp_path / "members").exists()


def test_a_seed_edit_republishes_only_the_private_copy(repo: Path, tmp_path: Path) -> None:
    assert private_build(repo, tmp_path).returncode == 0
    site_target = os.readlink(tmp_path / "site")
    members_target = os.readlink(tmp_path / "members")
    (repo / f"xen/{IMG}.txt").write_text(DESCRIPTION.replace(SEED, "NewSeed42value"))
    done = private_build(repo, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "site unchanged; members-only copy published" in done.stderr
    assert os.readlink(tmp_path / "site") == site_target
    assert os.readlink(tmp_path / "members") != members_target
    assert "SEED=NewSeed42value" in page(tmp_path / "members", f"xen/{IMG}")
    again = private_build(repo, tmp_path)
    assert again.returncode == 0 and "members-only copy published" not in again.stderr


def test_private_output_from_the_configuration_file(repo: Path, tmp_path: Path) -> None:
    config = tmp_path / "catalog.yaml"
    config.write_text(f"private-output: {tmp_path / 'members'}\nprivate-base-url: {PRIVATE_URL}\n")
    assert build(repo, tmp_path, "--config", str(config)).returncode == 0
    assert f"SEED={SEED}" in page(tmp_path / "members", f"xen/{IMG}")
    assert PRIVATE_URL in page(tmp_path / "site", f"xen/{IMG}")


@pytest.mark.parametrize(
    ("where", "overlaps"),
    [
        ("site", "--output"),
        ("site/members", "--output"),
        (".site.builds/members", "--output"),
        (".", "--output"),
        ("repo/members", "--repository"),
        ("repo", "--repository"),
        ("state/members", "--state"),
    ],
)
def test_an_overlapping_private_output_is_refused(
    repo: Path, tmp_path: Path, where: str, overlaps: str
) -> None:
    private = tmp_path / where
    done = build(repo, tmp_path, "--private-output", str(private))
    assert done.returncode == 2, done.stderr
    assert "(--private-output)" in done.stderr and f"({overlaps})" in done.stderr
    assert not (tmp_path / "site").exists() and not (tmp_path / "repo/members").exists()


def test_overlap_is_refused_after_the_site_exists(repo: Path, tmp_path: Path) -> None:
    """Once published, `site` is a symlink into `.site.builds/a`: inside it is still refused."""
    assert build(repo, tmp_path).returncode == 0
    done = build(repo, tmp_path, "--private-output", str(tmp_path / "site/members"))
    assert done.returncode == 2 and "(--private-output)" in done.stderr
    assert "(--output)" in done.stderr
    assert not (tmp_path / ".site.builds/a/members").exists()


def test_the_private_output_has_its_own_lock(repo: Path, tmp_path: Path) -> None:
    lock = tmp_path / ".members.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        done = private_build(repo, tmp_path)
    finally:
        os.close(fd)
    assert done.returncode == 75 and "private output" in done.stderr
    assert private_build(repo, tmp_path).returncode == 0
