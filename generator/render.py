"""Render the catalog model into site files held in memory: {relative path: bytes}.

Templates hold no logic: every page gets a small dataclass of exactly what it shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from generator.catalog import Catalog, Image
from generator.pages import ContentPage
from generator.problems import SEVERITIES, Problem
from generator.resources import templates_dir
from generator.units import human_bytes
from generator.verify import STATUSES

STATUS_LABELS = {
    "verified": "Verified",
    "mismatch": "Checksum mismatch",
    "missing_checksum": "No checksum",
    "invalid_checksum": "Invalid checksum",
    "unreadable": "Unreadable",
    "changing": "Changing",
    "unverified": "Not verified",
}


@dataclass(frozen=True)
class Nav:
    """What every page's header needs: where the root is and the content pages."""

    root: str
    title: str
    pages: list[ContentPage]


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class IndexPage:
    nav: Nav
    catalog: Catalog
    statuses: list[StatusCount]
    vms: list[tuple[str, int]]
    total_size: str
    problem_count: int


@dataclass(frozen=True)
class ImagePage:
    nav: Nav
    image: Image
    status_label: str
    size: str
    allocated: str
    max_size: str
    check_command: str


@dataclass(frozen=True)
class ProblemGroup:
    severity: str
    code: str
    problems: list[Problem]


@dataclass(frozen=True)
class ProblemsPage:
    nav: Nav
    groups: list[ProblemGroup]
    total: int


@dataclass(frozen=True)
class ContentView:
    nav: Nav
    page: ContentPage


def environment() -> jinja2.Environment:
    """Autoescaping everywhere: every repository string is untrusted."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["bytes"] = human_bytes
    env.globals["status_label"] = lambda status: STATUS_LABELS.get(status, status)
    return env


def render_site(catalog: Catalog, pages: list[ContentPage], title: str) -> dict[str, bytes]:
    """Every file of the site, keyed by its path relative to the site root."""
    env = environment()
    files: dict[str, bytes] = {"catalog.json": catalog_json(catalog)}

    def nav(depth: int) -> Nav:
        return Nav("../" * depth, title, pages)

    files["index.html"] = _render(env, "index.html", index_page(catalog, nav(0)))
    files["problems/index.html"] = _render(env, "problems.html", problems_page(catalog, nav(1)))
    for image in catalog.images:
        files[f"{image.output_dir}/index.html"] = _render(
            env, "image.html", image_page(image, nav(3))
        )
    for page in pages:
        files[f"{page.slug}/index.html"] = _render(env, "page.html", ContentView(nav(1), page))
    files.update(static_files())
    return files


def _render(env: jinja2.Environment, template: str, page: Any) -> bytes:
    return env.get_template(template).render(page=page).encode("utf-8")


def catalog_json(catalog: Catalog) -> bytes:
    """Stable JSON: sorted keys, fixed separators, so unchanged catalogs give equal bytes."""
    return (
        json.dumps(catalog.to_json(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    ).encode("utf-8")


def static_files() -> dict[str, bytes]:
    static = templates_dir() / "static"
    return {f"static/{p.name}": p.read_bytes() for p in sorted(static.iterdir()) if p.is_file()}


def index_page(catalog: Catalog, nav: Nav) -> IndexPage:
    counts = dict(catalog.count_by("status"))
    statuses = [StatusCount(s, STATUS_LABELS[s], counts[s]) for s in STATUSES if s in counts]
    vms = sorted(catalog.count_by("vm"), key=lambda kv: kv[0].lower())
    return IndexPage(
        nav, catalog, statuses, vms, human_bytes(catalog.total_bytes), len(catalog.problems)
    )


def image_page(image: Image, nav: Nav) -> ImagePage:
    target = image.name if not image.multi_file else f"{image.name}/*"
    command = f"md5sum -c {image.id.split('/', 1)[1]}.checksum  # in the directory holding {target}"
    return ImagePage(
        nav=nav,
        image=image,
        status_label=STATUS_LABELS.get(image.status, image.status),
        size=human_bytes(image.size_bytes),
        allocated=human_bytes(image.allocated_bytes),
        max_size=human_bytes(image.max_size_bytes)
        if image.max_size_bytes is not None
        else "unknown",
        check_command=command,
    )


def problems_page(catalog: Catalog, nav: Nav) -> ProblemsPage:
    groups: dict[tuple[str, str], list[Problem]] = {}
    for problem in catalog.problems:
        groups.setdefault((problem.severity, problem.code), []).append(problem)
    order = sorted(groups, key=lambda key: (SEVERITIES.index(key[0]), key[1]))
    return ProblemsPage(
        nav, [ProblemGroup(s, c, groups[(s, c)]) for s, c in order], len(catalog.problems)
    )


def write_files(files: dict[str, bytes], directory: Path) -> None:
    """Write the in-memory site under `directory` (which must be new and empty)."""
    for relpath, data in sorted(files.items()):
        path = directory / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
