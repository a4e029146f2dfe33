"""The parts templates share, made once per build rather than once per page.

Two kinds, both found slow at 10,000 image pages:
- The `_*.html` part files define one macro each (`badge`, `fact_list`, ...). An `{% include %}`
  costs a new context per use, and even an `{% import %}` statement costs about 15 µs per page
  per file in Jinja; so every macro of `PARTS` is bound once, as a global of the environment,
  and templates call it by name.
- What surrounds every page's content (links in the head, the site header, the footer) is the
  same for all pages at one depth: `shared_part(name, nav)` renders the macro `name` of
  `_chrome.html` once per distinct `Nav`. It is given the nav without the page's canonical
  address, so a shared part can never carry one page's data into another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any

import jinja2
from markupsafe import Markup

from generator.site.views import Nav

PARTS = (
    "_badge.html",
    "_copy.html",
    "_facts.html",
    "_fix.html",
    "_related.html",
    "_check_steps.html",
    "_history.html",
    "_lifecycle_notice.html",
)
# Macros whose HTML depends on their text arguments only, called many times per page with a
# few distinct values (a status badge, a copy button): each distinct call is rendered once.
REMEMBERED = frozenset({"badge", "copy_button"})
CHROME = "_chrome.html"
SHARED_FIELDS = tuple(f.name for f in fields(Nav) if f.name != "canonical")


def bind_parts(env: jinja2.Environment) -> None:
    """Make the macros of every part file, and `shared_part`, globals of `env`."""
    env.globals["shared_part"] = shared_parts(env)
    for name in PARTS:
        module = env.get_template(name).module
        for macro_name, value in vars(module).items():
            if isinstance(value, jinja2.runtime.Macro):
                remember = macro_name in REMEMBERED
                env.globals[macro_name] = remembered(value) if remember else value


def remembered(macro: jinja2.runtime.Macro, limit: int = 4096) -> Callable[..., Markup]:
    """`macro`, rendering each distinct call once. Only for calls whose arguments are all plain
    `str` (or None): a `Markup` argument equal to a `str` one renders differently, so any
    other call goes to the macro itself."""
    made: dict[tuple[object, ...], Markup] = {}

    def call(*args: object, **kwargs: object) -> Markup:
        key = (*args, "", *kwargs.items())
        if not all(type(a) is str or a is None for a in (*args, *kwargs.values())):
            return macro(*args, **kwargs)
        html = made.get(key)
        if html is None:
            if len(made) >= limit:  # bounded: a catalog of distinct values cannot grow it
                made.clear()
            html = made[key] = macro(*args, **kwargs)
        return html

    return call


def shared_parts(env: jinja2.Environment) -> Callable[[str, Nav], Markup]:
    """`shared_part(name, nav)` for the templates: the macro `name`, rendered once per nav
    (its every field but `canonical`, which is one page's)."""
    by_nav: dict[tuple[object, ...], dict[str, Markup]] = {}
    last: list[Any] = [None, None, {}]  # the nav asked for last, its key and its parts

    def shared_part(name: str, nav: Nav) -> Markup:
        if nav is not last[0]:
            key = nav_key(nav)
            # A page asks three times, and pages in a row mostly share one nav: comparing
            # with the last key is cheaper than hashing it (its links compare by identity).
            parts = last[2] if key == last[1] else by_nav.setdefault(key, {})
            last[:] = [nav, key, parts]
        parts = last[2]
        part = parts.get(name)
        if part is None:
            macro = getattr(env.get_template(CHROME).module, name)
            part = parts[name] = macro(replace(nav, canonical=None))
        return part

    return shared_part


def nav_key(nav: Nav) -> tuple[object, ...]:
    """Every field of `nav` but its canonical address, hashable (lists as tuples)."""
    values = (getattr(nav, name) for name in SHARED_FIELDS)
    return tuple(tuple(v) if isinstance(v, list) else v for v in values)
