"""What "verified" can mean: entries others can write, or owned by the wrong user, are flagged."""

from __future__ import annotations

import grp
import json
import os
import pwd
from pathlib import Path

import pytest

from tests.conftest import UNPRIVILEGED_UID, image_entries, read_catalog, run_cli, write_tree

IMG = "sl5.3_x86_32_sl05c_8GB_ec2"
OTHER = "sl6.4_x86_64_sl11a_10GB_plain"
ROOT_GROUP = grp.getgrgid(0).gr_name
ROOT_USER = pwd.getpwuid(0).pw_name
SETTLED = {"SOURCE_DATE_EPOCH": "4102444800"}  # 2100: far from the racy window

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = write_tree(
        tmp_path / "repo",
        {
            **image_entries(f"xen/{IMG}.img", b"STAR image bytes\n"),
            f"xen/{IMG}.txt": "A description.\n",
            **image_entries(f"kvm/{OTHER}.img", b"other bytes\n"),
        },
    )
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return root


def check(repo: Path, tmp_path: Path, config: str | None = None, command: str = "check"):
    extra = ["--state", str(tmp_path / "state")]
    if config is not None:
        (tmp_path / "catalog.yaml").write_text(config)
        extra += ["--config", str(tmp_path / "catalog.yaml")]
    return run_cli(command, "--repository", str(repo), *extra, env=SETTLED)


def flagged(stderr: str) -> set[tuple[str, str]]:
    """(path, code) of every trust warning, read from the one-line messages."""
    codes = {
        "is writable by every user": "world_writable",
        "which trusted-groups does not list": "untrusted_group_writable",
        "not by a user the owners setting lists": "unexpected_owner",
    }
    found = set()
    for line in stderr.splitlines():
        for text, code in codes.items():
            if text in line:
                assert line.startswith("'") and ": warning: " in line
                found.add((line[1:].split("'", 1)[0], code))
    return found


def test_a_tree_nobody_else_can_write_has_no_trust_warning(repo: Path, tmp_path: Path) -> None:
    done = check(repo, tmp_path, f"trusted-groups: [{ROOT_GROUP}]\nowners: [{ROOT_USER}]\n")
    assert done.returncode == 0, done.stderr
    assert flagged(done.stderr) == set()


def test_world_writable_images_sidecars_and_vm_directories_are_warnings(
    repo: Path, tmp_path: Path
) -> None:
    os.chmod(repo / f"xen/{IMG}.img", 0o666)
    os.chmod(repo / f"xen/{IMG}.checksum", 0o646)
    os.chmod(repo / f"xen/{IMG}.txt", 0o666)
    os.chmod(repo / "kvm", 0o777)
    done = check(repo, tmp_path)
    assert done.returncode == 0, done.stderr  # warnings only
    assert flagged(done.stderr) == {
        (f"xen/{IMG}.img", "world_writable"),
        (f"xen/{IMG}.checksum", "world_writable"),
        (f"xen/{IMG}.txt", "world_writable"),
        ("kvm", "world_writable"),
    }
    assert "(mode 0646)" in done.stderr and f"chmod o-w xen/{IMG}.checksum" in done.stderr


@needs_root
def test_group_writable_is_flagged_only_for_groups_not_trusted(repo: Path, tmp_path: Path) -> None:
    os.chmod(repo / f"xen/{IMG}.img", 0o664)  # group root
    os.chmod(repo / f"kvm/{OTHER}.img", 0o664)
    os.chown(repo / f"kvm/{OTHER}.img", -1, UNPRIVILEGED_UID)  # group nogroup
    assert flagged(check(repo, tmp_path).stderr) == set()  # no trusted-groups: check is off
    trusted = check(repo, tmp_path, f"trusted-groups: [{ROOT_GROUP}]\n")
    assert flagged(trusted.stderr) == {(f"kvm/{OTHER}.img", "untrusted_group_writable")}
    group = grp.getgrgid(UNPRIVILEGED_UID).gr_name
    assert f"writable by group '{group}' (gid {UNPRIVILEGED_UID})" in trusted.stderr
    nobody_trusted = check(repo, tmp_path, "trusted-groups: []\n")
    assert (f"xen/{IMG}.img", "untrusted_group_writable") in flagged(nobody_trusted.stderr)


