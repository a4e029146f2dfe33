"""The inventory's rules as plain functions: search words, case folding, facet order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.case_fold import usual_spellings
from generator.site.deferred import PART_SIZE
from generator.site.facet_order import SHOWN, facet_values, natural_key
from generator.site.render import Layout
from generator.site.search_index import search_text_parts
from generator.site.search_words import tokens
from generator.site.views import make_row
from tests.conftest import build_site, write_tree
from tests.inventory_repo import first_files
from tests.search_index_reader import index_rows


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("sl6.4_x86_64_SL13b", ["sl6", "4", "x86", "64", "sl13b"]),
        ("64-bit", ["64", "bit"]),
        ("Geant4, ROOT6 (v2.6.32-754)", ["geant4", "root6", "v2", "6", "32", "754"]),
        ("Jérôme  ünï_ÇODE", ["jérôme", "ünï", "çode"]),
        ("--", []),
    ],
)
def test_a_word_is_a_run_of_letters_and_digits(text: str, words: list[str]) -> None:
    assert tokens(text) == words


def test_the_usual_spelling_is_the_most_common_then_lower_case() -> None:
    assert usual_spellings(["SL6.4", "sl6.4", "sl6.4"]) == {"sl6.4": "sl6.4"}
    assert usual_spellings(["SL13b", "SL13b", "sl13b"]) == {"sl13b": "SL13b"}
    assert usual_spellings(["SL13b", "sl13b"]) == {"sl13b": "sl13b"}


def test_versions_sort_naturally() -> None:
    versions = ["sl6.2", "sl5.10", "sl5.3", "SL6.4", "sl4"]
    assert sorted(versions, key=natural_key) == ["sl4", "sl5.3", "sl5.10", "sl6.2", "SL6.4"]


def test_os_values_fold_group_by_family_and_unknown_comes_last() -> None:
    values = ["sl6.4", "SL6.4", "sl5.10", "centOS5", "sl5.3", "", "centos7", "ubuntu9.10"]
    facet = facet_values("os", values)
    assert [(v.value, v.count) for v in facet] == [
        ("centOS5", 1),
        ("centos7", 1),
        ("sl5.3", 1),
        ("sl5.10", 1),
        ("sl6.4", 2),
        ("ubuntu9.10", 1),
        ("", 1),
    ]
    assert [v.group for v in facet if v.group] == ["CentOS", "Scientific Linux"]


def test_libraries_sort_by_release_and_long_facets_mark_the_rest() -> None:
    libraries = [f"sl{n:02d}a" for n in range(20, 8, -1)] + ["SL13b", "sl05c"]
    facet = facet_values("star_lib", libraries)
    assert [v.value for v in facet][:3] == ["sl05c", "sl09a", "sl10a"]
    assert [v.extra for v in facet] == [i >= SHOWN for i in range(len(facet))]


def test_the_search_index_carries_words_digests_and_dates_not_labels(tmp_path: Path) -> None:
    repository = write_tree(tmp_path / "vm", first_files())
    catalog = build_site(
        repository, tmp_path / "site", layout=Layout(table_limit=3, preview_rows=2)
    )
    index = json.loads((tmp_path / "site" / "search-index.json").read_text())
    fields = set(index["columns"])
    assert {"first_seen", "last_changed", "url"} <= fields
    later = json.loads((tmp_path / "site" / "search-text.json").read_text())
    assert set(later["columns"]) == {"md5"}  # searched, not shown: read after the first rows
    assert not {"vm_label", "status_label", "verified", "added", "changed", "words"} & fields
    rows = index_rows(tmp_path / "site")
    for row, image in zip(rows, catalog.images, strict=True):
        assert row["md5"] == (image.md5 or "") and row["md5"] not in row["searched"]
        made = make_row(image)
        assert row["searched"] == set(tokens(row["name"])) | set(made.words.split())
        assert row["text_words"] == set(made.text_words.split())
        assert not set(row["extra"].split()) & set(tokens(row["name"]))  # stored once
    assert "bit" in rows[0]["searched"]  # the word size's label


def test_search_text_json_is_made_in_parts_with_the_bytes_of_its_compact_json() -> None:
    """search-text.json is made in bounded parts (never whole: 29 MB at 100,000 images) whose
    bytes are its data's compact JSON, each distinct description's words stored once."""
    from bench.bench_site import synthetic_catalog

    rows = [make_row(image) for image in synthetic_catalog(3000).images]
    parts = list(search_text_parts(rows))
    assert len(parts) > 3 and max(map(len, parts)) < 2 * PART_SIZE
    data = b"".join(parts)
    parsed = json.loads(data)
    assert data == (json.dumps(parsed, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    described = list(dict.fromkeys(row.text_words for row in rows))
    assert parsed["count"] == len(rows) and len(described) > 100
    assert parsed["texts"]["values"] == [f" {words} " if words else "" for words in described]
