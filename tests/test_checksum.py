"""Every form md5sum writes is read back; garbage is reported, never guessed at."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from generator.digests import Digest
from generator.read.checksum import match_files, member_key, parse_checksum
from tests.conftest import md5sum, write_tree

IMAGE = "sl5.3_x86_32_sl05c_8GB_ec2.img"


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    return write_tree(tmp_path, {IMAGE: b"disk bytes\n" * 1000, "odd name\\with.img": b"x"})


def expected(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("flags", [(), ("--binary",), ("--text",), ("--tag",)])
def test_real_md5sum_output_forms(image_dir: Path, flags: tuple[str, ...]) -> None:
    parsed = parse_checksum(md5sum(image_dir, IMAGE, flags=flags).encode())
    assert parsed.error is None
    assert [(line.hex, line.name) for line in parsed.lines] == [
        (expected(image_dir / IMAGE), IMAGE)
    ]


def test_upper_case_hex_and_crlf(image_dir: Path) -> None:
    text = md5sum(image_dir, IMAGE)
    digest, name = text.split(maxsplit=1)
    parsed = parse_checksum(f"{digest.upper()}  {name.strip()}\r\n".encode())
    assert parsed.lines[0].hex == expected(image_dir / IMAGE)
    assert parsed.lines[0].name == IMAGE


def test_escaped_names_as_md5sum_writes_them(image_dir: Path) -> None:
    output = md5sum(image_dir, "odd name\\with.img")
    assert output.startswith("\\")  # md5sum escapes a backslash in the name
    parsed = parse_checksum(output.encode())
    assert parsed.lines[0].name == "odd name\\with.img"


def test_multi_file_lines_relative_or_prefixed(tmp_path: Path) -> None:
    write_tree(tmp_path, {"img_dir/a.vmdk": b"a", "img_dir/b.vmdk": b"b"})
    prefixed = parse_checksum(md5sum(tmp_path, "img_dir/a.vmdk", "img_dir/b.vmdk").encode())
    relative = parse_checksum(md5sum(tmp_path / "img_dir", "a.vmdk", "b.vmdk").encode())
    assert [member_key(ln.name, "img_dir") for ln in prefixed.lines] == ["a.vmdk", "b.vmdk"]
    assert [member_key(ln.name, "img_dir") for ln in relative.lines] == ["a.vmdk", "b.vmdk"]
    assert [ln.hex for ln in prefixed.lines] == [ln.hex for ln in relative.lines]
    assert member_key("/star/data08/OSG/APP/vm/vmware/img_dir/a.vmdk", "img_dir") == "a.vmdk"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"not a checksum\n", "no checksum line"),
        (b"d41d8cd98f00b204e9800998ecf8427  short.img\n", "no checksum line"),
        (b"\xff\xfe garbage", "no checksum line"),
        (b"# SEED=hunter2\nrubbish\n", "no checksum line"),
        (b"x" * (2 << 20), "bytes"),
    ],
)
def test_garbage_is_an_error_with_a_reason(data: bytes, fragment: str) -> None:
    parsed = parse_checksum(data)
    assert parsed.error is not None
    assert fragment in parsed.error


def test_other_lines_are_skipped_as_md5sum_skips_them() -> None:
    parsed = parse_checksum(b"# made by hand\nd41d8cd98f00b204e9800998ecf8427e  a.img\nrubbish\n")
    assert parsed.error is None and parsed.skipped == [1, 3] and not parsed.plain
    assert [(ln.hex, ln.name) for ln in parsed.lines] == [
        ("d41d8cd98f00b204e9800998ecf8427e", "a.img")
    ]


def test_error_messages_never_quote_the_file() -> None:
    assert "hunter2" not in (parse_checksum(b"SEED=hunter2\n").error or "x")


def test_a_bare_hash_serves_a_single_file_only() -> None:
    single = parse_checksum(b"D41D8CD98F00B204E9800998ECF8427E\r\n")
    match_files(single, "/repo", "xen", "a.img", ["xen/a.img"])
    assert single.expected == {"xen/a.img": (Digest("md5", "d41d8cd98f00b204e9800998ecf8427e"),)}
    assert single.oddities and not single.plain
    directory = parse_checksum(b"d41d8cd98f00b204e9800998ecf8427e\n")
    match_files(directory, "/repo", "xen", "img_dir", ["xen/img_dir/a.vmdk"])
    assert directory.error and not directory.expected
