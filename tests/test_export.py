"""`star-vm-catalog export markdown`: a published catalog.json as Markdown pages, safely written."""

from __future__ import annotations

import html as html_text
import json
import subprocess
from pathlib import Path
from urllib.parse import unquote

import markdown
import pytest
import yaml

from generator.errors import CatalogFileError
from generator.export.catalog_file import load_catalog
from generator.export.markdown import front_matter as front_matter_text
from generator.export.markdown import md_text, shell_word
from generator.export.output import MARKER
from generator.markup import render_markdown
from tests.conftest import run_cli
from tests.export_helpers import (
    CLEAN,
    HOSTILE,
    MULTI,
    SECRET,
    active_content,
    image_ids,
    parse,
    publish_catalog,
)


def as_html(text: str) -> str:
    """Render a page as MkDocs would: its front matter apart, Python-Markdown with tables."""
    body = text.split("---\n", 2)[2]
    return markdown.markdown(body, extensions=["tables", "fenced_code"])


def front_matter(text: str) -> dict:
    return yaml.safe_load(text.split("---\n", 2)[1])


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return publish_catalog(tmp_path_factory.mktemp("published"))


def export(catalog: Path, output: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("export", "markdown", "--catalog", str(catalog), "--output", str(output))


def test_every_image_gets_a_page_linked_from_the_inventory(catalog: Path, tmp_path: Path) -> None:
    done = export(catalog, tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "(4 files written, 0 unchanged, 0 old files removed)" in done.stdout
    index = (tmp_path / "out" / "index.md").read_text()
    links = parse(as_html(index)).hrefs
    for image_id in image_ids(catalog):
        vm, stem = image_id.split("/")
        page = tmp_path / "out" / "images" / vm / f"{stem}.md"
        assert page.is_file(), image_id
        assert any(Path(href).name == Path(page).name for href in _unquoted(links)), image_id
        meta = front_matter(page.read_text())
        assert html_text.unescape(meta["title"]).startswith(stem), image_id
        assert meta["status"] == "verified"
    assert front_matter(index)["title"] == "STAR virtual machine images"
    marker = json.loads((tmp_path / "out" / MARKER).read_text())
    assert marker["format"] == "markdown" and len(marker["files"]) == 4


def _unquoted(hrefs: list[str]) -> list[str]:
    return [unquote(href) for href in hrefs]


def test_image_page_has_fields_digests_check_command_and_description(
    catalog: Path, tmp_path: Path
) -> None:
    assert export(catalog, tmp_path).returncode == 0
    image = next(
        i for i in json.loads(catalog.read_text())["images"] if i["name"] == f"{CLEAN}.img"
    )
    text = (tmp_path / "images" / "xen" / f"{CLEAN}.md").read_text()
    html = as_html(text)
    words = " ".join(parse(html).text)
    for shown in ("Scientific Linux 5.3", "SL05c", "Xen", "Verified", "2.6.18-xen", "1.1 KiB"):
        assert shown in words, shown
    assert f"<code>{image['md5']}</code>" in html
    assert f"md5sum -c {CLEAN}.checksum" in words
    # The description is the site's own sanitised HTML, byte for byte.
    assert render_markdown(image["description"]) in text
    site_page = catalog.parent / "images" / "xen" / CLEAN / "index.html"
    assert render_markdown(image["description"]) in site_page.read_text()
    members = (tmp_path / "images" / "kvm" / f"{MULTI}.md").read_text()
    assert "disk1.raw" in members and "disk2.raw" in members and "## Files" in members


def test_pages_carry_no_script_and_no_secret(catalog: Path, tmp_path: Path) -> None:
    assert export(catalog, tmp_path).returncode == 0
    pages = [p for p in tmp_path.rglob("*.md")]
    assert len(pages) == 4
    for page in pages:
        text = page.read_text()
        assert SECRET not in text and "hunter2" not in text, page
        assert active_content(as_html(text)) == [], page
        meta = front_matter(text)
        assert active_content(f"<title>{meta['title']}</title>{meta['description']}") == []
    hostile = (tmp_path / "images" / "xen" / f"{HOSTILE}.md").read_text()
    words = " ".join(parse(as_html(hostile)).text)
    assert HOSTILE in words  # shown as text, character for character
    assert "<script>alert(5)</script>" in words  # a front matter value, as text


@pytest.mark.parametrize(
    "value",
    [
        "<script>alert(1)</script>",
        "[x](javascript:alert(1))",
        "<img src=x onerror=alert(1)>",
        "a | b *c* _d_ `e` ![f](g) \\h {: .i} # j",
        "line one\nline two\r\x00",
        "&lt;script&gt; &amp;",
    ],
)
def test_any_text_stays_text(value: str) -> None:
    html = markdown.markdown(f"| a |\n|---|\n| {md_text(value)} |", extensions=["tables"])
    parsed = parse(html)
    assert parsed.tags == ["table", "thead", "tr", "th", "tbody", "tr", "td"]
    assert not parsed.attributes
    expected = value.replace("\n", "\\u000a").replace("\r", "\\u000d").replace("\x00", "\\u0000")
    assert "".join(parsed.text).strip().endswith(expected.strip())


@pytest.mark.parametrize("name", ["plain.checksum", "it's $(x) `y`.checksum", "a\nb\tc'd.checksum"])
def test_check_command_is_one_shell_line_naming_the_file(name: str) -> None:
    word = shell_word(name)
    assert "\n" not in word
    done = subprocess.run(["bash", "-c", f"printf %s {word}"], capture_output=True, text=True)
    assert done.stdout == name


def test_export_refuses_a_directory_it_did_not_write(catalog: Path, tmp_path: Path) -> None:
    mine = tmp_path / "notes.txt"
    mine.write_text("keep me")
    done = export(catalog, tmp_path)
    assert done.returncode == 2
    assert f"'{tmp_path}': is not empty" in done.stderr and MARKER in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert mine.read_text() == "keep me"


def test_export_never_overwrites_a_file_it_did_not_write(catalog: Path, tmp_path: Path) -> None:
    assert export(catalog, tmp_path).returncode == 0
    (tmp_path / "images" / "xen" / f"{CLEAN}.md").unlink()
    marker = json.loads((tmp_path / MARKER).read_text())
    marker["files"].remove(f"images/xen/{CLEAN}.md")
    (tmp_path / MARKER).write_text(json.dumps(marker))
    foreign = tmp_path / "images" / "xen" / f"{CLEAN}.md"
    foreign.write_text("written by a person")
    done = export(catalog, tmp_path)
    assert done.returncode == 2
    assert "which an earlier export did not write" in done.stderr
    assert foreign.read_text() == "written by a person"


def test_export_replaces_its_own_files_and_keeps_the_rest(catalog: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    repository = work / "repo"
    # One clock for both builds, long after the files were written: a build within the racy
    # window of the writes would verify again, and the pages would show the new time.
    settled = {"SOURCE_DATE_EPOCH": "4102444800"}
    publish_catalog(work, env=settled)
    out = tmp_path / "out"
    assert export(work / "vm-site" / "catalog.json", out).returncode == 0
    (out / "images" / "kvm" / "README").write_text("a person's notes")
    for part in ("disk1.raw", "disk2.raw"):
        (repository / "kvm" / MULTI / part).unlink()
    (repository / "kvm" / MULTI).rmdir()
    (repository / "kvm" / f"{MULTI}.checksum").unlink()
    publish_catalog(work, repository, env=settled)
    done = export(work / "vm-site" / "catalog.json", out)
    assert done.returncode == 0, done.stderr
    assert "1 old files removed" in done.stdout
    assert "files written, 2 unchanged" in done.stdout  # the clean and the hostile image pages
    assert not (out / "images" / "kvm" / f"{MULTI}.md").exists()
    assert (out / "images" / "kvm" / "README").read_text() == "a person's notes"
    index = (out / "index.md").read_text().replace("\\_", "_")
    assert f"images/kvm/{MULTI}.md" not in index
    assert f"- {MULTI}, removed " in index


def test_a_tampered_marker_cannot_make_export_delete_elsewhere(
    catalog: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.md"
    victim.write_text("outside the export")
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text(json.dumps({"format": "markdown", "files": ["../victim.md"]}))
    done = export(catalog, out)
    assert done.returncode == 2
    assert "cannot be trusted" in done.stderr
    assert victim.read_text() == "outside the export"
    assert sorted(p.name for p in out.iterdir()) == [MARKER]


def _catalog_with(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "is not JSON"),
        ("[]", "is not a JSON object"),
        ('{"schema_version": 99, "images": []}', "has schema_version 99"),
        ('{"schema_version": 1, "images": [{"id": "x"}]}', "image 0 has no valid 'vm' field"),
        ("\xff", "is not JSON"),
    ],
)
def test_bad_catalog_files_are_refused_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _catalog_with(tmp_path, text)
    done = export(path, tmp_path / "out")
    assert done.returncode == 2
    assert f"'{path}': {message}" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("image_id", ["../escape", "xen/../../etc", "xen/.hidden", "xen", "/abs"])
def test_image_ids_that_would_leave_the_output_are_refused(
    catalog: Path, tmp_path: Path, image_id: str
) -> None:
    data = json.loads(catalog.read_text())
    data["images"][0]["id"] = image_id
    path = _catalog_with(tmp_path, json.dumps(data))
    done = export(path, tmp_path / "out")
    assert done.returncode == 2
    assert "not '<vm>/<name>'" in done.stderr
    assert not (tmp_path / "out").exists()


def test_catalog_size_is_bounded(tmp_path: Path) -> None:
    path = _catalog_with(tmp_path, json.dumps({"schema_version": 1, "images": []}) + " " * 100)
    with pytest.raises(CatalogFileError, match="is larger than"):
        load_catalog(path, limit=64)
    assert load_catalog(path)["images"] == []


def test_missing_catalog_is_a_clear_error(tmp_path: Path) -> None:
    done = export(tmp_path / "nowhere.json", tmp_path / "out")
    assert done.returncode == 2
    assert f"'{tmp_path / 'nowhere.json'}': cannot be read" in done.stderr


def test_export_help_shows_an_example() -> None:
    done = run_cli("export", "--help")
    assert done.returncode == 0
    assert "star-vm-catalog export markdown --catalog" in done.stdout
    assert "{csv,hepix,markdown,simplestreams}" in done.stdout


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "a: b # c",
        '"quoted" \\ back',
        "line\nbreak\u2028sep\x85nel\ufeff",
        "😀 ünï",
        "- [x]",
    ],
)
def test_front_matter_values_read_back_as_written(value: str) -> None:
    text = front_matter_text({"title": value})
    assert yaml.safe_load(text.split("---\n")[1]) == {"title": html_text.escape(value)}


