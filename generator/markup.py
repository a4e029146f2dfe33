"""Markdown with YAML front matter, rendered to sanitized HTML: one pipeline for all text."""

from __future__ import annotations

import contextlib
import functools
import re
import signal
import threading
from collections.abc import Callable, Iterator
from html import escape as html_escape
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


# Bounds on front matter: a description is untrusted, and YAML can describe far more than it
# spells out (aliases), nest deeper than Python recurses, or hold values the catalog cannot show.
MAX_FRONT_MATTER_CHARS = 16 * 1024
MAX_DEPTH = 32
MAX_EXPANDED = 256 * 1024  # scalar characters plus nodes, with every alias expanded


class FrontMatterError(ValueError):
    """Front matter that is not a YAML mapping, or one beyond the bounds above."""


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Return (front matter mapping, body); raises FrontMatterError for bad or hostile YAML."""
    match = FRONT_MATTER_RE.match(text)
    if not match:
        return {}, text
    data = load_front_matter(match["yaml"])
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FrontMatterError("front matter must be a mapping of names to values")
    return {str(k): v for k, v in data.items()}, text[match.end() :]


def load_front_matter(source: str) -> Any:
    """`safe_load` within bounds; every way YAML can fail or blow up becomes FrontMatterError."""
    import yaml  # here, not at the top: `verify` never needs it and starts faster without it

    from generator.bounded_yaml import BoundedLoader, LimitExceeded, flow_depth

    if len(source) > MAX_FRONT_MATTER_CHARS:
        raise FrontMatterError(
            f"front matter is longer than {MAX_FRONT_MATTER_CHARS // 1024} Ki characters"
        )
    if flow_depth(source) > MAX_DEPTH:
        raise FrontMatterError(f"front matter nests deeper than {MAX_DEPTH} levels")
    try:  # the loader's reader already refuses raw control characters: inside the `try`
        loader = BoundedLoader(source, MAX_DEPTH, MAX_EXPANDED)
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"front matter is not valid YAML: {_first_line(str(exc))}") from exc
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"front matter is not valid YAML: {_first_line(str(exc))}") from exc
    except LimitExceeded as exc:
        raise FrontMatterError(f"front matter {exc}") from exc
    except (ValueError, OverflowError, RecursionError) as exc:  # dates, huge ints
        raise FrontMatterError(f"front matter holds a value that cannot be read: {exc}") from exc
    finally:
        loader.dispose()
    _refuse_surrogates(data)
    return data


def _refuse_surrogates(value: Any) -> None:
    """A `\\ud800` escape is a string no UTF-8 file (catalog.json, the pages) can hold."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise FrontMatterError(
                    "front matter holds a lone surrogate escape (\\ud800-\\udfff), not a character"
                ) from exc
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


class TooSlow(BaseException):
    """Rendering passed its time limit (a BaseException, so no `except Exception` inside a
    library swallows it)."""


def render_markdown(body: str, time_limit: float | None = None) -> str:
    """Markdown to HTML, then an allow-list sanitizer: no script, handlers or odd URL schemes.

    Python-Markdown is quadratic on some inputs (thousands of nested `[`: hours at 256 KiB),
    so `time_limit` seconds stop it with TooSlow. The limit is a SIGALRM timer, which costs
    2 µs per call (a worker process per text would cost milliseconds, 10,000 times per build);
    it applies in the main thread only, where the build and each of its reading workers
    (`generator.parallel`) render descriptions.
    """
    converter = _converter()
    try:
        with _deadline(time_limit):
            html = converter.reset().convert(body)
    except BaseException:
        _CONVERTERS.clear()  # stopped half-way: its state is not trusted for the next text
        raise
    return _sanitizer()(html)


SANITIZER = {
    "tags": ALLOWED_TAGS,
    "attributes": ALLOWED_ATTRIBUTES,
    "url_schemes": URL_SCHEMES,
    "link_rel": "noopener noreferrer nofollow",
}


@functools.cache
def _sanitizer() -> Callable[[str], str]:
    """The allow-list cleaner, built once: `nh3.clean` builds its rules anew at every call,
    which is half of its 110 µs for a short description. An `nh3.Cleaner` gives the same
    bytes; an older nh3 without one gets `clean` with the rules."""
    import nh3

    cleaner = getattr(nh3, "Cleaner", None)
    if cleaner is not None:
        return cleaner(**SANITIZER).clean
    return functools.partial(nh3.clean, **SANITIZER)


_CONVERTERS: dict[int, Any] = {}  # thread id -> its Markdown converter


def _converter() -> Any:
    """One `markdown.Markdown` per thread, reset between texts: building one costs 0.5 ms,
    more than converting a short description (10,000 of them per build).

    The extensions are given as objects, not names: a name makes Markdown list every installed
    package's entry points to find it, 70 ms of each process's first description (an edit
    build renders one)."""
    import markdown  # imported on first use, like yaml above
    from markdown.extensions.fenced_code import FencedCodeExtension
    from markdown.extensions.sane_lists import SaneListExtension
    from markdown.extensions.tables import TableExtension

    ident = threading.get_ident()
    converter = _CONVERTERS.get(ident)
    if converter is None:
        extensions = [TableExtension(), FencedCodeExtension(), SaneListExtension()]
        converter = markdown.Markdown(extensions=extensions, output_format="html")
        _CONVERTERS[ident] = converter
    return converter


@contextlib.contextmanager
def _deadline(seconds: float | None) -> Iterator[None]:
    """Raise TooSlow in this block after `seconds` (main thread only; elsewhere no limit)."""
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TooSlow

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def plain_text_html(body: str) -> str:
    """The fallback for Markdown that could not be rendered in time: the text, escaped."""
    return f"<pre>{html_escape(body)}</pre>"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
