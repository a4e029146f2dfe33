"""What an image page is made from, so that an unchanged image's page is neither built nor
rendered (see `page_memo`): a one-description edit costs one page, not 10,000 views."""

from __future__ import annotations

from generator.catalog.model import Image
from generator.site.image_page import Shared
from generator.site.views import Nav


def page_inputs(
    image: Image, context: Shared, nav: bytes | Nav, canonical: str | None
) -> tuple[object, ...]:
    """Everything `image_page` (and the notice and history beside it) reads for this image,
    whose navigation is `nav` (its values as `view_bytes` gives them, shared by every page)
    with its `canonical` address.

    The page is keyed by these rather than by its view, so that an unchanged image's view is
    never built: whatever the page comes to read must be added here. The image stands as
    itself: a page key names it by its site pieces' key (`PageMemo.tokens`), which covers its
    record token and the fields set since (`token_values`).
    """
    audience = context.audience
    group = context.siblings.get(image.id, [])
    others = tuple((i.id, i.vm, i.name, i.status) for i in group)
    written = audience.as_written.get(image.id)
    return (image, nav, canonical, context.repository, context.base_url, others, written,
            audience.private, audience.private_base_url)  # fmt: skip
