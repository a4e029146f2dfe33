"""catalog.json and memory: the live one read back a line at a time, with the facts of a whole
parse and the memory of a few ids (`publish.catalog_lines`, `publish.published`); a new one
made in parts, or joined without copies of its text (`site.catalog_file`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.publish.catalog_lines import parsed_parts, read_catalog_file
from generator.publish.published import published_catalog
from tests.conftest import peak_of

GOLDEN = Path(__file__).parent / "golden" / "demo" / "catalog.json"


def lines_of(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_published_catalog_reads_as_json_loads_reads_it(tmp_path: Path) -> None:
    text = GOLDEN.read_text(encoding="utf-8")
    assert read_catalog_file(written(tmp_path, text), {}) == json.loads(text)
    ids = read_catalog_file(written(tmp_path, text), {"images": lambda image: image["id"]})
    assert ids is not None and ids["images"] == [i["id"] for i in json.loads(text)["images"]]


def test_parts_split_anywhere_parse_as_the_file_whole() -> None:
    """`parsed_parts` (the `exports:` made from the catalog.json being published, never joined)
    gives what `json.loads` gives the file whole, wherever its parts split it: inside a line,
    inside a character of several bytes, beside a U+2028 (JSON keeps it as it is)."""
    text = GOLDEN.read_text(encoding="utf-8").replace(
        '"description":"', '"description":"é\u2028€ ', 1
    )
    data = text.encode("utf-8")
    for size in (1, 2, 3, 1000, len(data)):
        parts = [data[start : start + size] for start in range(0, len(data), size)]
        assert parsed_parts(parts) == json.loads(text)


def test_another_layout_is_parsed_whole_with_the_same_result(tmp_path: Path) -> None:
    parsed = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for text in (json.dumps(parsed, indent=2), json.dumps(parsed), json.dumps(parsed) + "\n\n"):
        assert read_catalog_file(written(tmp_path, text), {}) == parsed


def replaced(lines: list[str], index: int, *new: str) -> str:
    return "\n".join([*lines[:index], *new, *lines[index + 1 :]])


def damaged(text: str) -> list[str]:
    """Texts json.loads refuses, each a line-level change to a real catalog.json."""
    lines = text.splitlines()
    last_image = lines.index("],", lines.index('"images": [')) - 1
    second_image = lines.index('"images": [') + 2
    return [
        replaced(lines, last_image, lines[last_image] + ","),  # a comma after the last item
        replaced(lines, second_image, lines[second_image][:-1]),  # none between two items
        "\n".join(lines[:-3]),  # cut short
        replaced(lines, len(lines) - 1, "}", "{}"),  # more after the end
        replaced(lines, second_image, "{broken,"),
    ]


def test_what_json_refuses_the_line_reader_refuses(tmp_path: Path) -> None:
    for text in damaged(GOLDEN.read_text(encoding="utf-8")):
        with pytest.raises(ValueError):
            json.loads(text)
        with pytest.raises(ValueError):
            read_catalog_file(written(tmp_path, text), {"images": lambda image: image["id"]})
        assert published_catalog(tmp_path) is None  # read as on a first run


def big_catalog(count: int) -> str:
    """A catalog.json of `count` images, each a real record of the demo under a new id."""
    parsed = json.loads(GOLDEN.read_text(encoding="utf-8"))
    records = parsed["images"]
    images = []
    for n in range(count):
        record = dict(records[n % len(records)])
        record["id"] = f"kvm/image_{n:05d}"
        images.append(json.dumps(record, sort_keys=True, separators=(",", ":")))
    head = {k: v for k, v in parsed.items() if k != "images"}
    entries = [f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in head.items()]
    entries.append('"images": [\n' + ",\n".join(images) + "\n]")
    return "{\n" + ",\n".join(sorted(entries)) + "\n}\n"


def test_reading_the_live_catalog_back_holds_ids_not_records(tmp_path: Path) -> None:
    """The site's catalog.json read back by a build: a fraction of the memory a whole parse
    takes at its peak, and the record of an image whose history was lost still found."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "catalog.json").write_text(big_catalog(3000), encoding="utf-8")
    whole, parsed = peak_of(lambda: json.loads((site / "catalog.json").read_bytes()))
    lines, published = peak_of(lambda: published_catalog(site))
    assert published is not None and len(published.image_ids) == 3000  # type: ignore[attr-defined]
    assert lines * 4 < whole, f"{lines:,} B at the peak read a line at a time, {whole:,} B whole"
    expected = {i["id"]: i for i in parsed["images"]}  # type: ignore[index]
    lost = {"kvm/image_00007", "kvm/image_02999", "kvm/not_published"}
    assert published.records(lost) == {k: expected[k] for k in sorted(lost) if k in expected}  # type: ignore[attr-defined]


def test_catalog_json_is_made_without_copies_of_itself() -> None:
    """catalog.json made whole (for a site rendered in memory: a build makes it in parts)
    holds at most its parts and their join at once (about twice its size; four times when
    each step copied the whole text), over 2,000 images' records."""
    from bench.bench_site import synthetic_catalog
    from generator.site.catalog_file import catalog_parts, image_records
    from generator.site.record_lines import RecordLines

    catalog = synthetic_catalog(2000)
    records = RecordLines(catalog.images, made=image_records(catalog))  # made before
    peak, made = peak_of(lambda: b"".join(catalog_parts(catalog, records)))
    assert isinstance(made, bytes) and made.count(b"\n") > 2000
    assert peak < 2.5 * len(made), f"{peak:,} B at the peak for a file of {len(made):,} B"
