"""What an export needs besides catalog.json: the site's address and the HEPiX list's publisher.

The configuration (`base-url`, `hepix:`) is read by `generator.config`, which uses the
checks here, so `build` and `export` accept exactly the same settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

SITE_EXPORTS = ("csv", "simplestreams", "hepix")  # the formats `exports:` may write into a site
# `hepix:` sub-keys: the endorser (required by every HEPiX list consumer) and optional fields.
HEPIX_REQUIRED = ("endorser-name", "endorser-email", "endorser-dn", "endorser-ca")
HEPIX_OPTIONAL = (
    "identifier",
    "title",
    "description",
    "uri",
    "source",
    "vo",
    "group",
    "mpuri",
    "user-fullname",
    "user-guid",
    "user-uri",
    "expires-days",
)


@dataclass(frozen=True)
class ExportSettings:
    """The settings an export may use; every one optional (CSV and simplestreams need none)."""

    base_url: str | None = None
    title: str = "STAR virtual machine images"
    hepix: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


NO_SETTINGS = ExportSettings()


def absolute_url(value: Any) -> str:
    """An http(s) URL with a host, so every link made from it is absolute."""
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an absolute http(s) URL such as https://host/path/")
    return value


def site_exports(value: Any) -> tuple[str, ...]:
    """`exports: [csv, hepix]`: known names, each once, in a fixed order."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of formats ({', '.join(SITE_EXPORTS)})")
    unknown = sorted(set(value) - set(SITE_EXPORTS))
    if unknown:
        raise ValueError(f"unknown format {', '.join(unknown)} (known: {', '.join(SITE_EXPORTS)})")
    return tuple(name for name in SITE_EXPORTS if name in value)


def hepix_settings(value: Any) -> Mapping[str, Any]:
    """The `hepix:` mapping: known sub-keys with string values (`expires-days` a number)."""
    if not isinstance(value, dict):
        raise ValueError("expected a mapping of HEPiX list settings")
    unknown = sorted(set(value) - {*HEPIX_REQUIRED, *HEPIX_OPTIONAL})
    if unknown:
        raise ValueError(f"unknown sub-key {', '.join(map(str, unknown))}")
    for key, item in value.items():
        number = key == "expires-days"
        if number and not (type(item) is int and item > 0):
            raise ValueError("expires-days: expected a whole number of days above 0")
        if not number and not (isinstance(item, str) and item):
            raise ValueError(f"{key}: expected a non-empty string")
    missing = [key for key in HEPIX_REQUIRED if key not in value]
    if missing:
        raise ValueError(f"missing {', '.join(missing)} (the list's endorser)")
    return MappingProxyType(dict(value))
