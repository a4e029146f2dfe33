"""What the problems page shows: problems by severity, then code, each with its fix."""

from __future__ import annotations

from dataclasses import dataclass

from generator.catalog.model import Catalog
from generator.problems import PROBLEM_ORDER, SEVERITIES, Problem
from generator.site.fixes import Fix, fix_of
from generator.site.labels import problem_title
from generator.site.views import Nav

SEVERITY_TITLES = {"error": "Errors", "warning": "Warnings"}


@dataclass(frozen=True)
class ProblemItem:
    path: str
    href: str | None
    message: str
    hint: str
    fix: Fix | None = None  # the hint with its command apart, for a copy button
    severity: str = ""  # shown on image pages, where problems of both severities mix


@dataclass(frozen=True)
class ProblemGroup:
    code: str
    title: str
    problems: list[ProblemItem]


@dataclass(frozen=True)
class SeveritySection:
    severity: str
    title: str
    count: int
    groups: list[ProblemGroup]


@dataclass(frozen=True)
class ProblemsPage:
    nav: Nav
    total: int
    sections: list[SeveritySection]


def problem_links(catalog: Catalog) -> list[str | None]:
    """The page of each of the catalog's problems, in order: that of the image it belongs to
    (the image holding an equal problem, else the image at its path), None for the others."""
    pages: dict[tuple | str, str] = {}  # a problem's values (its equality, in C) or a path
    for image in catalog.images:
        pages[image.path] = url = image.url
        pages.update(dict.fromkeys(map(PROBLEM_ORDER, image.problems), url))
    return [pages.get(PROBLEM_ORDER(p)) or pages.get(p.path) for p in catalog.problems]


def problems_inputs(catalog: Catalog, nav: Nav, links: list[str | None]) -> object:
    """All the problems page is made from (`problems_page`), as plain values: its key."""
    return nav, [(*PROBLEM_ORDER(p), link) for p, link in zip(catalog.problems, links, strict=True)]


def problems_page(
    catalog: Catalog, nav: Nav, links: list[str | None] | None = None
) -> ProblemsPage:
    """Problems by severity, then code; a problem of a catalogued image links to its page
    (`links`: `problem_links`, when the caller made them)."""
    links = problem_links(catalog) if links is None else links
    groups: dict[tuple[str, str], list[tuple[Problem, str | None]]] = {}
    for problem, link in zip(catalog.problems, links, strict=True):
        groups.setdefault((problem.severity, problem.code), []).append((problem, link))
    sections = []
    for severity in SEVERITIES:
        codes = sorted(code for sev, code in groups if sev == severity)
        section_groups = [
            ProblemGroup(
                code,
                problem_title(code),
                [
                    _item(p, link, nav.root, f"fix-{severity}-{code}-{n}")
                    for n, (p, link) in enumerate(groups[(severity, code)], start=1)
                ],
            )
            for code in codes
        ]
        if section_groups:
            count = sum(len(g.problems) for g in section_groups)
            sections.append(
                SeveritySection(severity, SEVERITY_TITLES[severity], count, section_groups)
            )
    return ProblemsPage(nav, len(catalog.problems), sections)


def _item(problem: Problem, url: str | None, root: str, fix_id: str) -> ProblemItem:
    href = f"{root}{url}" if url else None
    fix = fix_of(problem, fix_id) if problem.hint else None
    return ProblemItem(problem.path, href, problem.message, problem.hint, fix)
