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
    """The distinct tokens of the image's fields and their labels that its name lacks, joined
    by spaces (the script adds the name's own tokens: the index does not carry them twice)."""
    named = [image.vm, image.detail or "", image.max_size or "", *labels]
    if image.word_size is not None:
        named.append(f"{image.word_size}-bit")
    own = set(tokens(image.name))
    return " ".join(dict.fromkeys(t for text in named for t in tokens(text) if t not in own))


def text_words(image: Image) -> str:
    """The distinct tokens of the front matter (keys and values) and of the description (the
    first MAX_DESCRIPTION_WORDS). Kept apart from `search_words`: images often share a
    description, and search-index.json stores each distinct text once."""
    words: dict[str, None] = {}
    for key, value in image.fields.items():
        words.update(dict.fromkeys(tokens(f"{field_label(key)} {field_value(value)}")))
    described = dict.fromkeys(tokens(image.description_text))
    words.update(dict.fromkeys(list(described)[:MAX_DESCRIPTION_WORDS]))
    return " ".join(words)
