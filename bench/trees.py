"""Benchmark data, made under a temporary directory: big random files, synthetic repositories."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from generator.demo import qcow2_header, vdi_header, vmdk_sparse_header

VMS = ("xen", "kvm", "virtualbox", "vmware")
CHUNK = 1 << 20


def random_file(path: Path, size: int) -> str:
    """Write `size` random bytes; return their MD5 (computed while writing)."""
    digest = hashlib.md5(usedforsecurity=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        for _ in range(size // CHUNK):
            block = os.urandom(CHUNK)
            digest.update(block)
            handle.write(block)
    return digest.hexdigest()


def big_image_repository(root: Path, count: int, size: int) -> list[Path]:
    """`count` single-file images of `size` random bytes, with their checksums."""
    paths = []
    for n in range(count):
        path = root / "kvm" / f"sl7.{n}_x86_64_sl20a_8GB_bench.img"
        md5 = random_file(path, size)
        (path.parent / f"{path.stem}.checksum").write_text(f"{md5}  {path.name}\n")
        paths.append(path)
    return paths


def synthetic_repository(root: Path, count: int) -> None:
    """`count` tiny images spread over four VM directories, each with a correct `.checksum`."""
    for vm in VMS:
        (root / vm).mkdir(parents=True, exist_ok=True)
    for n in range(count):
        write_image(root / VMS[n % len(VMS)], stem_of(n), f"image {n}\n".encode())


def stem_of(n: int) -> str:
    """The name, without extension, of the tiny image number `n`."""
    return f"sl7.{n % 10}_x86_64_sl20a_8GB_n{n:06d}"


def write_image(directory: Path, stem: str, data: bytes) -> None:
    """`<stem>.img` holding `data`, and its `.checksum` as md5sum writes it."""
    (directory / f"{stem}.img").write_bytes(data)
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    (directory / f"{stem}.checksum").write_text(f"{md5}  {stem}.img\n")


def description_text(n: int) -> str:
    """A few lines of Markdown as STAR writes them; one in five opens with front matter."""
    front = f"---\nmaintainer: starvm{n % 7}\nkernel: 3.10.{n % 50}\n---\n" if n % 5 == 0 else ""
    return (
        f"{front}# Worker image {n}\n\nScientific Linux with the STAR library `sl20a`, built for"
        f" **grid** jobs.\n\n- root 5.34.{n % 40}\n- geant 3.21\n\nSee the "
        f"[twiki](https://www.star.bnl.gov/twiki/Vm{n % 13}) for how to start it.\n"
    )


# STAR's images carry headers that agree with their names (the size field is the disk's size),
# each in the format its VM directory expects: a bench image is such a header and a few bytes
# of its own. One in `RAW_EVERY` is a raw image, whose few bytes disagree with the "8GB" of
# its name: a repository's few warnings, not one on every image.
SIZE = 8 << 30
HEADERS = {"xen": qcow2_header, "kvm": qcow2_header, "virtualbox": vdi_header}
RAW_EVERY = 100


def star_image(n: int) -> tuple[str, bytes]:
    """Image number `n` as STAR keeps them: its VM directory and its bytes."""
    vm = VMS[n % len(VMS)]
    header = b"" if n % RAW_EVERY == RAW_EVERY - 1 else HEADERS.get(vm, vmdk_sparse_header)(SIZE)
    return vm, header + f"image {n}\n".encode()


def star_like_repository(root: Path, count: int) -> None:
    """`count` tiny images as STAR keeps them: each with a `.checksum` and a `.txt` description."""
    for n in range(count):
        add_image(root, n)


def add_image(root: Path, n: int) -> None:
    """Image number `n`, with its checksum and description."""
    vm, data = star_image(n)
    directory = root / vm
    directory.mkdir(parents=True, exist_ok=True)
    write_image(directory, stem_of(n), data)
    (directory / f"{stem_of(n)}.txt").write_text(description_text(n))
