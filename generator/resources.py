"""Locate the templates and content pages that ship inside the package."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def package_dir(name: str) -> Path:
    """Real directory of a data package (`site_templates`, `content`), editable or installed."""
    return Path(str(files(f"generator.{name}")))


def templates_dir() -> Path:
    return package_dir("site_templates")


def content_dir() -> Path:
    return package_dir("content")
