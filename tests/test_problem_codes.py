"""Every registered problem code is produced by a real repository, one case per code.

Each case is a tree for `write_tree` (checksums from the real md5sum), an optional step on the
real files, the settings it needs and the library command that finds the problem. A code added
to the registry without a case here fails `test_every_code_has_a_case`.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from generator import build as run
from generator.config import Config
from generator.demo import qcow2_header, vdi_header
from generator.problems import KINDS
from generator.read import disk_formats
from generator.verify.hashing import FileDigest, FileStat, hash_file
from tests.conftest import (
    SUMS,
    Entry,
    Fifo,
    Folder,
    Link,
    as_unprivileged,
    image_entries,
    md5sum,
    open_to_everyone,
    sums,
    write_tree,
)
from tests.test_formats import iso_bytes

IMG = "sl6.4_x86_64_sl11d_8GB_batch"
DATA = b"STAR image bytes\n"
GIB = 1 << 30
ZEROS = "0" * 32
Setup = Callable[[Path, Path], None]  # (repository, state directory)


@dataclass(frozen=True)
class Case:
    """A tree, an optional step on its real files, settings, and the command that reports."""

    files: Mapping[str, Entry] = field(default_factory=dict)
    setup: Setup | None = None
    command: str = "check"
    unprivileged: bool = False
    settings: Mapping[str, object] = field(default_factory=dict)


def mode(name: str, bits: int) -> Setup:
    """Set permission bits on one entry; the tree is opened to the unprivileged user first."""

    def setup(repo: Path, _state: Path) -> None:
        open_to_everyone(repo)
        os.chmod(repo / name, bits)

    return setup


def bad_utf8_name(repo: Path, _state: Path) -> None:
    """A file whose name is the bytes a Latin-1 system would write for an accented letter."""
    os.makedirs(repo / "xen", exist_ok=True)
    with open(os.fsencode(repo / "xen") + b"/caf\xe9_x86_64_sl11d_8GB.img", "wb") as handle:
        handle.write(DATA)


def state_file(prepare: Callable[[sqlite3.Connection], None]) -> Setup:
    """A state database made by the real program, then put in a condition by plain SQL."""

    def setup(repo: Path, state: Path) -> None:
        run.verify(Config(repository=repo, state=state, jobs=1))
        connection = sqlite3.connect(state / "state.sqlite")
        prepare(connection)
        connection.commit()
        connection.close()
        write_tree(repo, {f"xen/{IMG}.img": DATA + b"new", f"xen/{IMG}.checksum": SUMS})

    return setup


def qcow2_version(version: int) -> bytes:
    """The demo's qcow2 header for 8 GiB with another version number written in."""
    header = bytearray(qcow2_header(8 * GIB))
    struct.pack_into(">I", header, 4, version)
    return bytes(header)


def with_image(extra: Mapping[str, Entry]) -> dict[str, Entry]:
    """The usual image with its md5sum sidecar, plus the entries of one case."""
    return {**image_entries(f"xen/{IMG}.img", DATA), **extra}


def described(text: str | bytes) -> dict[str, Entry]:
    return with_image({f"xen/{IMG}.txt": text})


def checksum_text(text: str) -> dict[str, Entry]:
    return {f"xen/{IMG}.img": DATA, f"xen/{IMG}.checksum": text}