@needs_root
def test_files_of_other_owners_are_flagged_when_owners_is_set(repo: Path, tmp_path: Path) -> None:
    os.chown(repo / f"xen/{IMG}.checksum", UNPRIVILEGED_UID, -1)
    os.chown(repo / "kvm", UNPRIVILEGED_UID, -1)
    assert flagged(check(repo, tmp_path).stderr) == set()  # no owners: check is off
    done = check(repo, tmp_path, f"owners: [{ROOT_USER}]\n")
    assert done.returncode == 0, done.stderr
    assert flagged(done.stderr) == {
        (f"xen/{IMG}.checksum", "unexpected_owner"),
        ("kvm", "unexpected_owner"),
    }
    nobody = pwd.getpwuid(UNPRIVILEGED_UID).pw_name
    assert f"owned by '{nobody}' (uid {UNPRIVILEGED_UID})" in done.stderr
    assert f"chown {ROOT_USER} xen/{IMG}.checksum" in done.stderr


def test_unknown_user_or_group_names_are_configuration_errors(repo: Path, tmp_path: Path) -> None:
    done = check(repo, tmp_path, "trusted-groups: [no-such-group-x]\nowners: [no-such-user-x]\n")
    assert done.returncode == 2
    assert "no group named 'no-such-group-x'" in done.stderr
    assert "no user named 'no-such-user-x'" in done.stderr
    empty = check(repo, tmp_path, "owners: []\n")
    assert empty.returncode == 2 and "expected at least one user name" in empty.stderr


def test_image_page_says_what_verified_means_and_who_else_can_write(
    repo: Path, tmp_path: Path
) -> None:
    os.chmod(repo / f"xen/{IMG}.checksum", 0o666)
    site = tmp_path / "site"
    done = check(repo, tmp_path, f"output: {site}\n", command="build")
    assert done.returncode == 0, done.stderr
    line = "Verified means the bytes match the <code>.checksum</code> beside them"
    flagged_page = (site / f"images/xen/{IMG}/index.html").read_text()
    clean_page = (site / f"images/kvm/{OTHER}/index.html").read_text()
    assert line in flagged_page and line in clean_page
    assert "Other people can write this image" in flagged_page
    assert "Other people can write this image" not in clean_page
    assert "is writable by every user" in flagged_page  # the warning is on its page
    images = {i["vm"]: i for i in read_catalog(site)["images"]}  # both: a size_mismatch too
    assert images["xen"]["status"] == "verified"
    assert images["xen"]["problem_count"] == images["kvm"]["problem_count"] + 1
    codes = {p["code"] for p in read_catalog(site)["problems"]}
    assert "world_writable" in codes


def test_verify_sees_a_chmod_although_it_reuses_reports_of_unchanged_trees(
    repo: Path, tmp_path: Path
) -> None:
    first = check(repo, tmp_path, command="verify")
    again = check(repo, tmp_path, command="verify")
    assert first.returncode == again.returncode == 0 and flagged(again.stderr) == set()
    os.chmod(repo / f"xen/{IMG}.img", 0o666)
    after = check(repo, tmp_path, command="verify")
    assert flagged(after.stderr) == {(f"xen/{IMG}.img", "world_writable")}
    os.chmod(repo / f"xen/{IMG}.img", 0o664)
    strict = check(repo, tmp_path, "trusted-groups: []\n", command="verify")
    assert flagged(strict.stderr) == {(f"xen/{IMG}.img", "untrusted_group_writable")}


def test_trust_warnings_are_in_catalog_json_as_problems(repo: Path, tmp_path: Path) -> None:
    os.chmod(repo / "xen", 0o777)
    site = tmp_path / "site"
    assert check(repo, tmp_path, f"output: {site}\n", command="build").returncode == 0
    problems = json.loads((site / "catalog.json").read_text())["problems"]
    assert [(p["path"], p["code"], p["severity"]) for p in problems if p["path"] == "xen"] == [
        ("xen", "world_writable", "warning")
    ]
