"""What the problems page shows: problems by severity, then code, each with its fix."""

from __future__ import annotations

from dataclasses import dataclass

from generator.catalog.model import Catalog
from generator.problems import SEVERITIES, Problem
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


def problems_page(catalog: Catalog, nav: Nav) -> ProblemsPage:
    """Problems by severity, then code; a problem of a catalogued image links to its page."""
    pages: dict[Problem | str, str] = {}
    for image in catalog.images:
        pages[image.path] = url = image.url
        pages.update(dict.fromkeys(image.problems, url))
    groups: dict[tuple[str, str], list[Problem]] = {}
    for problem in catalog.problems:
        groups.setdefault((problem.severity, problem.code), []).append(problem)
    sections = []
    for severity in SEVERITIES:
        codes = sorted(code for sev, code in groups if sev == severity)
        section_groups = [
            ProblemGroup(
                code,
                problem_title(code),
                [
                    _item(p, pages, nav.root, f"fix-{severity}-{code}-{n}")
                    for n, p in enumerate(groups[(severity, code)], start=1)
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


def _item(problem: Problem, pages: dict[Problem | str, str], root: str, fix_id: str) -> ProblemItem:
    """The problem, linked to the image page it belongs to (by problem, else by path)."""
    url = pages.get(problem) or pages.get(problem.path)
    href = f"{root}{url}" if url else None
    fix = fix_of(problem, fix_id) if problem.hint else None
    return ProblemItem(problem.path, href, problem.message, problem.hint, fix)
