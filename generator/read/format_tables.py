"""What the catalog knows about disk formats without reading any: the tables and result types.

Kept apart from `formats` (the header readers) so that commands that read no headers, such as
`verify`, do not pay for importing them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

COMPRESSION_SUFFIXES: Mapping[str, str] = MappingProxyType(
    {"gz": "gzip", "xz": "xz", "bz2": "bzip2", "zst": "zstd"}
)

# Which formats each hypervisor directory may hold; ISO boot media works under all of them.
DEFAULT_VM_FORMATS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "xen": frozenset({"raw", "qcow2", "vhd", "iso9660"}),
        "kvm": frozenset({"raw", "qcow2", "qcow", "iso9660"}),
        "virtualbox": frozenset({"vdi", "vmdk", "vhd", "iso9660"}),
        "vmware": frozenset({"vmdk", "iso9660"}),
        "hyperv": frozenset({"vhd", "vhdx", "iso9660"}),
    }
)
DEFAULT_EXTENSION_FORMATS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        # `.img` is the generic disk-image extension (the spec's own VirtualBox example uses it)
        "img": frozenset({"raw", "qcow2", "qcow", "vdi", "vmdk", "vhd"}),
        "iso": frozenset({"iso9660"}),
        **{ext: frozenset({ext}) for ext in ("raw", "qcow", "qcow2", "vdi", "vmdk", "vhd", "vhdx")},
    }
)


@dataclass(frozen=True)
class FormatRules:
    """Which formats each VM directory and each extension may hold (configurable)."""

    vm_formats: Mapping[str, Collection[str]]
    extension_formats: Mapping[str, Collection[str]]


@dataclass(frozen=True)
class ImageFormat:
    """The image's format as the catalog shows it, plus each member's for directory images."""

    format: str | None = None
    virtual_size_bytes: int | None = None
    compression: str | None = None
    members: dict[str, str] = field(default_factory=dict)
