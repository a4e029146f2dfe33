"""Human labels for catalog values: what a person reads instead of `sl5.3` or `virtualBox`.

Labels are computed here, in Python, so templates and the browser script only display them.
Unknown values are shown as written: a label must never hide what the repository says.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from generator.convention import OS_RE, STAR_LIB_USUAL_RE

UNKNOWN = "Unknown"

OS_FAMILIES = {
    "sl": "Scientific Linux",
    "slc": "Scientific Linux CERN",
    "rhel": "Red Hat Enterprise Linux",
    "centos": "CentOS",
    "fedora": "Fedora",
    "ubuntu": "Ubuntu",
    "debian": "Debian",
    "alma": "AlmaLinux",
    "rocky": "Rocky Linux",
    "suse": "SUSE Linux",
    "opensuse": "openSUSE",
}
VM_NAMES = {
    "xen": "Xen",
    "kvm": "KVM",
    "virtualbox": "VirtualBox",
    "vmware": "VMware",
    "qemu": "QEMU",
    "hyperv": "Hyper-V",
}
ARCH_NAMES = {
    "x86": "x86",
    "sparc": "SPARC",
    "arm": "ARM",
    "alpha": "Alpha",
    "powerpc": "PowerPC",
    "avr": "AVR",
    "arm64": "ARM64",
    "aarch64": "AArch64",
    "ppc64": "PowerPC 64",
    "riscv": "RISC-V",
}
FORMAT_NAMES = {
    "raw": "Raw disk",
    "qcow": "QCOW",
    "qcow2": "QCOW2",
    "vdi": "VDI (VirtualBox)",
    "vmdk": "VMDK (VMware)",
    "vhd": "VHD",
    "vhdx": "VHDX",
    "iso9660": "ISO 9660",
}
STATUS_LABELS = {
    "verified": "Verified",
    "mismatch": "Checksum mismatch",
    "missing_checksum": "No checksum",
    "invalid_checksum": "Invalid checksum",
    "unreadable": "Unreadable",
    "changing": "Changing",
    "unverified": "Not verified",
    "pending": "Pending",
}
STATUS_EXPLANATIONS = {
    "verified": "The MD5 of the bytes on disk matches the .checksum file.",
    "mismatch": "The MD5 of the bytes on disk differs from the .checksum file: "
    "the image is damaged or the checksum is stale. Do not use it until this is resolved.",
    "missing_checksum": "There is no .checksum file, so nobody can tell whether a copy is intact.",
    "invalid_checksum": "The .checksum file is not md5sum output, so the image cannot be checked.",
    "unreadable": "The image could not be read when the catalog was built.",
    "changing": "The file changed while it was being read; the next run checks it again.",
    "unverified": "The catalog was built without reading the images (--no-verify).",
    "pending": "Not read yet: the run's hash budget (--hash-budget) ran out; a later run reads it.",
}
FIELD_LABELS = {
    "os_size": "Operating system size",
    "swap": "Swap space",
    "swap_size": "Swap space",
    "software_size": "STAR software size",
    "kernel": "Kernel",
    "maintainer": "Maintainer",
}


def os_label(value: str | None) -> str:
    """`sl5.3` -> `Scientific Linux 5.3`, `centOS5` -> `CentOS 5`; unknown families as written."""
    if not value:
        return UNKNOWN
    match = OS_RE.fullmatch(value)
    family = OS_FAMILIES.get(match["family"].lower()) if match else None
    if match is None or family is None:
        return value
    return f"{family} {match['version']}" if match["version"] else family


def vm_label(value: str | None) -> str:
    """`virtualBox` -> `VirtualBox`: directory names vary in case, products do not."""
    if not value:
        return UNKNOWN
    return VM_NAMES.get(value.lower(), value)


def arch_label(value: str | None) -> str:
    if not value:
        return UNKNOWN
    return ARCH_NAMES.get(value.lower(), value)


def word_size_label(value: int | str | None) -> str:
    return f"{value}-bit" if value not in (None, "") else UNKNOWN


def star_lib_label(value: str | None) -> str:
    """`sl05c` -> `SL05c`, the way STAR writes its library releases."""
    if not value:
        return UNKNOWN
    if STAR_LIB_USUAL_RE.fullmatch(value):
        return "SL" + value[2:]
    return value


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def format_label(value: str | None) -> str:
    if not value:
        return UNKNOWN
    return FORMAT_NAMES.get(value.lower(), value)


LIFECYCLE_LABELS = {"current": "Current", "deprecated": "Deprecated", "end_of_life": "End of life"}
FACET_LABELERS = {
    "vm": vm_label,
    "os": os_label,
    "arch": arch_label,
    "word_size": word_size_label,
    "star_lib": star_lib_label,
    "status": lambda value: status_label(value) if value else UNKNOWN,
    "format": format_label,
    "lifecycle": lambda value: LIFECYCLE_LABELS.get(value, "Current"),
    "kernel": lambda value: value or UNKNOWN,
    "min_ram": lambda value: value or UNKNOWN,
}


def facet_label(facet: str, value: str) -> str:
    """The label of one facet value ("" stands for a value the name did not give)."""
    return FACET_LABELERS[facet](value)


def field_label(key: str) -> str:
    """Front matter key -> heading: known keys by name, others `some_key` -> `Some key`."""
    return FIELD_LABELS.get(key.lower(), key.replace("_", " ").strip().capitalize() or key)


def field_value(value: Any) -> str:
    """Front matter value as text: lists joined, mappings as `key: value`, dates in ISO form."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(field_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {field_value(v)}" for k, v in value.items())
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


TITLE_WORDS = {"os": "OS", "utf8": "UTF-8", "vm": "VM", "md5": "MD5"}


def problem_title(code: str) -> str:
    """`checksum_mismatch` -> `Checksum mismatch`, `invalid_os` -> `Invalid OS`."""
    words = [TITLE_WORDS.get(word, word) for word in code.split("_")]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def time_label(iso: str | None) -> str:
    """`2024-03-01T08:30:00Z` -> `2024-03-01 08:30 UTC`; `never` when there is no time."""
    if not iso:
        return "never"
    return f"{iso[:10]} {iso[11:16]} UTC" if len(iso) >= 16 else iso


def date_label(iso: str | None) -> str:
    """The table's compact form, the day only: `2024-03-01`."""
    return iso[:10] if iso else "never"
