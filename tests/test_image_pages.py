"""Image pages and the problems page as built HTML: the damaged-image warning, siblings across
VM software, dates, and fix commands set apart for copying (and run here as the page shows them).
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from generator.problems import problem
from generator.site.fixes import IN_REPOSITORY, Fix, fix_of
from tests.conftest import build_site, image_entries, run_cli, write_tree
from tests.parsed_html import Node, read_page

BATCH = "sl6.4_x86_64_sl11d_20GB_batch"


def fix_commands(page: Node) -> dict[str, str]:
    """Each copyable fix command by its element id, as written (the copy button copies it)."""
    rows = page.find_all("div", cls="fix-command")
    commands = {}
    for row in rows:
        code = row.find("code")
        button = row.find("button")
        assert button.attrs["data-copy-target"] == code.attrs["id"]
        commands[str(code.attrs["id"])] = code.raw_text()
    return commands


def test_a_hint_that_is_a_command_with_words_after_it_is_split() -> None:
    group = problem(
        "untrusted_group_writable", "xen/a.img", what="a", group="g", quoted="xen/a.img"
    )
    assert fix_of(group, "f") == Fix(
        "f", IN_REPOSITORY, "chmod g-w xen/a.img", "Or add the group to trusted-groups."
    )
    missing = problem("missing_checksum", "xen/a.checksum", command="md5sum -- a.img > a.checksum")
    assert fix_of(missing, "g") == Fix(
        "g", "create it: in the VM directory, run:", "md5sum -- a.img > a.checksum"
    )
    words = problem("size_mismatch", "xen/a.img", detail="qcow2: 2 GiB")
    assert fix_of(words, "h") == Fix("h", words.hint)


def test_fix_commands_on_the_problems_page_work_as_shown(tmp_path: Path) -> None:
    repo = write_tree(
        tmp_path / "repo",
        {
            **image_entries(f"xen/{BATCH}.img", b"batch image\n"),
            f"kvm/{BATCH}.qcow2": b"no checksum yet\n",
        },
    )
    os.chmod(repo / f"xen/{BATCH}.img", 0o666)
    site = tmp_path / "site"
    build_site(repo, site)
    commands = fix_commands(read_page(site, "problems/index.html"))
    assert sorted(commands.values()) == [
        f"chmod o-w xen/{BATCH}.img",
        f"md5sum -- {BATCH}.qcow2 > {BATCH}.checksum",
    ]
    for command in commands.values():
        folder = repo if command.startswith("chmod") else repo / "kvm"
        subprocess.run(["sh", "-c", command], cwd=folder, check=True)
    assert not os.stat(repo / f"xen/{BATCH}.img").st_mode & stat.S_IWOTH
    catalog = build_site(repo, tmp_path / "again")
    fixed = {"world_writable", "missing_checksum"}
    assert not fixed & {p.code for p in catalog.problems}
    assert {i.status for i in catalog.images} == {"verified"}


def test_a_damaged_image_warns_first_and_says_what_to_do(tmp_path: Path) -> None:
    repo = write_tree(
        tmp_path / "repo",
        {
            **image_entries(f"xen/{BATCH}.img", b"the bytes the checksum was made of\n"),
            **image_entries(f"kvm/{BATCH}.qcow2", b"healthy\n"),
        },
    )
    (repo / f"xen/{BATCH}.img").write_bytes(b"the bytes changed later\n")
    site = tmp_path / "site"
    build_site(repo, site)
    damaged = read_page(site, f"images/xen/{BATCH}/index.html")
    alert = damaged.find("section", id="image-alert")
    assert alert.find("h2").text() == "✕ Damaged: do not use this image"
    head = damaged.find("header", cls="image-head")
    assert head.children.index(alert) < head.children.index(head.find("p", cls="summary"))
    headings = [h.text() for h in damaged.find_all("h3")]
    assert "What to do" in headings and "Check your copy" not in headings
    assert fix_commands(damaged)["fix-1"] == f"md5sum -- {BATCH}.img > {BATCH}.checksum"
    healthy = read_page(site, f"images/kvm/{BATCH}/index.html")
    assert healthy.find_all("section", id="image-alert") == []
    assert "Check your copy" in [h.text() for h in healthy.find_all("h3")]


def test_siblings_are_the_same_system_under_other_vm_directories(tmp_path: Path) -> None:
    repo = write_tree(
        tmp_path / "repo",
        {
            **image_entries("kvm/SL6.4_x86_64_SL11d_20GB_batch.qcow2", b"kvm\n"),
            **image_entries(f"xen/{BATCH}.img", b"xen\n"),
            **image_entries("vmware/sl6.4_x86_64_sl11d_20GB_desktop.vmdk", b"other detail\n"),
            **image_entries("virtualBox/sl6.4_x86_32_sl11d_20GB_batch.vdi", b"32-bit\n"),
        },
    )
    site = tmp_path / "site"
    build_site(repo, site)
    xen = read_page(site, f"images/xen/{BATCH}/index.html")
    items = xen.find("ul", cls="siblings").find_all("li")
    assert [li.text() for li in items] == [
        "KVM SL6.4_x86_64_SL11d_20GB_batch.qcow2 Verified",
        f"Xen {BATCH}.img (this page) Verified",
    ]
    link = items[0].find("a")
    assert link.attrs["href"] == "../../../images/kvm/SL6.4_x86_64_SL11d_20GB_batch/index.html"
    assert (site / "images/kvm/SL6.4_x86_64_SL11d_20GB_batch/index.html").is_file()
    for lonely in (
        "vmware/sl6.4_x86_64_sl11d_20GB_desktop",
        "virtualBox/sl6.4_x86_32_sl11d_20GB_batch",
    ):
        assert read_page(site, f"images/{lonely}/index.html").find_all("ul", cls="siblings") == []


def test_image_page_shows_first_seen_and_last_changed(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", image_entries(f"xen/{BATCH}.img", b"batch\n"))
    done = run_cli("build", "--repository", str(repo), "--output", str(tmp_path / "site"),
                   "--state", str(tmp_path / "state"), env={"SOURCE_DATE_EPOCH": "1709300000"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = read_page(tmp_path / "site", f"images/xen/{BATCH}/index.html")
    where = page.find("section", aria_labelledby="where")
    facts = {
        dt.text(): dd.text()
        for dt, dd in zip(where.find_all("dt"), where.find_all("dd"), strict=True)
    }
    assert facts == {"First seen": "2024-03-01 13:33 UTC", "Last changed": "2024-03-01 13:33 UTC"}


def test_an_empty_image_with_a_good_checksum_is_still_called_damaged(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", image_entries(f"kvm/{BATCH}.qcow2", b""))
    site = tmp_path / "site"
    catalog = build_site(repo, site)
    assert [i.status for i in catalog.images] == ["verified"]  # md5 of nothing matches
    page = read_page(site, f"images/kvm/{BATCH}/index.html")
    alert = page.find("section", id="image-alert")
    assert alert.attrs["class"] == "alert alert-damaged"
    assert alert.find("h2").text() == "✕ Damaged: the image file is broken"
    steps = page.find("ul", cls="fixes").text()
    assert steps == "Fix: the file is empty: copy the image again or remove it"
    assert "Check your copy" not in [h.text() for h in page.find_all("h3")]
