"""The CSV, simplestreams and HEPiX exports: read back by Python's csv, the real simplestreams
client (`sstream-query`, `sstream-mirror`) and a real HEPiX list consumer (atrope's parser)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.export.csv_export import COLUMNS
from tests.conftest import image_entries, run_cli, write_tree
from tests.export_helpers import CLEAN, HOSTILE, MULTI, SECRET, make_repository
from tests.test_downloads import BASE, DOWNLOADS, ENDORSER, build, full_config, write_config

BIN = Path(sys.executable).parent  # the venv's console scripts (sstream-query, sstream-mirror)
FORMULA = "sl5.3_x86_32_sl05c_8GB_=HYPERLINK(1)"  # a detail a spreadsheet would run


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export tests' repository (plus an image named like a formula), built with every
    setting; `catalog-sha.json` is its catalog.json with real sha256sum/sha512sum digests."""
    work = tmp_path_factory.mktemp("exports")
    make_repository(work / "repo")
    write_tree(work / "repo", image_entries(f"xen/{FORMULA}.img", b"formula", "@SUM(A1) notes"))
    site = build(work, "--config", str(full_config(work)))
    catalog = json.loads((site / "catalog.json").read_text())
    for image in catalog["images"]:
        if image["multi_file"]:
            for member in image["members"]:
                member.update(real_digests(work / "repo" / image["path"] / member["name"]))
        else:
            image.update(real_digests(work / "repo" / image["path"]))
    (work / "catalog-sha.json").write_text(json.dumps(catalog))
    return work


def real_digests(path: Path) -> dict[str, str]:
    """What sha256sum and sha512sum print for `path` (the digest part), never a made-up hex."""
    return {
        name: subprocess.run(
            [f"{name}sum", "--", str(path)], capture_output=True, text=True, check=True
        ).stdout.split()[0]
        for name in ("sha256", "sha512")
    }


def export(work: Path, kind: str, catalog: str = "catalog-sha.json", *args: str) -> Path:
    out = work / f"{kind}-{catalog}"
    done = run_cli("export", kind, "--catalog", str(work / catalog), "--output", str(out), *args)
    assert done.returncode == 0, done.stderr
    return out


