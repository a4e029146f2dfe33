"""Labels, the space rule and the sitemap as plain functions: one table per rule."""

from __future__ import annotations

import datetime as dt

import pytest

from generator.site.image_page import budget
from generator.site.labels import (
    arch_label,
    field_label,
    field_value,
    os_label,
    problem_title,
    star_lib_label,
    time_label,
    vm_label,
    word_size_label,
)
from generator.site.sitemap import sitemap_parts

GIB = 1 << 30


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("sl5.3", "Scientific Linux 5.3"),
        ("sl4", "Scientific Linux 4"),
        ("slc6", "Scientific Linux CERN 6"),
        ("ubuntu9.10", "Ubuntu 9.10"),
        ("fedora12", "Fedora 12"),
        ("centOS5", "CentOS 5"),
        ("rhel7", "Red Hat Enterprise Linux 7"),
        ("centos", "CentOS"),
        ("plan9", "plan9"),
        ("scientific-linux", "scientific-linux"),
        (None, "Unknown"),
    ],
)
def test_os_label(value: str | None, label: str) -> None:
    assert os_label(value) == label


@pytest.mark.parametrize(
    ("function", "value", "label"),
    [
        (vm_label, "virtualBox", "VirtualBox"),
        (vm_label, "xen", "Xen"),
        (vm_label, "kvm", "KVM"),
        (vm_label, "vmware", "VMware"),
        (vm_label, "bhyve", "bhyve"),
        (arch_label, "powerpc", "PowerPC"),
        (arch_label, "x86", "x86"),
        (word_size_label, 64, "64-bit"),
        (word_size_label, None, "Unknown"),
        (star_lib_label, "sl05c", "SL05c"),
        (star_lib_label, "dev", "dev"),
        (field_label, "os_size", "Operating system size"),
        (field_label, "build_host", "Build host"),
        (problem_title, "invalid_os", "Invalid OS"),
        (problem_title, "invalid_utf8_name", "Invalid UTF-8 name"),
        (time_label, "2024-03-01T13:33:20Z", "2024-03-01 13:33 UTC"),
        (time_label, None, "never"),
    ],
)
def test_labels(function, value, label: str) -> None:  # type: ignore[no-untyped-def]
    assert function(value) == label


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (["a", "b"], "a, b"),
        ({"cpu": 2, "ram": "4GB"}, "cpu: 2; ram: 4GB"),
        (True, "yes"),
        (None, "—"),
        (dt.date(2024, 3, 1), "2024-03-01"),
        (3.5, "3.5"),
    ],
)
def test_front_matter_values_read_as_text(value: object, text: str) -> None:
    assert field_value(value) == text


def test_space_rule_leaves_the_rest_for_data() -> None:
    result = budget(8 * GIB, {"os_size": "2GB", "swap": "1GB", "software_size": "3GB"})
    assert result is not None
    assert [(p.label, p.value) for p in result.parts] == [
        ("Operating system", "2.0 GiB"),
        ("Swap space", "1.0 GiB"),
        ("STAR software", "3.0 GiB"),
    ]
    assert (result.remaining, result.overflow, result.missing) == ("2.0 GiB", False, [])


def test_space_rule_reports_sizes_over_the_maximum() -> None:
    result = budget(4 * GIB, {"os_size": "2 GB", "swap_size": "1GiB", "software_size": "3G"})
    assert result is not None and result.overflow and result.remaining == "2.0 GiB"


def test_space_rule_names_the_parts_it_was_not_given() -> None:
    result = budget(8 * GIB, {"os_size": "2GB", "swap": "lots"})
    assert result is not None
    assert result.missing == ["swap space", "star software"]
    assert result.remaining == "6.0 GiB"


@pytest.mark.parametrize(
    ("maximum", "fields"),
    [(8 * GIB, {}), (None, {"os_size": "2GB"}), (8 * GIB, {"os_size": 2})],
)
def test_space_rule_is_not_shown_without_figures(maximum: int | None, fields: dict) -> None:
    assert budget(maximum, fields) is None


def test_sitemap_escapes_and_joins_the_base_url() -> None:
    xml = b"".join(sitemap_parts(["", "images/a%26b/x/"], "https://example.org/vm")).decode()
    assert "<loc>https://example.org/vm/</loc>" in xml
    assert "<loc>https://example.org/vm/images/a%26b/x/</loc>" in xml
    assert b"".join(sitemap_parts(["a&b/"], None)).decode().count("<loc>a&amp;b/</loc>") == 1
