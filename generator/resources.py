"""Locate the templates and content pages, from a source checkout or from an installed wheel.

In the repository they are top-level folders (`site_templates/`, `content/`) beside the
package; the wheel ships them inside it as `generator/site_templates` and `generator/content`.
Looking in both places means `python -m generator` works from a fresh clone with no install.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def package_dir(name: str) -> Path:
    """The real directory of a data folder: inside the package (wheel), else beside it."""
    for candidate in (PACKAGE / name, PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"'{name}' is neither in {PACKAGE} nor beside it: reinstall")


def templates_dir() -> Path:
    return package_dir("site_templates")


def content_dir() -> Path:
    return package_dir("content")


def source_files(root: Path) -> list[Path]:
    """The files under `root` that make up the program, sorted: compiled caches left out
    (Python's `.pyc`, the templates' compiled code: any `__pycache__`), since they are written
    by running it and say nothing new about what it does."""
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.relative_to(root).parts
        and path.suffix != ".pyc"
    )