def test_a_lone_surrogate_is_refused_not_a_crash(catalog: Path, tmp_path: Path) -> None:
    text = catalog.read_text().replace(f'"name":"{CLEAN}.img"', '"name":"bad \\ud800 name"')
    path = _catalog_with(tmp_path, text)
    done = export(path, tmp_path / "out")
    assert done.returncode == 2
    assert "lone surrogate" in done.stderr


def test_a_symlinked_folder_inside_an_export_is_never_written_through(
    catalog: Path, tmp_path: Path
) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    assert export(catalog, out).returncode == 0
    elsewhere.mkdir()
    for page in (out / "images" / "xen").iterdir():
        page.unlink()
    (out / "images" / "xen").rmdir()
    (out / "images" / "xen").symlink_to(elsewhere)
    done = export(catalog, out)
    assert done.returncode == 2
    assert "which is not a directory of ours" in done.stderr
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize(
    ("kind", "message"), [("file", "is not a directory"), ("link", "is a symbolic link")]
)
def test_an_output_that_is_no_plain_directory_is_refused(
    catalog: Path, tmp_path: Path, kind: str, message: str
) -> None:
    out = tmp_path / "out"
    if kind == "file":
        out.write_text("a file")
    else:
        (tmp_path / "real").mkdir()
        out.symlink_to(tmp_path / "real")
    done = export(catalog, out)
    assert done.returncode == 2
    assert f"'{out}': {message}" in done.stderr
    assert not (tmp_path / "real").exists() or list((tmp_path / "real").iterdir()) == []


def test_old_files_are_never_removed_through_a_symlinked_folder(
    catalog: Path, tmp_path: Path
) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    assert export(catalog, out).returncode == 0
    elsewhere.mkdir()
    (elsewhere / "victim.md").write_text("not the export's")
    (out / "images" / "gone").symlink_to(elsewhere)
    marker = json.loads((out / MARKER).read_text())
    (out / MARKER).write_text(
        json.dumps({**marker, "files": [*marker["files"], "images/gone/victim.md"]})
    )
    done = export(catalog, out)
    assert done.returncode == 0, done.stderr
    assert (elsewhere / "victim.md").read_text() == "not the export's"
    assert "0 old files removed" in done.stdout
