"""The passes that compare images read only their facts (`catalog.facts.ImageFacts`).

Each pass runs twice on one built catalog: over its images, and over records holding only the
fields `ImageFacts` names (the front matter cut to the lifecycle's keys). A pass reading any
other field fails on the second run; one reading other front-matter keys finds less. Both runs
must find the same. The tree gives each pass something to find.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import make_dataclass, replace
from pathlib import Path

from generator.build import build
from generator.catalog.aliases import with_aliases
from generator.catalog.case_variants import case_variants
from generator.catalog.facts import FACT_NAMES
from generator.catalog.lifecycle import LIFECYCLE_KEYS, lifecycle_findings
from generator.catalog.model import Catalog, Image
from generator.catalog.moves import record_versions
from generator.state.database import migrate
from tests.conftest import Clock, config_for, directory_image, image_entries, write_tree

# Records holding the facts and nothing else: no slot for any other field.
Facts = make_dataclass("Facts", FACT_NAMES, frozen=True, slots=True)

SAME_BYTES = b"the same image under two names\n"
MEMBERS = {"disk1.vmdk": b"first half\n", "disk2.vmdk": b"second half\n"}


def front(**keys: str) -> str:
    lines = "".join(f"{key}: {value}\n" for key, value in keys.items())
    return f"---\n{lines}owner: someone\n---\nAn image.\n"


def facts_of(image: Image) -> object:
    values = {name: getattr(image, name) for name in FACT_NAMES}
    values["fields"] = {k: v for k, v in image.fields.items() if k in LIFECYCLE_KEYS}
    return Facts(**values)


def built(tmp_path: Path) -> Catalog:
    """A published catalog whose images give every pass something to find."""
    new = "kvm/sl6.4_x86_64_sl12a_20GB_batch"
    files = {
        **image_entries(f"{new}.img", SAME_BYTES, front(kernel="2.6.32-358.el6")),
        **image_entries("xen/sl6.4_x86_64_sl12a_20GB_copy.img", SAME_BYTES),
        **image_entries("kvm/SL6.4_x86_64_sl11d_20GB_grid.img", b"grid\n"),
        **image_entries(
            "kvm/sl6.2_x86_64_sl11d_20GB_batch.img",
            b"older\n",
            front(deprecated="2020-01-31", replaced_by=new, os_size="12GB", swap="10GB"),
        ),
        **image_entries(
            "kvm/sl6.1_x86_64_sl10a_20GB_batch.img",
            b"oldest\n",
            front(end_of_life="2021-06-30", replaced_by="kvm/gone", min_ram="lots"),
        ),
        **directory_image("vmware/sl5.3_x86_32_sl05c_8GB_desktop", MEMBERS),
        **directory_image("virtualbox/sl5.3_x86_32_sl05c_8GB_desktop", MEMBERS),
    }
    write_tree(tmp_path / "repo", files)
    catalog = build(config_for(tmp_path), clock=Clock()).catalog
    assert catalog is not None and len(catalog.images) == 7
    return catalog


def test_the_passes_across_images_read_only_the_facts(tmp_path: Path) -> None:
    catalog = built(tmp_path)
    images, facts = catalog.images, [facts_of(image) for image in catalog.images]

    variants = case_variants(images)
    assert variants and variants == case_variants(facts)

    today = dt.date(2026, 12, 3)
    found = lifecycle_findings(images, today)
    codes = {p.code for finding in found.values() for p in finding.problems}
    assert {"duplicate_content", "replacement_missing", "invalid_field_value"} <= codes
    assert {"sizes_exceed_max"} <= codes
    assert {f.state for f in found.values()} == {"current", "deprecated", "end_of_life"}
    assert found == lifecycle_findings(facts, today)

    aliases = with_aliases(catalog).aliases
    assert len(aliases) >= 3 and aliases == with_aliases(replace(catalog, images=facts)).aliases


def test_versions_and_renames_read_only_the_facts(tmp_path: Path) -> None:
    """A content gone under an old name comes back under a new one: a rename, and versions."""
    catalog = built(tmp_path)
    moved = next(image for image in catalog.images if image.multi_file)
    before = {"vmware/old_name": (None, None, None, 1, moved.content_key, None)}
    results = []
    for images in (catalog.images, [facts_of(image) for image in catalog.images]):
        connection = sqlite3.connect(":memory:", isolation_level=None)
        migrate(connection)
        news = record_versions(connection, replace(catalog, images=images), before, [], 1e9)
        rows = connection.execute("SELECT * FROM versions ORDER BY image_id, at").fetchall()
        moves = connection.execute("SELECT * FROM moves").fetchall()
        results.append((news, rows, moves))
    news, rows, moves = results[0]
    assert [e.kind for e in news] == ["renamed"] and len(moves) == 1 and len(rows) == 7
    assert results[1] == results[0]
