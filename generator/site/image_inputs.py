"""What an image page is made from, so that an unchanged image's page is neither built nor
rendered (see `page_memo`): a one-description edit costs one page, not 10,000 views."""

from __future__ import annotations

from generator.catalog.model import SET_LATER, Image
from generator.site.image_page import Shared
from generator.site.views import Nav


def page_inputs(image: Image, context: Shared, nav: Nav) -> tuple[object, ...]:
    """Everything `image_page` (and the notice and history beside it) reads for this image.

    The page is keyed by these rather than by its view, so that an unchanged image's view is
    never built: whatever the page comes to read must be added here.
    """
    audience = context.audience
    image_values: object = image
    if image.record_token:  # the record's digest and what was set on it since: equal values
        image_values = (image.record_token, *(getattr(image, name) for name in SET_LATER))
    group = context.siblings.get(image.id, [])
    others = tuple((i.id, i.vm, i.name, i.status) for i in group)
    written = audience.as_written.get(image.id)
    return (image_values, nav, context.repository, context.base_url, others, written,
            audience.private, audience.private_base_url)  # fmt: skip