CASES: dict[str, Case] = {
    # names
    "name_too_few_fields": Case({"xen/sl5_x86.img": DATA}),
    "invalid_os": Case({"xen/5.3_x86_32_sl05c_8GB.img": DATA}),
    "invalid_arch": Case({"xen/sl5_86x!_32_sl05c_8GB.img": DATA}),
    "invalid_word_size": Case({"xen/sl5_x86_thirtytwo_sl05c_8GB.img": DATA}),
    "invalid_star_lib": Case({"xen/sl5_x86_32_05!c_8GB.img": DATA}),
    "invalid_max_size": Case({"xen/sl5_x86_32_sl05c_big.img": DATA}),
    "unknown_os": Case({"xen/plan9_x86_32_sl05c_8GB.img": DATA}),
    "unknown_arch": Case({"xen/sl5_mips_32_sl05c_8GB.img": DATA}),
    "unknown_word_size": Case({"xen/sl5_x86_24_sl05c_8GB.img": DATA}),
    "unknown_star_lib": Case({"xen/sl5_x86_32_dev_8GB.img": DATA}),
    "unknown_vm": Case({f"parallels/{IMG}.img": DATA}),
    "missing_extension": Case({f"xen/{IMG}": DATA}),
    "case_variant": Case(
        {
            "xen/sl6.4_x86_64_sl13b_8GB_a.img": DATA,
            "xen/sl6.4_x86_64_sl13b_8GB_b.img": DATA,
            "kvm/SL6.4_x86_64_SL13b_8GB_c.img": DATA,
        }
    ),
    # layout
    "file_at_root": Case({"README": "stray"}),
    "orphan_checksum": Case({f"xen/{IMG}.checksum": f"{ZEROS}  {IMG}.img\n"}),
    "orphan_description": Case({f"xen/{IMG}.txt": "no image"}),
    "nested_directory": Case({f"vmware/{IMG}/disk.vmdk": DATA, f"vmware/{IMG}/old/x": DATA}),
    "duplicate_stem": Case({f"xen/{IMG}.img": DATA, f"xen/{IMG}.qcow2": DATA}),
    "empty_image_directory": Case({f"vmware/{IMG}": Folder()}),
    "invalid_utf8_name": Case(setup=bad_utf8_name),
    "symlink_outside": Case(with_image({f"xen/{IMG}_out.img": Link("/etc/hostname")})),
    "symlink_loop": Case(with_image({f"xen/{IMG}_loop": Link(".")})),
    "broken_symlink": Case(with_image({f"xen/{IMG}.txt": Link("missing.txt")})),
    "not_regular_file": Case(with_image({f"xen/{IMG}_pipe.img": Fifo()})),
    "unreadable_entry": Case(with_image({}), mode("xen", 0o744), unprivileged=True),
    "unreadable_directory": Case(with_image({}), mode("xen", 0o000), unprivileged=True),
    # sidecars
    "invalid_checksum": Case(checksum_text("to be added\n")),
    "checksum_name_mismatch": Case(checksum_text(f"{ZEROS}  other.img\n")),
    "checksum_absolute_path": Case(
        {f"xen/{IMG}.img": DATA}, lambda repo, _: absolute_sums(repo), command="verify"
    ),
    "checksum_extra_entries": Case(
        {f"xen/{IMG}.img": DATA, "xen/gone.img.keep": DATA, f"xen/{IMG}.checksum": SUMS},
        lambda repo, _: add_line(repo, "gone.img"),
        command="verify",
    ),
    "checksum_unusual_form": Case(with_image({}), lambda repo, _: byte_order_mark(repo)),
    "duplicate_sidecar": Case(
        {
            f"vmware/{IMG}/disk.vmdk": DATA,
            f"vmware/{IMG}/{IMG}.txt": "inside",
            f"vmware/{IMG}.txt": "beside",
        }
    ),
    "invalid_front_matter": Case(described("---\n[a\n---\n")),
    "invalid_front_matter_key": Case(described("---\nmd5: mine\n---\nText\n")),
    "description_not_utf8": Case(described(b"caf\xe9\n")),
    "description_too_large": Case(described("x" * 300_000)),
    "unreadable_description": Case(
        described("text"), mode(f"xen/{IMG}.txt", 0o000), unprivileged=True
    ),
    "secret_redacted": Case(described("Log in with SEED=abcdef1234 then run the batch.\n")),
    "description_too_complex": Case(described("<b>" + "[" * (256 * 1024 - 10))),
    "secret_in_name": Case({"xen/sl6_x86_64_sl13b_8GB_SEED=hunter2.img": DATA}),
    # headers
    "truncated_header": Case({f"virtualbox/{IMG}.vdi": vdi_header(8 * GIB)[:0x4C]}),  # no fields
    "corrupt_header": Case({f"kvm/{IMG}.qcow2": qcow2_version(99)}),
    "truncated_image": Case({f"kvm/{IMG}.iso": iso_bytes(blocks=1000)}),  # file: 18 blocks
    "empty_file": Case({f"kvm/{IMG}.qcow2": b""}),
    "size_mismatch": Case({f"kvm/{IMG}.qcow2": qcow2_header(4 * GIB)}),
    "format_vm_mismatch": Case({f"virtualbox/{IMG}.img": qcow2_header(8 * GIB)}),
    "format_extension_mismatch": Case({f"kvm/{IMG}.vdi": qcow2_header(8 * GIB)}),
    # verification
    "checksum_mismatch": Case(checksum_text(f"{ZEROS}  {IMG}.img\n"), command="verify"),
    "unreadable": Case(
        {f"xen/{IMG}.img": DATA, f"xen/{IMG}.checksum": SUMS},
        mode(f"xen/{IMG}.img", 0o000),
        command="verify",
        unprivileged=True,
    ),
    "missing_checksum": Case({f"xen/{IMG}.img": DATA}, command="verify"),
    "member_missing": Case(
        {f"vmware/{IMG}/a.vmdk": DATA, f"vmware/{IMG}.checksum": f"{ZEROS}  b.vmdk\n"},
        command="verify",
    ),
    "member_not_in_checksum": Case(
        {
            f"vmware/{IMG}/a.vmdk": DATA,
            f"vmware/{IMG}/b.vmdk": DATA,
            f"vmware/{IMG}.checksum": sums("a.vmdk", inside=IMG),
        },
        command="verify",
    ),
    # trust
    "world_writable": Case(with_image({}), mode(f"xen/{IMG}.img", 0o666)),
    "untrusted_group_writable": Case(
        with_image({}), mode(f"xen/{IMG}.img", 0o664), settings={"trusted_groups": ("nogroup",)}
    ),
    "unexpected_owner": Case(with_image({}), settings={"owners": ("nobody",)}),
    # state
    "state_rebuilt": Case(with_image({}), lambda _, state: not_sqlite(state), command="verify"),
    "state_not_used": Case(
        with_image({}),
        state_file(lambda db: db.execute("PRAGMA user_version = 999")),
        command="verify",
    ),
    "state_not_saved": Case(
        with_image({}),
        state_file(
            lambda db: db.execute(
                "CREATE TRIGGER full BEFORE INSERT ON files "
                "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
            )
        ),
        command="verify",
    ),
    # lifecycle (front matter checked against the catalog)
    "invalid_field_value": Case(described("---\nend_of_life: next spring\n---\nOld.\n")),
    "replacement_missing": Case(described("---\nreplaced_by: xen/no_such_image\n---\nOld.\n")),
    "duplicate_content": Case(
        {**with_image({}), **image_entries(f"kvm/{IMG}.img", DATA)}, command="verify"
    ),
    "sizes_exceed_max": Case(described("---\nos_size: 6GB\nswap: 4GB\n---\nToo full.\n")),
}
# Codes no file content can cause: a parser bug guard and a race. Each has its own test below,
# through the code path that reports it, with the limit lowered or the race made certain.
# `signing_failed` (a GnuPG key the build cannot use) has its own in tests/test_signing.py.
DIRECT = {"read_budget_exceeded", "changing", "signing_failed"}