def sstream(tool: str, *args: str) -> str:
    done = subprocess.run([str(BIN / tool), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def catalog_images(work: Path, name: str = "catalog-sha.json") -> dict[str, dict]:
    return {image["id"]: image for image in json.loads((work / name).read_text())["images"]}


# CSV


def test_csv_has_one_row_per_image_and_the_same_columns_for_every_image(work: Path) -> None:
    out = export(work, "csv")
    rows = list(csv.DictReader(io.StringIO((out / "catalog.csv").read_text(), newline="")))
    images = catalog_images(work)
    assert [row["id"] for row in rows] == list(images)
    assert list(rows[0]) == list(COLUMNS)
    for row in rows:
        image = images[row["id"]]
        assert row["url"] == image["permalink"]  # absolute with base-url
        assert row["download_url"] == image["download_url"]
        assert row["size_bytes"] == str(image["size_bytes"])
        assert row["sha256"] == (image.get("sha256") or "")
    assert "kernel" not in rows[0]  # front matter stays out


def test_csv_cells_never_start_a_formula(work: Path) -> None:
    rows = {
        r["id"]: r
        for r in csv.DictReader(
            io.StringIO((export(work, "csv") / "catalog.csv").read_text(), newline="")
        )
    }
    row = rows[f"xen/{FORMULA}"]
    assert row["detail"] == "'=HYPERLINK(1)"
    assert row["description"] == "'@SUM(A1) notes"
    assert row["name"] == f"{FORMULA}.img"  # a formula only at the start of a cell
    assert all(
        not cell.startswith(("=", "+", "-", "@")) for r in rows.values() for cell in r.values()
    )


def test_the_site_carries_the_configured_exports(work: Path) -> None:
    site = work / "vm-site"
    exported = export(work, "csv", "vm-site/catalog.json")
    assert (site / "catalog.csv").read_bytes() == (exported / "catalog.csv").read_bytes()
    assert (site / "streams" / "v1" / "index.json").is_file()
    assert (site / "hepix-imagelist.json").is_file()


# simplestreams


def test_sstream_query_lists_every_verified_image_with_its_digests(work: Path) -> None:
    out = export(work, "simplestreams")
    found = json.loads(sstream("sstream-query", "--json", f"file://{out}/streams/v1/index.json"))
    images = catalog_images(work)
    assert {entry["product_name"].split(":", 2)[2] for entry in found} == set(images)
    for entry in found:
        image = images[entry["product_name"].split(":", 2)[2]]
        assert entry["version_name"] == image["last_changed"][:10].replace("-", "")
        files = image["members"] if image["multi_file"] else [image]
        digests = {f["sha256"] for f in files}
        assert entry["sha256"] in digests and entry["md5"] in {f["md5"] for f in files}
        assert entry["item_url"].startswith(f"file://{out}/{image['vm']}/")


def test_streams_served_at_the_download_base_mirror_every_file(work: Path) -> None:
    """As the README says: `streams/` beside the VM directories (the download base's root)."""
    base = work / "download-base"
    shutil.copytree(work / "repo", base)
    shutil.copytree(export(work, "simplestreams") / "streams", base / "streams")
    mirror = work / "mirror"
    sstream("sstream-mirror", f"file://{base}/streams/v1/index.json", str(mirror))
    for image in catalog_images(work).values():
        files = (
            [f"{image['path']}/{m['name']}" for m in image["members"]]
            if image["multi_file"]
            else [image["path"]]
        )
        for relpath in files:
            assert (mirror / relpath).read_bytes() == (work / "repo" / relpath).read_bytes()


def test_simplestreams_leaves_out_images_that_did_not_verify(tmp_path: Path) -> None:
    make_repository(tmp_path / "repo")
    (tmp_path / "repo" / "xen" / f"{CLEAN}.img").write_bytes(b"changed after its checksum")
    site = build(
        tmp_path, "--config", str(write_config(tmp_path / "c.yaml", exports=["simplestreams"]))
    )
    found = sstream(
        "sstream-query",
        "--output-format",
        "%(product_name)s",
        f"file://{site}/streams/v1/index.json",
    )
    assert f"xen/{HOSTILE}" in found and f"kvm/{MULTI}" in found
    assert CLEAN not in found


# HEPiX


def parse_hepix(path: Path, tmp_path: Path) -> object:
    """atrope's own parser of HEPiX image lists (what its `fetch` runs after the download)."""
    from atrope import image
    from atrope.image_list.hepix import HepixImageList

    image.CONF.set_override("download_ca_file", str(tmp_path / "ca-bundle.pem"))
    image.CONF.set_override("ca_path", str(tmp_path))
    return HepixImageList(json.loads(path.read_text()))


def test_atrope_reads_the_hepix_list_with_every_verified_file_image(
    work: Path, tmp_path: Path
) -> None:
    out = export(work, "hepix", "catalog-sha.json", "--config", str(work / "config.yaml"))
    parsed = parse_hepix(out / "hepix-imagelist.json", tmp_path)
    images = catalog_images(work)
    listed = {img.uri: img for img in parsed.get_images()}
    expected = {
        i["download_url"]: i
        for i in images.values()
        if not i["multi_file"] and i["status"] == "verified"
    }
    assert set(listed) == set(expected) and len(listed) == 3
    for uri, img in listed.items():
        assert img.sha512 == expected[uri]["sha512"]
        assert img.size == expected[uri]["size_bytes"]
    assert (
        parsed.endorser.dn == ENDORSER["endorser-dn"]
        and parsed.endorser.ca == ENDORSER["endorser-ca"]
    )
    assert parsed.uri == f"{BASE}hepix-imagelist.json"
    assert parsed.expires > parsed.created


def test_the_site_hepix_list_lists_the_images_that_have_a_sha512(
    work: Path, tmp_path: Path
) -> None:
    parsed = parse_hepix(work / "vm-site" / "hepix-imagelist.json", tmp_path)
    site_images = catalog_images(work, "vm-site/catalog.json").values()
    assert len(parsed.get_images()) == sum(
        1 for i in site_images if i.get("sha512") and not i["multi_file"]
    )


def test_the_hepix_export_needs_its_endorser_and_download_links(work: Path, tmp_path: Path) -> None:
    done = run_cli(
        "export",
        "hepix",
        "--catalog",
        str(work / "catalog-sha.json"),
        "--output",
        str(tmp_path / "o"),
    )
    assert done.returncode == 2 and "endorser" in done.stderr
    make_repository(tmp_path / "repo")
    for settings, says in (
        ({"exports": ["hepix"], "hepix": ENDORSER}, "needs download-base-url"),
        ({"exports": ["hepix"], "download_base_url": DOWNLOADS}, "needs a hepix: mapping"),
        (
            {"exports": ["hepix"], "download_base_url": DOWNLOADS, "hepix": {"endorser-name": "x"}},
            "missing endorser-email",
        ),
        ({"exports": ["pdf"]}, "unknown format pdf"),
    ):
        config = write_config(tmp_path / "c.yaml", **settings)
        done = run_cli("build", "--config", str(config), "--repository", str(tmp_path / "repo"),
                       "--output", str(tmp_path / "site"), "--state", str(tmp_path / "state"))  # fmt: skip
        assert done.returncode == 2 and says in done.stderr, done.stderr
    assert not (tmp_path / "site").exists()


# Redaction


def test_every_export_redacts_a_secret_even_from_a_catalog_that_kept_it(work: Path) -> None:
    """catalog.json is redacted by `build`; one from elsewhere may not be: exports redact again."""
    assert SECRET not in (work / "catalog-sha.json").read_text()
    catalog = json.loads((work / "catalog-sha.json").read_text())
    for image in catalog["images"]:
        image["description"] = f"Set the root password: SEED={SECRET} then run it.\n"
        image["detail"] = f"SEED={SECRET}"
    (work / "leaky.json").write_text(json.dumps(catalog))
    for kind in ("csv", "simplestreams", "hepix"):
        out = export(work, kind, "leaky.json", "--config", str(work / "config.yaml"))
        texts = [p.read_text() for p in out.rglob("*") if p.is_file()]
        assert texts and all(SECRET not in text for text in texts), kind
        assert any("(redacted)" in text for text in texts), kind  # the text is there, the seed not
