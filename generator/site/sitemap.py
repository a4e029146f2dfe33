"""`sitemap.xml`: every page of the site, absolute when the public base URL is known."""

from __future__ import annotations

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"


def escape(text: str) -> str:
    """XML character data, as `xml.sax.saxutils.escape` makes it. Not imported from there:
    `xml.sax.saxutils` pulls in `urllib.request` (about 20 ms of every build's start)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def page_url(path: str, base_url: str | None) -> str:
    """`images/xen/a/` -> `https://host/vm/images/xen/a/` with a base URL, else left relative."""
    if base_url:
        return base_url.rstrip("/") + "/" + path
    return path or "./"


def sitemap_xml(paths: list[str], base_url: str | None) -> bytes:
    """One `<url>` per page, in the order given (callers pass a deterministic order).

    Without `--base-url` the locations stay relative: crawlers need absolute URLs, so a
    published site should be built with its base URL.
    """
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{NAMESPACE}">']
    lines += [f"  <url><loc>{escape(page_url(path, base_url))}</loc></url>" for path in paths]
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")
