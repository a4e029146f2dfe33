"""Every form md5sum writes is read back; garbage is reported, never guessed at."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from generator.read.checksum import member_key, parse_checksum
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
    assert [(line.md5, line.name) for line in parsed.lines] == [
        (expected(image_dir / IMAGE), IMAGE)
    ]


def test_upper_case_hex_and_crlf(image_dir: Path) -> None:
    text = md5sum(image_dir, IMAGE)
    digest, name = text.split(maxsplit=1)
    parsed = parse_checksum(f"{digest.upper()}  {name.strip()}\r\n".encode())
    assert parsed.lines[0].md5 == expected(image_dir / IMAGE)
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
    assert [ln.md5 for ln in prefixed.lines] == [ln.md5 for ln in relative.lines]
    assert member_key("/star/data08/OSG/APP/vm/vmware/img_dir/a.vmdk", "img_dir") == "a.vmdk"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"not a checksum\n", "line 1 is not md5sum output"),
        (b"d41d8cd98f00b204e9800998ecf8427  short.img\n", "line 1"),
        (b"\xff\xfe garbage", "not UTF-8"),
        (b"d41d8cd98f00b204e9800998ecf8427e  a.img\nrubbish\n", "line 2"),
        (b"x" * (2 << 20), "bytes"),
    ],
)
def test_garbage_is_an_error_with_a_reason(data: bytes, fragment: str) -> None:
    parsed = parse_checksum(data)
    assert parsed.error is not None
    assert fragment in parsed.error
