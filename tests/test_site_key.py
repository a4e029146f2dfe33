"""The site key (`publish.deploy.site_key`): equal for equal catalogs, different when anything
a page shows changes, problems and "check your copy" commands included."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from generator.build import build
from generator.catalog.image_record import image_text, record_token
from generator.catalog.model import Catalog, with_fields
from generator.config import load_config
from generator.demo import make_demo
from generator.publish.deploy import SiteTarget, site_key
from generator.read.check_command import CheckCommand


def demo_catalog(tmp_path: Path) -> Catalog:
    make_demo(tmp_path / "repo")
    settings = {"repository": tmp_path / "repo", "state": tmp_path / "state"}
    return build(load_config(None, settings), publish=False).catalog


def key(catalog: Catalog, tmp_path: Path) -> str:
    return site_key(catalog, SiteTarget(tmp_path / "site", "STAR VMs"), [])


def test_the_key_follows_problems_and_commands(tmp_path: Path) -> None:
    catalog = demo_catalog(tmp_path)
    assert catalog.problems and any(image.check for image in catalog.images)
    first = key(catalog, tmp_path)
    assert key(replace(catalog, images=list(catalog.images)), tmp_path) == first
    problem = catalog.problems[0]
    reworded = replace(catalog, problems=[replace(problem, hint=problem.hint + " now"),
                                          *catalog.problems[1:]])  # fmt: skip
    assert key(reworded, tmp_path) != first
    n, image = next((n, i) for n, i in enumerate(catalog.images) if i.check)
    assert image.check is not None
    other = CheckCommand(image.check.copy, image.check.command + " ", image.check.note)
    # A command is part of the image's record: another command comes with another record token
    # (an image whose record is not kept has none: its commands are keyed themselves).
    changed = with_fields(image, check=other)
    for token in ("", record_token(image_text(changed))):
        moved = with_fields(changed, record_token=token)
        images = [*catalog.images[:n], moved, *catalog.images[n + 1 :]]
        assert key(replace(catalog, images=images), tmp_path) != first
