"""Image lifecycle through the command line on real files: versions, renames, duplicates,
deprecation, end of life, alias pages, validated key parameters, and what survives a lost state."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import (
    catalog_image,
    codes_of,
    directory_image,
    image_entries,
    read_catalog,
    run_cli,
    write_tree,
)
from tests.parsed_html import Node, parse_html

DAY = 86400
EPOCH = 4_102_444_800  # 2100-01-01: far from the files' times, so nothing is racy
ATOM = "{http://www.w3.org/2005/Atom}"
OLD = "sl6.2_x86_64_sl11d_20GB_batch"
NEW = "sl6.4_x86_64_sl12a_20GB_batch"


def build(tmp_path: Path, at: float, *extra: str):
    """`star-vm-catalog build` at a fixed time, with the test's repository, output and state."""
    return run_cli(
        "build", "--repository", str(tmp_path / "repo"), "--output", str(tmp_path / "site"),
        "--state", str(tmp_path / "state"), *extra, env={"SOURCE_DATE_EPOCH": str(int(at))},
    )  # fmt: skip


def parse_file(page: Path) -> Node:
    return parse_html(page.read_text(encoding="utf-8"))


def feed_entries(site: Path) -> list[tuple[str, str]]:
    feed = ET.parse(site / "feed.xml").getroot()
    return [
        (e.find(f"{ATOM}category").get("term"), e.findtext(f"{ATOM}title"))
        for e in feed.findall(f"{ATOM}entry")
    ]


def remove(repo: Path, *relpaths: str) -> None:
    for relpath in relpaths:
        path = repo / relpath
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def refresh_target(page: Path) -> str:
    """Where a redirect page sends the browser: its meta refresh URL (checked against the link)."""
    html = parse_file(page)
    meta = html.find_all("meta", **{"http-equiv": "refresh"})
    assert len(meta) == 1, "a redirect page has exactly one meta refresh"
    content = meta[0].attrs["content"] or ""
    return content.split("url=", 1)[1]


def test_rename_turns_the_old_permalink_into_a_redirect(tmp_path: Path) -> None:
    repo = write_tree(
        tmp_path / "repo", image_entries(f"kvm/{OLD}.img", b"bytes of the image" * 50)
    )
    write_tree(repo, image_entries("kvm/sl5.3_x86_64_sl09g_12GB_grid.img", b"another image"))
    assert build(tmp_path, EPOCH).returncode == 0
    remove(repo, f"kvm/{OLD}.img", f"kvm/{OLD}.checksum")
    renamed = "sl6.2_x86_64_sl11d_20GB_worker"
    write_tree(repo, image_entries(f"kvm/{renamed}.img", b"bytes of the image" * 50))
    assert build(tmp_path, EPOCH + DAY).returncode == 0
    site = tmp_path / "site"
    old_page = site / f"images/kvm/{OLD}/index.html"
    target = f"../../../images/kvm/{renamed}/"
    assert refresh_target(old_page) == target
    link = parse_file(old_page).find_all("a", id="redirect-target")
    assert [a.attrs["href"] for a in link] == [target] and (site / f"images/kvm/{renamed}").is_dir()
    assert "Removed from the repository" not in old_page.read_text()
    catalog = read_catalog(site)
    assert [(t["id"], t.get("moved_to")) for t in catalog["removed"]] == [
        (f"kvm/{OLD}", f"kvm/{renamed}")
    ]
    history = catalog_image(catalog, f"kvm/{renamed}")["history"]
    assert [(v["event"], v.get("moved_from")) for v in history] == [
        ("renamed", f"kvm/{OLD}"),
        ("added", None),
    ]
    assert feed_entries(site) == [("renamed", f"Renamed: kvm/{OLD} to kvm/{renamed}")]


