"""The HEPiX image list (`hepix-imagelist.json`): the catalog for grid sites' image subscribers.

A list names its endorser (the person vouching for the images, with an X.509 DN and CA) and
each image's download address and SHA-512; consumers such as atrope or vmcatcher refuse a list
or an image without them. So only single-file images that were verified, have a `sha512` and a
`download_url` are listed: a directory image has no single address, and listing an image whose
bytes did not match its `.checksum` would ask sites to install it. S/MIME signing is separate.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from generator.errors import ConfigError
from generator.export.clean import json_file
from generator.export.markdown import summary
from generator.export.settings import ExportSettings
from generator.export.simplestreams import version_name
from generator.site.labels import os_label, vm_label

FILE = "hepix-imagelist.json"
NAMESPACE = uuid.UUID("0b6b2a52-7c0e-4d8e-9a51-3f1d6c4e8a21")  # this export's uuid5 namespace
DEFAULT_EXPIRY_DAYS = 365
OS_VERSION = re.compile(r"^([A-Za-z]+)([0-9][0-9.]*)?")


def image_list(catalog: dict[str, Any], settings: ExportSettings) -> dict[str, bytes]:
    """`{FILE: bytes}`; refuses (exit 2) without the endorser the format requires."""
    if not settings.hepix:
        raise ConfigError(
            "the hepix export needs the list's endorser: give --config FILE with a hepix: "
            "mapping (endorser-name, endorser-email, endorser-dn, endorser-ca)"
        )
    return {FILE: json_file({"hv:imagelist": list_fields(catalog, settings)})}


def list_fields(catalog: dict[str, Any], settings: ExportSettings) -> dict[str, Any]:
    hepix, created = settings.hepix, _time(catalog.get("generated_at"))
    days = hepix.get("expires-days", DEFAULT_EXPIRY_DAYS)
    uri = hepix.get("uri") or (
        f"{settings.base_url.rstrip('/')}/{FILE}" if settings.base_url else ""
    )
    if not uri:
        raise ConfigError("the hepix export needs base-url or hepix: uri (the list's address)")
    fields = {
        "dc:date:created": _iso(created),
        "dc:date:expires": _iso(created + dt.timedelta(days=days)),
        "dc:identifier": hepix.get("identifier")
        or str(uuid.uuid5(NAMESPACE, str(catalog.get("repository", "")))),
        "dc:title": hepix.get("title") or settings.title,
        "dc:description": hepix.get("description") or f"{settings.title}: the STAR VM catalog",
        "dc:source": hepix.get("source") or settings.base_url or uri,
        "hv:uri": uri,
        "hv:version": created.strftime("%Y%m%d%H%M%S"),
        "hv:endorser": {
            "hv:x509": {
                "dc:creator": hepix["endorser-name"],
                "hv:email": hepix["endorser-email"],
                "hv:dn": hepix["endorser-dn"],
                "hv:ca": hepix["endorser-ca"],
            }
        },
        "hv:images": [
            {"hv:image": image_fields(image, hepix)}
            for image in catalog.get("images", [])
            if listable(image)
        ],
    }
    if hepix.get("vo"):
        fields["ad:vo"] = hepix["vo"]
    return fields


def listable(image: dict[str, Any]) -> bool:
    """A single verified file with a download address and a SHA-512."""
    return (
        not image.get("multi_file")
        and image.get("status") == "verified"
        and bool(image.get("download_url"))
        and bool(image.get("sha512"))
    )


def image_fields(image: dict[str, Any], hepix: Any) -> dict[str, Any]:
    osname, osversion = os_parts(image.get("os"))
    page = image.get("permalink") or image["download_url"]
    return {
        "dc:identifier": str(uuid.uuid5(NAMESPACE, image["id"])),
        "dc:title": image["name"],
        "dc:description": summary(image),
        "hv:uri": image["download_url"],
        "hv:size": image.get("size_bytes") or 0,
        "hv:version": version_name(image),
        "hv:format": (image.get("format") or image.get("extension") or "raw").upper(),
        "hv:hypervisor": vm_label(image["vm"]),
        "sl:checksum:sha512": image["sha512"],
        "sl:arch": arch(image.get("arch"), image.get("word_size")),
        "sl:os": "Linux",
        "sl:osname": osname,
        "sl:osversion": osversion,
        "sl:comments": image.get("description") or "",
        "ad:group": hepix.get("group") or "STAR",
        "ad:mpuri": hepix.get("mpuri") or page,
        "ad:user:fullname": hepix.get("user-fullname") or hepix["endorser-name"],
        "ad:user:guid": hepix.get("user-guid") or hepix["endorser-dn"],
        "ad:user:uri": hepix.get("user-uri") or f"mailto:{hepix['endorser-email']}",
    }


def os_parts(os_field: Any) -> tuple[str, str]:
    """`sl5.3` -> (`Scientific Linux`, `5.3`); unknown parts are empty strings."""
    match = OS_VERSION.match(os_field) if isinstance(os_field, str) else None
    if match is None:
        return "", ""
    family, version = match.group(1), match.group(2) or ""
    return os_label(family), version


def arch(name: Any, word_size: Any) -> str:
    """The names grid middleware uses: `x86_64`, `i686`; others as the image name gives them."""
    if name == "x86":
        return {64: "x86_64", 32: "i686"}.get(word_size, "x86")
    return str(name or "")


def _time(iso: Any) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00")).astimezone(dt.UTC)
    except ValueError:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _iso(when: dt.datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")
