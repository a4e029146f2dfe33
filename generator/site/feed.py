"""The Atom feed (`feed.xml`): images added, changed and removed, newest first.

Entry ids are derived from (image, kind, time), not from database row numbers, so they stay
the same across runs and even across a rebuilt state database.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET

from generator.catalog.model import Event, image_url, iso_time
from generator.site.sitemap import page_url

ATOM = "http://www.w3.org/2005/Atom"
# Characters XML 1.0 does not allow anywhere (surrogates never reach here: see markup.py).
NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
NAMESPACE = uuid.UUID("5f0f6c1e-3a43-4d59-9d0e-2b6f6e5c7a10")  # this project's uuid5 namespace


def entry_id(event: Event) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{event.image_id}|{event.kind}|{int(event.at)}')}"


def render_feed(
    events: list[Event], title: str, updated: str, base_url: str | None, repository: str
) -> bytes:
    """Atom 1.0 XML; with `base_url` every link is absolute (aggregators such as Drupal's
    ignore xml:base), without it relative to the feed."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    if base_url:
        feed.set("{http://www.w3.org/XML/1998/namespace}base", base_url.rstrip("/") + "/")
    _text(feed, "id", f"urn:uuid:{uuid.uuid5(NAMESPACE, repository)}")
    _text(feed, "title", title)
    _text(feed, "updated", iso_time(events[0].at) if events else updated)
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "star-vm-catalog")
    home = page_url("index.html", base_url)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=home)
    if base_url:
        ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=base_url.rstrip("/") + "/feed.xml")
    for event in events:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", entry_id(event))
        _text(entry, "title", event.title)
        _text(entry, "updated", iso_time(event.at) or updated)
        _text(entry, "category", None).set("term", event.kind)
        ET.SubElement(
            entry,
            f"{{{ATOM}}}link",
            rel="alternate",
            type="text/html",
            href=page_url(image_url(event.image_id), base_url),
        )
        _text(entry, "summary", _summary(event))
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def _summary(event: Event) -> str:
    when = (iso_time(event.at) or "")[:10]
    return {"added": f"New image {event.image_id} ({when}).",
            "removed": f"{event.image_id} was removed from the repository on {when}; its page stays.",
            }.get(event.kind, f"{event.title} ({when}).")  # fmt: skip


def _text(parent: ET.Element, tag: str, text: str | None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}")
    element.text = xml_safe(text) if text is not None else None
    return element


def xml_safe(text: str) -> str:
    """Text XML 1.0 can hold: ElementTree writes control characters (legal in file names)
    raw, which no XML parser accepts, so each is written as a visible `\\xNN` instead."""
    return NOT_XML_RE.sub(lambda m: f"\\x{ord(m[0]):02x}", text)