def test_a_renamed_image_whose_old_name_comes_back_is_no_longer_a_redirect(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", image_entries(f"kvm/{OLD}.img", b"old bytes" * 50))
    assert build(tmp_path, EPOCH).returncode == 0
    remove(repo, f"kvm/{OLD}.img", f"kvm/{OLD}.checksum")
    write_tree(repo, image_entries(f"kvm/{NEW}.img", b"old bytes" * 50))
    assert build(tmp_path, EPOCH + DAY).returncode == 0
    site = tmp_path / "site"
    assert [t.get("moved_to") for t in read_catalog(site)["removed"]] == [f"kvm/{NEW}"]
    write_tree(repo, image_entries(f"kvm/{OLD}.img", b"other bytes" * 50))
    assert build(tmp_path, EPOCH + 2 * DAY).returncode == 0
    catalog = read_catalog(site)
    assert catalog["removed"] == [] and {i["id"] for i in catalog["images"]} == {
        f"kvm/{OLD}",
        f"kvm/{NEW}",
    }
    page = parse_file(site / f"images/kvm/{OLD}/index.html")
    assert page.find_all("meta", **{"http-equiv": "refresh"}) == []
    remove(repo, f"kvm/{OLD}.img", f"kvm/{OLD}.checksum")  # and gone again: a plain removal
    assert build(tmp_path, EPOCH + 3 * DAY).returncode == 0
    assert [(t["id"], t.get("moved_to")) for t in read_catalog(site)["removed"]] == [
        (f"kvm/{OLD}", None)
    ]


def test_plain_removal_keeps_the_removed_page(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", image_entries(f"kvm/{OLD}.img", b"one image"))
    write_tree(repo, image_entries(f"kvm/{NEW}.img", b"other image"))
    assert build(tmp_path, EPOCH).returncode == 0
    remove(repo, f"kvm/{OLD}.img", f"kvm/{OLD}.checksum")
    assert build(tmp_path, EPOCH + DAY).returncode == 0
    page = tmp_path / f"site/images/kvm/{OLD}/index.html"
    assert "Removed from the repository on" in page.read_text()
    assert parse_file(page).find_all("meta", **{"http-equiv": "refresh"}) == []
    assert "moved_to" not in read_catalog(tmp_path / "site")["removed"][0]


def test_directory_image_renamed_a_run_later_is_found_by_its_member_digests(
    tmp_path: Path,
) -> None:
    members = {"disk1.vmdk": b"first extent" * 40, "disk2.vmdk": b"second extent" * 40}
    old, new = "centos5_x86_64_sl10c_40GB_analysis", "centos5_x86_64_sl10c_40GB_desktop"
    repo = write_tree(tmp_path / "repo", directory_image(f"vmware/{old}", members))
    write_tree(repo, image_entries("vmware/sl5.3_x86_32_sl05c_8GB_desktop.vmdk", b"keep me"))
    assert build(tmp_path, EPOCH).returncode == 0
    remove(repo, f"vmware/{old}", f"vmware/{old}.checksum")
    assert build(tmp_path, EPOCH + DAY).returncode == 0
    assert (
        "Removed from the repository"
        in (tmp_path / f"site/images/vmware/{old}/index.html").read_text()
    )
    renamed = {"a.vmdk": members["disk1.vmdk"], "b.vmdk": members["disk2.vmdk"]}  # members too
    write_tree(repo, directory_image(f"vmware/{new}", renamed))
    assert build(tmp_path, EPOCH + 2 * DAY).returncode == 0
    page = tmp_path / f"site/images/vmware/{old}/index.html"
    assert refresh_target(page) == f"../../../images/vmware/{new}/"
    removed = read_catalog(tmp_path / "site")["removed"]
    assert [(t["id"], t.get("moved_to")) for t in removed] == [(f"vmware/{old}", f"vmware/{new}")]


def test_in_place_replacement_keeps_the_old_md5_in_the_history(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", image_entries(f"kvm/{NEW}.img", b"first build of it"))
    assert build(tmp_path, EPOCH).returncode == 0
    first_md5 = catalog_image(read_catalog(tmp_path / "site"), f"kvm/{NEW}")["md5"]
    write_tree(repo, image_entries(f"kvm/{NEW}.img", b"second build, fixed"))
    assert build(tmp_path, EPOCH + DAY).returncode == 0
    catalog = read_catalog(tmp_path / "site")
    current = catalog_image(catalog, f"kvm/{NEW}")
    assert current["md5"] != first_md5
    assert [(v["event"], v["md5"], v["at"]) for v in current["history"]] == [
        ("changed", current["md5"], "2100-01-02T00:00:00Z"),
        ("added", first_md5, "2100-01-01T00:00:00Z"),
    ]
    table = parse_file(tmp_path / f"site/images/kvm/{NEW}/index.html").find_all(
        "table", id="history-table"
    )
    assert len(table) == 1
    cells = [[td.text() for td in tr.find_all("td")] for tr in table[0].find_all("tr")[1:]]
    assert [row[1:3] for row in cells] == [
        ["New content", current["md5"]],
        ["First seen", first_md5],
    ]


def test_a_copy_is_a_duplicate_warning_naming_both(tmp_path: Path) -> None:
    data = b"the very same bytes" * 20
    repo = write_tree(tmp_path / "repo", image_entries(f"kvm/{NEW}.img", data))
    write_tree(repo, image_entries("xen/sl6.4_x86_64_sl12a_20GB_copy.img", data))
    done = build(tmp_path, EPOCH)
    assert done.returncode == 0  # a warning
    catalog = read_catalog(tmp_path / "site")
    one, two = f"kvm/{NEW}.img", "xen/sl6.4_x86_64_sl12a_20GB_copy.img"
    problems = {
        p["path"]: p["message"] for p in catalog["problems"] if p["code"] == "duplicate_content"
    }
    assert set(problems) == {one, two}
    assert two in problems[one] and one in problems[two]
    assert f"{one}': warning: same content as '{two}'" in done.stderr


def deprecated_repo(tmp_path: Path, old_front: str) -> Path:
    """A line with an old image (front matter given) and its replacement."""
    repo = write_tree(
        tmp_path / "repo",
        image_entries(f"kvm/{OLD}.img", b"old image", f"---\n{old_front}---\nThe old one.\n"),
    )
    return write_tree(repo, image_entries(f"kvm/{NEW}.img", b"new image"))


def test_deprecation_with_a_replacement(tmp_path: Path) -> None:
    deprecated_repo(tmp_path, f"deprecated: 2099-06-01\nreplaced_by: kvm/{NEW}\n")
    assert build(tmp_path, EPOCH).returncode == 0
    site = tmp_path / "site"
    catalog = read_catalog(site)
    assert catalog_image(catalog, f"kvm/{OLD}")["lifecycle"] == "deprecated"
    assert catalog_image(catalog, f"kvm/{NEW}")["lifecycle"] == "current"
    page = parse_file(site / f"images/kvm/{OLD}/index.html")
    notice = page.find_all("p", id="lifecycle-notice")
    assert len(notice) == 1 and "Deprecated since 2099-06-01" in notice[0].text()
    assert [a.attrs["href"] for a in page.find_all("a", id="replacement")] == [
        f"../../../images/kvm/{NEW}/"
    ]
    rows = parse_file(site / "index.html").find_all("tr", **{"data-lifecycle": "deprecated"})
    assert [r.attrs["data-name"] for r in rows] == [f"{OLD}.img"]
    assert "Deprecated" in rows[0].find_all("span", cls="lifecycle-deprecated")[0].text()
    assert parse_file(site / "index.html").find_all("fieldset", **{"data-facet": "lifecycle"})


def test_a_deprecation_date_to_come_leaves_the_image_current(tmp_path: Path) -> None:
    deprecated_repo(tmp_path, "deprecated: 2100-03-01\n")
    assert build(tmp_path, EPOCH).returncode == 0
    assert catalog_image(read_catalog(tmp_path / "site"), f"kvm/{OLD}")["lifecycle"] == "current"
    assert build(tmp_path, EPOCH + 90 * DAY).returncode == 0
    assert catalog_image(read_catalog(tmp_path / "site"), f"kvm/{OLD}")["lifecycle"] == "deprecated"


def test_end_of_life_in_the_past(tmp_path: Path) -> None:
    deprecated_repo(tmp_path, f"end_of_life: 2099-12-31\nreplaced_by: kvm/{NEW}\n")
    assert build(tmp_path, EPOCH).returncode == 0
    site = tmp_path / "site"
    assert catalog_image(read_catalog(site), f"kvm/{OLD}")["lifecycle"] == "end_of_life"
    notice = parse_file(site / f"images/kvm/{OLD}/index.html").find_all("p", id="lifecycle-notice")
    assert "End of life since 2099-12-31" in notice[0].text()
    fieldset = parse_file(site / "index.html").find_all("fieldset", **{"data-facet": "lifecycle"})
    assert fieldset[0].attrs["data-hide"] == "end_of_life"


def test_an_end_of_life_date_that_passes_changes_the_site_with_nothing_else_changed(
    tmp_path: Path,
) -> None:
    deprecated_repo(tmp_path, "end_of_life: 2100-01-02\n")
    assert build(tmp_path, EPOCH).returncode == 0
    assert catalog_image(read_catalog(tmp_path / "site"), f"kvm/{OLD}")["lifecycle"] == "deprecated"
    same_day = build(tmp_path, EPOCH + 3600)
    assert "site unchanged" in same_day.stderr or "0 files written" in same_day.stderr
    later = build(tmp_path, EPOCH + 2 * DAY)
    assert later.returncode == 0
    catalog = read_catalog(tmp_path / "site")
    assert catalog_image(catalog, f"kvm/{OLD}")["lifecycle"] == "end_of_life"
    assert catalog["generated_at"] == "2100-01-03T00:00:00Z"


def test_a_bad_replaced_by_is_a_problem(tmp_path: Path) -> None:
    deprecated_repo(
        tmp_path, "replaced_by: kvm/sl6.9_x86_64_sl99z_20GB_nothing\ndeprecated: soon\n"
    )
    done = build(tmp_path, EPOCH)
    assert done.returncode == 0
    catalog = read_catalog(tmp_path / "site")
    assert codes_of(catalog, f"kvm/{OLD}.txt") == {"replacement_missing", "invalid_field_value"}
    message = next(p["message"] for p in catalog["problems"] if p["code"] == "replacement_missing")
    assert "kvm/sl6.9_x86_64_sl99z_20GB_nothing" in message
    page = parse_file(tmp_path / f"site/images/kvm/{OLD}/index.html")
    assert page.find_all("a", id="replacement") == []  # nothing to link to


def alias_target(site: Path, path: str) -> str:
    return refresh_target(site / path / "index.html")


def test_alias_pages_send_to_the_current_image_of_each_line(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", image_entries(f"kvm/{OLD}.img", b"sl11d on 6.2"))
    write_tree(repo, image_entries("kvm/sl6.4_x86_64_sl11d_20GB_batch.img", b"sl11d on 6.4"))
    write_tree(
        repo, image_entries(f"kvm/{NEW}.img", b"sl12a on 6.4", "---\ndeprecated: 2099-01-01\n---\n")
    )
    write_tree(repo, image_entries("virtualBox/ubuntu9.10_x86_32_sl05c_10GB_ec2.vdi", b"ubuntu"))
    assert build(tmp_path, EPOCH).returncode == 0
    site = tmp_path / "site"
    # the newest library is deprecated, so the newest OS of the others wins
    target = alias_target(site, "latest/kvm/sl6-x86-64")
    assert target == "../../../images/kvm/sl6.4_x86_64_sl11d_20GB_batch/"
    assert (site / "latest/kvm/sl6-x86-64" / target / "index.html").resolve().is_file()
    assert alias_target(site, "latest/virtualbox/ubuntu9-x86-32") == (
        "../../../images/virtualBox/ubuntu9.10_x86_32_sl05c_10GB_ec2/"
    )
    aliases = {a["path"]: a["image"] for a in read_catalog(site)["aliases"]}
    assert aliases["latest/kvm/sl6-x86-64/"] == "kvm/sl6.4_x86_64_sl11d_20GB_batch"
    # no longer deprecated: the newest STAR library wins
    (repo / f"kvm/{NEW}.txt").write_text("Back in service.\n")
    assert build(tmp_path, EPOCH + DAY).returncode == 0
    assert alias_target(site, "latest/kvm/sl6-x86-64") == f"../../../images/kvm/{NEW}/"
    # damaged (its bytes no longer match its .checksum): never the image to use now
    (repo / f"kvm/{NEW}.img").write_bytes(b"sl12a on 6.4, damaged")
    assert build(tmp_path, EPOCH + 2 * DAY).returncode == 1
    target = alias_target(site, "latest/kvm/sl6-x86-64")
    assert target == "../../../images/kvm/sl6.4_x86_64_sl11d_20GB_batch/"


def test_an_emptied_line_keeps_its_alias_page_with_the_nearest_lines(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", image_entries(f"kvm/{OLD}.img", b"sl6 image"))
    write_tree(repo, image_entries("kvm/sl5.3_x86_64_sl09g_12GB_grid.img", b"sl5 image"))
    write_tree(repo, image_entries("xen/sl6.2_x86_64_sl11d_20GB_batch.img", b"xen sl6 image"))
    write_tree(repo, image_entries("xen/sl4_x86_32_sl08e_8GB_ec2.img", b"xen sl4 image"))
    assert build(tmp_path, EPOCH).returncode == 0
    remove(repo, f"kvm/{OLD}.img", f"kvm/{OLD}.checksum")
    assert build(tmp_path, EPOCH + DAY).returncode == 0
    site = tmp_path / "site"
    check_empty_line(site)
    # the state is lost: the published catalog still knows the line
    shutil.rmtree(tmp_path / "state")
    assert build(tmp_path, EPOCH + 2 * DAY).returncode == 0
    check_empty_line(site)


def check_empty_line(site: Path) -> None:
    page = parse_file(site / "latest/kvm/sl6-x86-64/index.html")
    assert page.find_all("meta", **{"http-equiv": "refresh"}) == []
    assert "No image is left in this line" in page.text()
    nearest = [a.attrs["href"] for a in page.find_all("ul", id="nearest-lines")[0].find_all("a")]
    assert nearest == [
        "../../../latest/kvm/sl5-x86-64/",
        "../../../latest/xen/sl6-x86-64/",
        "../../../latest/xen/sl4-x86-32/",
    ]
    for href in nearest:
        assert (site / "latest/kvm/sl6-x86-64" / href / "index.html").resolve().is_file()
    aliases = {a["path"]: a["image"] for a in read_catalog(site)["aliases"]}
    assert aliases["latest/kvm/sl6-x86-64/"] is None


def test_redirects_survive_a_lost_state(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", image_entries(f"kvm/{OLD}.img", b"moving image" * 9))
    write_tree(repo, image_entries("kvm/sl5.3_x86_64_sl09g_12GB_grid.img", b"staying"))
    assert build(tmp_path, EPOCH).returncode == 0
    remove(repo, f"kvm/{OLD}.img", f"kvm/{OLD}.checksum")
    write_tree(repo, image_entries(f"kvm/{NEW}.img", b"moving image" * 9))
    assert build(tmp_path, EPOCH + DAY).returncode == 0
    shutil.rmtree(tmp_path / "state")
    assert build(tmp_path, EPOCH + 2 * DAY).returncode == 0
    site = tmp_path / "site"
    assert refresh_target(site / f"images/kvm/{OLD}/index.html") == f"../../../images/kvm/{NEW}/"
    removed = read_catalog(site)["removed"]
    assert [(t["id"], t.get("moved_to")) for t in removed] == [(f"kvm/{OLD}", f"kvm/{NEW}")]


def test_key_parameters_are_validated_fields_with_facets_and_free_room(tmp_path: Path) -> None:
    good = "---\nkernel: 2.6.32-358.el6\nmin_ram: 2GB\nos_size: 4GB\nswap: 2GB\nsoftware_size: 6GB\n---\n"
    full = "---\nkernel: not a version\nmin_ram: lots\nos_size: 16GB\nsoftware_size: 8GB\n---\n"
    repo = write_tree(tmp_path / "repo", image_entries(f"kvm/{NEW}.img", b"fits", good))
    write_tree(repo, image_entries(f"kvm/{OLD}.img", b"does not fit", full))
    assert build(tmp_path, EPOCH).returncode == 0
    site = tmp_path / "site"
    catalog = read_catalog(site)
    assert catalog_image(catalog, f"kvm/{NEW}")["free_bytes"] == 8 << 30
    assert catalog_image(catalog, f"kvm/{OLD}")["free_bytes"] == -(4 << 30)
    assert codes_of(catalog, f"kvm/{NEW}.txt") == set()
    assert codes_of(catalog, f"kvm/{OLD}.txt") == {"invalid_field_value", "sizes_exceed_max"}
    bad_keys = sorted(
        p["message"].split("'")[1]
        for p in catalog["problems"]
        if p["code"] == "invalid_field_value"
    )
    assert bad_keys == ["kernel", "min_ram"]
    index = parse_file(site / "index.html")
    for facet, value in (("kernel", "2.6.32-358.el6"), ("min_ram", "2GB")):
        boxes = index.find_all("fieldset", **{"data-facet": facet})[0].find_all("input")
        assert [b.attrs["value"] for b in boxes] == [value, ""] or [
            b.attrs["value"] for b in boxes
        ] == ["", value]
