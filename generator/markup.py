"""Markdown with YAML front matter, rendered to sanitized HTML: one pipeline for all text."""

from __future__ import annotations

import re
from typing import Any

FRONT_MATTER_RE = re.compile(
    r"\A---[ \t]*\r?\n(?P<yaml>.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M
)

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "samp",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


class FrontMatterError(ValueError):
    """Front matter that is not a YAML mapping."""


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Return (front matter mapping, body); raises FrontMatterError for bad YAML."""
    match = FRONT_MATTER_RE.match(text)
    if not match:
        return {}, text
    import yaml  # here, not at the top: `verify` never needs it and starts faster without it

    try:
        data = yaml.safe_load(match["yaml"])
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"front matter is not valid YAML: {_first_line(str(exc))}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FrontMatterError("front matter must be a mapping of names to values")
    return {str(k): v for k, v in data.items()}, text[match.end() :]


def render_markdown(body: str) -> str:
    """Markdown to HTML, then an allow-list sanitizer: no script, handlers or odd URL schemes."""
    import markdown  # imported on first use, like yaml above
    import nh3

    html = markdown.markdown(
        body, extensions=["tables", "fenced_code", "sane_lists"], output_format="html"
    )
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