def not_sqlite(state: Path) -> None:
    """A state file that is no database at all, as a disk error or a stray copy leaves it."""
    write_tree(state, {"state.sqlite": b"not sqlite"})


def absolute_sums(repo: Path) -> None:
    """md5sum given the image's absolute path, as `md5sum /star/.../x.img > x.checksum` writes."""
    sidecar = repo / "xen" / f"{IMG}.checksum"
    sidecar.write_text(md5sum(repo / "xen", str(repo / "xen" / f"{IMG}.img")))


def byte_order_mark(repo: Path) -> None:
    """Put a UTF-8 byte order mark before md5sum's line, as some Windows editors save it."""
    sidecar = repo / "xen" / f"{IMG}.checksum"
    sidecar.write_text("\ufeff" + sidecar.read_text())


def add_line(repo: Path, name: str) -> None:
    """Append md5sum's line for another file (renamed away afterwards) to the image's sidecar."""
    folder = repo / "xen"
    os.rename(folder / f"{name}.keep", folder / name)
    line = md5sum(folder, name)
    (folder / name).unlink()
    with (folder / f"{IMG}.checksum").open("a") as sidecar:
        sidecar.write(line)


def test_every_code_has_a_case() -> None:
    assert sorted(set(KINDS) - set(CASES) - DIRECT) == []
    assert not set(CASES) & DIRECT and set(CASES) | DIRECT <= set(KINDS)


def reported_codes(tmp_path: Path, case: Case) -> set[str]:
    """Build the case's tree, run its command in this process, return the codes reported."""
    repo, state = write_tree(tmp_path / "repo", case.files), tmp_path / "state"
    if case.setup:
        case.setup(repo, state)
    config = replace(Config(repository=repo, state=state, jobs=1), **case.settings)
    command = getattr(run, case.command)

    def codes() -> list[str]:
        return sorted({p.code for p in command(config).catalog.problems})

    if not case.unprivileged:
        return set(codes())
    open_to_everyone(tmp_path)
    state.mkdir(exist_ok=True)
    os.chmod(state, 0o777)
    return set(as_unprivileged(codes))


@pytest.mark.parametrize("code", sorted(CASES))
def test_code_is_reported(tmp_path: Path, code: str) -> None:
    assert code in reported_codes(tmp_path, CASES[code])


def test_read_budget_exceeded_with_the_budget_lowered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No header parser reads past the budget; lowered below one header read, the guard fires."""
    repo = write_tree(tmp_path / "repo", image_entries(f"kvm/{IMG}.qcow2", qcow2_header(8 * GIB)))
    config = Config(repository=repo, jobs=1)
    assert run.check(config).catalog.problems == []
    real = disk_formats.CountingReader
    monkeypatch.setattr(disk_formats, "CountingReader", lambda fd, size: real(fd, size, budget=64))
    problems = run.check(config).catalog.problems
    assert [(p.path, p.code) for p in problems] == [(f"kvm/{IMG}.qcow2", "read_budget_exceeded")]


class Appending:
    """The real hashing, but the file grows by a byte each time a chunk of it has been read."""

    def reuse(self, member: FileStat) -> FileDigest | None:
        return None

    def digest(self, root: Path, member: FileStat, spare_core: bool = False) -> FileDigest:
        def grow(_count: int) -> None:
            with (root / member.relpath).open("ab") as handle:
                handle.write(b"+")

        return hash_file(root, member, on_bytes=grow, spare_core=spare_core)

    def cancel(self) -> None:
        return None


def test_changing_when_a_file_grows_while_it_is_read(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", image_entries(f"xen/{IMG}.img", DATA))
    config = Config(repository=repo, state=tmp_path / "state", jobs=1)
    result = run.verify(config, digester=Appending())
    assert [(p.path, p.code) for p in result.catalog.problems] == [(f"xen/{IMG}.img", "changing")]
    assert [i.status for i in result.catalog.images] == ["changing"]
