"""The naming convention as one table: name -> fields, or name -> problem codes."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from generator.catalog.model import image_url
from generator.config import Config
from generator.convention import parse_max_size
from generator.read.names import KnownValues, parse_name, split_extension

CONFIG = Config()
KNOWN = KnownValues(CONFIG.known_vms, CONFIG.known_os, CONFIG.known_arch, CONFIG.known_word_sizes)
GB = 1 << 30

VALID = [
    # name, is_dir, os, arch, word, lib, max size, bytes, detail, extension
    (
        "sl5.3_x86_32_sl05c_8GB_ec2.img",
        False,
        "sl5.3",
        "x86",
        32,
        "sl05c",
        "8GB",
        8 * GB,
        "ec2",
        "img",
    ),
    (
        "ubuntu9.10_x86_32_sl05c_10GB_ec2.img",
        False,
        "ubuntu9.10",
        "x86",
        32,
        "sl05c",
        "10GB",
        10 * GB,
        "ec2",
        "img",
    ),
    ("sl4_x86_32_sl08e_8GB_ec2.img", False, "sl4", "x86", 32, "sl08e", "8GB", 8 * GB, "ec2", "img"),
    (
        "fedora12_x86_64_sl10k_16GB.qcow2",
        False,
        "fedora12",
        "x86",
        64,
        "sl10k",
        "16GB",
        16 * GB,
        None,
        "qcow2",
    ),
    (
        "centOS5_x86_64_sl10c_40GB_analysis",
        True,
        "centOS5",
        "x86",
        64,
        "sl10c",
        "40GB",
        40 * GB,
        "analysis",
        None,
    ),
    (
        "sl5.3_x86_32_sl05c_8GB_grid_worker_v2.img.gz",
        False,
        "sl5.3",
        "x86",
        32,
        "sl05c",
        "8GB",
        8 * GB,
        "grid_worker_v2",
        "img.gz",
    ),
    (
        "sl5.3_x86_32_sl05c_512MB_tiny.img",
        False,
        "sl5.3",
        "x86",
        32,
        "sl05c",
        "512MB",
        512 << 20,
        "tiny",
        "img",
    ),
    (
        "sl5.3_x86_32_sl05c_2TB_big.img",
        False,
        "sl5.3",
        "x86",
        32,
        "sl05c",
        "2TB",
        2 << 40,
        "big",
        "img",
    ),
    (
        "sl5.3_x86_32_sl05c_1.5GB_half.vdi",
        False,
        "sl5.3",
        "x86",
        32,
        "sl05c",
        "1.5GB",
        3 << 29,
        "half",
        "vdi",
    ),
    (
        "sl5.3_x86_32_sl05c_8GB_ec2.v2.img",
        False,
        "sl5.3",
        "x86",
        32,
        "sl05c",
        "8GB",
        8 * GB,
        "ec2.v2",
        "img",
    ),
]


@pytest.mark.parametrize(
    ("name", "is_dir", "os_", "arch", "word", "lib", "size", "size_bytes", "detail", "ext"), VALID
)
def test_valid_names_parse_into_fields(
    name, is_dir, os_, arch, word, lib, size, size_bytes, detail, ext
) -> None:
    parsed, problems = parse_name(f"xen/{name}", name, is_dir, KNOWN)
    assert problems == []
    assert (parsed.os, parsed.arch, parsed.word_size, parsed.star_lib) == (os_, arch, word, lib)
    assert (parsed.max_size, parsed.max_size_bytes, parsed.detail, parsed.extension) == (
        size,
        size_bytes,
        detail,
        ext,
    )
    assert parsed.valid


PROBLEMS = [
    # name, is_dir, expected (code, severity) pairs
    ("sl5.3_x86_32_sl05c.img", False, {("name_too_few_fields", "error")}),
    ("readme", False, {("name_too_few_fields", "error"), ("missing_extension", "warning")}),
    ("sl5.3_x86_thirtytwo_sl05c_8GB.img", False, {("invalid_word_size", "error")}),
    ("sl5.3_x86_32_sl05c_eightGB.img", False, {("invalid_max_size", "error")}),
    ("sl5.3_x86_32_sl05c_8XB.img", False, {("invalid_max_size", "error")}),
    ("5.3_x86_32_sl05c_8GB.img", False, {("invalid_os", "error")}),
    ("sl5.3_x+86_32_sl05c_8GB.img", False, {("invalid_arch", "error")}),
    ("sl5.3_x86_32_!lib_8GB.img", False, {("invalid_star_lib", "error")}),
    ("sl5.3_mips_32_sl05c_8GB.img", False, {("unknown_arch", "warning")}),
    ("sl5.3_x86_24_sl05c_8GB.img", False, {("unknown_word_size", "warning")}),
    ("gentoo2_x86_32_sl05c_8GB.img", False, {("unknown_os", "warning")}),
    ("sl5.3_x86_32_dev_8GB.img", False, {("unknown_star_lib", "warning")}),
    ("sl5.3_x86_32_sl05c_8GB_ec2", False, {("missing_extension", "warning")}),
    ("sl5.3__32_sl05c_8GB.img", False, {("name_too_few_fields", "error")}),
]


@pytest.mark.parametrize(("name", "is_dir", "expected"), PROBLEMS)
def test_bad_names_give_problem_codes(
    name: str, is_dir: bool, expected: set[tuple[str, str]]
) -> None:
    _, problems = parse_name(f"xen/{name}", name, is_dir, KNOWN)
    assert {(p.code, p.severity) for p in problems} == expected
    assert all(p.path == f"xen/{name}" for p in problems)


def test_messages_name_field_value_and_expectation() -> None:
    _, problems = parse_name("xen/x", "sl5.3_x86_thirtytwo_sl05c_8GB.img", False, KNOWN)
    assert "word size" in problems[0].message
    assert "'thirtytwo'" in problems[0].message
    assert "expected" in problems[0].message


def test_invalid_field_leaves_others_parsed() -> None:
    parsed, _ = parse_name("xen/x", "sl5.3_x86_thirtytwo_sl05c_8GB_ec2.img", False, KNOWN)
    assert parsed.word_size is None and not parsed.valid
    assert (parsed.os, parsed.star_lib, parsed.max_size_bytes) == ("sl5.3", "sl05c", 8 * GB)


def test_known_values_are_configurable() -> None:
    known = KnownValues(KNOWN.vms, KNOWN.os_families, (*KNOWN.arches, "mips"), KNOWN.word_sizes)
    _, problems = parse_name("xen/x", "sl5.3_mips_32_sl05c_8GB.img", False, known)
    assert problems == []


@pytest.mark.parametrize(
    ("filename", "stem", "ext"),
    [
        ("sl5.3_x86_32_sl05c_8GB_ec2.img", "sl5.3_x86_32_sl05c_8GB_ec2", "img"),
        ("sl5.3_x86_32_sl05c_8GB.img.xz", "sl5.3_x86_32_sl05c_8GB", "img.xz"),
        ("sl5.3_x86_32_sl05c_8GB", "sl5.3_x86_32_sl05c_8GB", None),
        ("sl5.3_x86_32_sl05c_8GB_.hidden", "sl5.3_x86_32_sl05c_8GB_.hidden", None),
    ],
)
def test_split_extension_only_looks_past_last_underscore(
    filename: str, stem: str, ext: str | None
) -> None:
    assert split_extension(filename) == (stem, ext)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("8GB", 8 * GB),
        ("8gb", 8 * GB),
        ("8G", 8 * GB),
        ("8GiB", 8 * GB),
        ("100MB", 100 << 20),
        ("8", None),
        ("GB", None),
    ],
)
def test_max_size_units_are_binary(text: str, size: int | None) -> None:
    assert parse_max_size(text) == size


@pytest.mark.parametrize(
    "image_id",
    [
        "xen/sl5.3_x86_32_sl05c_8GB_ec2",
        "kvm/a-b~c.d_e",
        "kvm/name with space",
        "kvm/100%",
        "kvm/a#b?c",
        "vm dir/plain",
        "kvm/ünï",
        "kvm/a/b",  # a second slash stays encoded in the stem
        "kvm/",
        "/stem",
    ],
)
def test_a_permalink_is_its_id_percent_encoded_part_by_part(image_id: str) -> None:
    """Ids that need no encoding skip `quote`; the address is the same as with it."""
    vm, _, stem = image_id.partition("/")
    assert image_url(image_id) == f"images/{quote(vm, safe='')}/{quote(stem, safe='')}/"
