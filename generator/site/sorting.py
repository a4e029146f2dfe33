"""How the inventory can be sorted: the menu people pick from and every key a URL may name."""

from __future__ import annotations

# The sort menu ("" is catalog order); any `sort=` key below works in a URL, `-` descending.
SORT_OPTIONS = (
    ("", "Catalog order"),
    ("name", "Name"),
    ("-first_seen", "Newest first"),
    ("-last_changed", "Recently changed"),
    ("-verified_at", "Recently verified"),
    ("-size_bytes", "Largest on disk"),
    ("-max_size", "Largest maximum size"),
    ("os", "Operating system"),
    ("star_lib", "STAR library"),
)
# Sortable keys (catalog.json fields), `:n` for numbers; the script reads them from the page.
SORT_KEYS = (
    "name vm os arch word_size:n star_lib max_size:n detail size_bytes:n status format "
    "verified_at first_seen last_changed"
)
