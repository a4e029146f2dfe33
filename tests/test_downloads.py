"""`download-base-url`, absolute links with `base-url`, and each image's `image.json`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from urllib.parse import quote

import feedparser
import pytest
import yaml

from tests.conftest import image_entries, run_cli, write_tree
from tests.export_helpers import CLEAN, HOSTILE, MULTI, make_repository, parse, publish_catalog

BASE = "https://www.star.bnl.gov/public/vm/"
DOWNLOADS = "https://www.star.bnl.gov/vm-files/"
ENDORSER = {
    "endorser-name": "Jane Doe",
    "endorser-email": "jane.doe@bnl.gov",
    "endorser-dn": "/DC=org/DC=example/CN=Jane Doe",
    "endorser-ca": "/DC=org/DC=example/CN=Example Grid CA",
}


def write_config(path: Path, **settings: object) -> Path:
    path.write_text(yaml.safe_dump({key.replace("_", "-"): v for key, v in settings.items()}))
    return path


def build(work: Path, *args: str) -> Path:
    """`star-vm-catalog build` of `work/repo` (with `args`); returns the site."""
    return publish_catalog(work, work / "repo", *args).parent


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three-image repository built with both base URLs, every export and a HEPiX endorser."""
    work = tmp_path_factory.mktemp("linked")
    make_repository(work / "repo")
    return build(work, "--config", str(full_config(work)))


def full_config(work: Path) -> Path:
    """`work/config.yaml`: both base URLs, every export the site can carry, a HEPiX endorser."""
    return write_config(
        work / "config.yaml",
        base_url=BASE,
        download_base_url=DOWNLOADS,
        exports=["csv", "simplestreams", "hepix"],
        hepix=ENDORSER,
    )


def images(site: Path) -> dict[str, dict]:
    return {
        image["id"]: image for image in json.loads((site / "catalog.json").read_text())["images"]
    }


def test_every_image_and_member_gets_its_download_url(linked: Path) -> None:
    catalog = images(linked)
    assert catalog[f"xen/{CLEAN}"]["download_url"] == f"{DOWNLOADS}xen/{CLEAN}.img"
    hostile = catalog[f"xen/{HOSTILE}"]["download_url"]
    assert hostile == DOWNLOADS + quote(f"xen/{HOSTILE}.img")
    multi = catalog[f"kvm/{MULTI}"]
    assert multi["download_url"] == f"{DOWNLOADS}kvm/{MULTI}/"
    assert [m["download_url"] for m in multi["members"]] == [
        f"{DOWNLOADS}kvm/{MULTI}/disk1.raw",
        f"{DOWNLOADS}kvm/{MULTI}/disk2.raw",
    ]


def test_with_a_base_url_images_gain_an_absolute_permalink_and_keep_a_relative_url(
    linked: Path,
) -> None:
    for image_id, image in images(linked).items():
        assert (
            image["url"]
            == "images/" + "/".join(quote(p, safe="") for p in image_id.split("/")) + "/"
        )
        assert image["permalink"] == BASE + image["url"]


def test_the_image_page_has_a_download_button_and_links_each_member(linked: Path) -> None:
    for image_id, image in images(linked).items():
        page = (linked / "images" / image_id / "index.html").read_text()
        hrefs = parse(page).hrefs
        assert image["download_url"] in hrefs
        assert 'id="download"' in page
        for member in image.get("members") or []:
            assert member["download_url"] in hrefs


def test_without_download_base_url_nothing_pretends_a_download_exists(tmp_path: Path) -> None:
    make_repository(tmp_path / "repo")
    site = build(tmp_path)
    for image_id, image in images(site).items():
        assert "download_url" not in image and "permalink" not in image
        assert all("download_url" not in m for m in image.get("members") or [])
        page = (site / "images" / image_id / "index.html").read_text()
        assert 'id="download"' not in page and "Download" not in page


def test_a_download_base_url_must_be_absolute(tmp_path: Path) -> None:
    make_repository(tmp_path / "repo")
    for args in (
        ("--download-base-url", "vm-files/"),
        ("--config", str(write_config(tmp_path / "c.yaml", download_base_url="ftp:x"))),
    ):
        done = run_cli("build", "--repository", str(tmp_path / "repo"), "--output",
                       str(tmp_path / "site"), "--state", str(tmp_path / "state"), *args)  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert "absolute http(s) URL" in done.stderr
    assert not (tmp_path / "site").exists()


def test_each_image_page_has_its_catalog_entry_as_image_json(linked: Path) -> None:
    for image_id, image in images(linked).items():
        assert json.loads((linked / "images" / image_id / "image.json").read_text()) == image


def test_with_a_base_url_every_feed_link_is_absolute(tmp_path: Path) -> None:
    """A second build announces the added image; the Drupal aggregator ignores xml:base."""
    make_repository(tmp_path / "repo")
    build(tmp_path, "--base-url", BASE)
    write_tree(tmp_path / "repo", image_entries("xen/sl6.4_x86_64_sl11d_20GB_new.img", b"new"))
    site = build(tmp_path, "--base-url", BASE)
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    entry_links = [link["href"] for entry in feed.entries for link in entry.links]
    assert f"{BASE}images/xen/sl6.4_x86_64_sl11d_20GB_new/" in entry_links
    raw = (site / "feed.xml").read_text()
    hrefs = [part.split('"')[0] for part in raw.split('href="')[1:]]
    assert hrefs and all(href.startswith(BASE) for href in hrefs)


def test_requesting_the_hepix_list_computes_sha512_of_every_file(linked: Path) -> None:
    """Part A publishes the digests; here the digest set of the run gains SHA-512."""
    with sqlite3.connect(linked.parent / "state" / "state.sqlite") as db:
        rows = db.execute("SELECT algorithm, count(*) FROM file_digests GROUP BY algorithm")
        counts = dict(rows.fetchall())
    assert counts == {"md5": 4, "sha256": 4, "sha512": 4}  # two single files, two members
