"""What an image page is made from, so that an unchanged image's page is neither built nor
rendered (see `page_memo`): a one-description edit costs one page, not 10,000 views."""

from __future__ import annotations

from generator.catalog.image_record import token_values
from generator.catalog.model import Image
from generator.site.image_page import Shared
from generator.site.page_memo import view_bytes
from generator.site.views import Nav


def page_inputs(
    image: Image, context: Shared, nav: Nav, canonical: str | None
) -> tuple[object, ...]:
    """Everything `image_page` (and the notice and history beside it) reads for this image,
    whose navigation is `nav` with its `canonical` address.

    The page is keyed by these rather than by its view, so that an unchanged image's view is
    never built: whatever the page comes to read must be added here.
    """
    audience = context.audience
    image_values = token_values(image) if image.record_token else image
    group = context.siblings.get(image.id, [])
    others = tuple((i.id, i.vm, i.name, i.status) for i in group)
    written = audience.as_written.get(image.id)
    return (image_values, _values(nav), canonical, context.repository, context.base_url, others, written,
            audience.private, audience.private_base_url)  # fmt: skip


_LAST_NAV: list[tuple[Nav, bytes | None]] = []  # the navigation every image page shares


def _values(nav: Nav) -> bytes | Nav:
    """The shared navigation's values, pickled once per build rather than once per page."""
    if not _LAST_NAV or _LAST_NAV[0][0] is not nav:
        _LAST_NAV[:] = [(nav, view_bytes(nav))]
    data = _LAST_NAV[0][1]
    return nav if data is None else data
