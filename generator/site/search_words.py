"""The words the inventory search matches, defined once for the page and search-index.json.

A token is a run of letters and digits (everything else separates), lower-cased: `sl6.4_x86_64`
is `sl6 4 x86 64`. The browser script splits what people type by the same rule (`tokens` in
static/catalog.js; a test keeps the two equal) and matches: a number against whole numbers (`6`
never finds `64`), other words as the start of a token, a typed run of letters and digits that
starts no token as its parts (`64bit` as `64` and `bit`), and 8 or more hex digits also against
the start of the MD5 (which is not among the words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from generator.catalog.model import Image
from generator.site.labels import field_label, field_value

RUN = re.compile(r"[^\W_]+")
MAX_DESCRIPTION_WORDS = 400  # distinct words of a description kept: the index stays lean


def tokens(text: str) -> list[str]:
    """Every token of `text`, in order."""
    return RUN.findall(text.lower())


def search_words(image: Image, labels: Iterable[str]) -> str:
    """The image's distinct tokens: name fields and their labels, then front matter, then the
    description (capped), joined by spaces."""
    named = [image.name, image.vm, image.detail or "", image.max_size or "", *labels]
    if image.word_size is not None:
        named.append(f"{image.word_size}-bit")
    words = dict.fromkeys(token for text in named for token in tokens(text))
    for key, value in image.fields.items():
        words.update(dict.fromkeys(tokens(f"{field_label(key)} {field_value(value)}")))
    extra = dict.fromkeys(t for t in tokens(image.description_text) if t not in words)
    words.update(dict.fromkeys(list(extra)[:MAX_DESCRIPTION_WORDS]))
    return " ".join(words)
