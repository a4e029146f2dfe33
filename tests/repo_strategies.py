"""Hypothesis strategies for whole repositories: odd names, sidecars, descriptions, links, FIFOs.

A strategy draws a plan (a list of `Entry`); `materialize` writes it to disk. Front matter that
once stopped every run (`HOSTILE_FRONT_MATTER`) is drawn like any other input, and each case is
also tried alone in `test_properties.py`.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

# Characters names are made of: plain ones, separators, shell and terminal specials, Unicode,
# and undecodable bytes (surrogateescape, so `os.fsencode` writes the raw byte).
ODD_CHARS = (
    "abcxyzXYZ0189_.- ;$'\"\\*?`|&<>()[]{}#~!%=+,:@\n\r\t\x1b\x07\x7f\x85\x9b"
    "\u202e\u2066\u200bé漢\U0001f600\udcff\udc80\udce9"
)
ODD = st.text(alphabet=ODD_CHARS, min_size=1, max_size=12)

VMS = ["xen", "kvm", "virtualbox", "vmware", "Xen", "qemu", "v m", "x\x1b[2Jy", "\udcffvm"]
OS = ["sl5.3", "SL5.3", "slc4.4", "centos7", "ubuntu9.10", "fedora", "sl", "5.3", "sL5.3"]
ARCH = ["x86", "X86", "arm", "sparc", "x86-64", "avr", "mips"]
BITS = ["32", "64", "0", "016", "128", "99999999999999999999999", "3.5"]
LIB = ["sl05c", "SL05C", "sl5", "dev", "sl10a", "sl05cx"]
SIZE = ["2GB", "8gb", "1TB", "0MB", "99999999999999999999TB", "1.5GB", "GB", "12", "-1GB"]
EXT = ["img", "qcow2", "vdi", "vmdk", "iso", "IMG", "vhd", "tar.gz", "img.img", "qcow"]

# Starts of real disk headers, so header detection meets plausible and truncated ones.
HEADERS = [
    b"",
    b"QFI\xfb\x00\x00\x00\x03",
    b"QFI\xfb\x00\x00\x00\x02" + b"\x00" * 16 + b"\x00\x00\x00\x10" + b"\xff" * 8,
    b"<<< Oracle VM VirtualBox Disk Image >>>\n",
    b"KDMV\x01\x00\x00\x00",
    b"conectix",
    b"\x00" * 0x8001 + b"CD001",
]


def _field(values: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(values), ODD, st.just(""))


@st.composite
def image_names(draw: st.DrawFn) -> str:
    """Mostly names near the convention, with odd fields, case, separators and lengths."""
    if draw(st.integers(0, 9)) == 0:
        return draw(ODD)
    fields = [draw(_field(v)) for v in (OS, ARCH, BITS, LIB, SIZE)]
    if draw(st.booleans()):
        fields.append(draw(_field(["ec2", "base", "with_root", "A b"])))
    sep = draw(st.sampled_from(["_", "_", "_", "__", "-", " ", "."]))
    stem = sep.join(fields)
    if draw(st.integers(0, 19)) == 0:
        stem += "x" * draw(st.integers(100, 260))
    ext = draw(st.one_of(st.sampled_from(EXT), st.just(""), ODD))
    return f"{stem}.{ext}" if ext else stem


def fits(name: str) -> bool:
    """A name the file system accepts (NAME_MAX 255 bytes, no `/`, not `.` or `..`)."""
    raw = os.fsencode(name)
    return 0 < len(raw) <= 255 and b"/" not in raw and b"\0" not in raw and name not in (".", "..")


CHECKSUM_FORMS = [
    "none",
    "text",
    "binary",
    "tag",
    "upper",
    "crlf",
    "bom",
    "dot_slash",
    "wrong_hash",
    "other_name",
    "garbage",
    "empty",
    "two_lines",
]

FRONT_MATTER = [
    "kernel: 2.6.18\nmaintainer: Jérôme\n",
    "- a\n- b\n",
    "just a string\n",
    "a: [\n",
    "a: b: c\n",
    "? [complex, key]\n: value\n",
    "a: &x 1\nb: *x\n",
    "a: &a [1, 2]\nb: &b [*a, *a]\nc: [*b, *b]\n",
    "x: !!python/object/apply:os.system ['touch pwned']\n",
    "\tkey: tab\n",
    "k: 1\nk: 2\n",
    "os: overrides a catalog field\nmd5: 0\n",
    "Weird Key-Name: 1\n'9bad': 2\n\"\\x1b[31m\": 3\n",
    "when: 2020-01-02\nnumber: 12345678901234567890\nflag: yes\nnone: ~\n",
    "nested: {a: {b: {c: [1, {d: e}]}}}\n",
    "password: hunter2\nSEED: abc\n",
    "",
    "---\n",
]

MARKDOWN = [
    "# Title\n\nSome *text* with a [link](http://example.org) and `code`.\n",
    "<script>alert(1)</script><img src=x onerror=alert(1)>\n",
    "[x](javascript:alert(1))\n",
    "```\ncode fence\n",
    "date '+%y%m SEED=rotatingSeed' | md5sum | base64\n",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n",
    "line\x1b[31m red \x00 nul \r\n",
    "> quote\n>> deeper\n- list\n  - nested\n",
    "&amp; &#0; &#x110000; <!-- comment -->\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n",
]

# Front matter that once stopped every run with a traceback (issue 9, section 3): each must be
# one `invalid_front_matter` problem, or a harmless value, while the rest publishes.
HOSTILE_FRONT_MATTER: dict[str, tuple[str, str]] = {
    "impossible_date": ("released: 2020-13-45\n", "ValueError from the YAML date"),
    "recursive_alias": ("a: &a [*a]\n", "RecursionError on a self-referencing alias"),
    "lone_surrogate": ('x: "\\ud800"\n', "UnicodeEncodeError writing catalog.json"),
    "huge_integer": (f"n: {'9' * 5000}\n", "ValueError: integer string conversion limit"),
    "deep_nesting": ("x: " + "[" * 1000 + "]" * 1000 + "\n", "RecursionError in PyYAML"),
    "nan": ("x: .nan\ny: -.inf\n", "NaN/Infinity make catalog.json invalid JSON"),
    "alias_bomb": (
        "a: &a [x,x,x,x,x,x,x,x,x]\n"
        + "".join(
            f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
            for p, n in zip("abcde", "bcdef", strict=True)
        ),
        "alias expansion without a budget (huge catalog.json)",
    ),
}


def front_matter() -> st.SearchStrategy[str]:
    fixed = st.sampled_from(FRONT_MATTER)
    text = ODD
    drawn = st.dictionaries(
        text, st.one_of(text, st.integers(-(10**6), 10**6), st.booleans()), max_size=4
    )
    dumped = drawn.map(_yaml_dump)
    hostile = st.sampled_from([text for text, _ in HOSTILE_FRONT_MATTER.values()])
    return st.one_of(fixed, dumped, hostile)


def _yaml_dump(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, allow_unicode=True)


@st.composite
def descriptions(draw: st.DrawFn) -> bytes:
    """A `.txt`: maybe front matter, Markdown pieces, nesting, odd text, odd encodings."""
    body = "".join(draw(st.lists(st.sampled_from(MARKDOWN), max_size=4)))
    body += draw(st.text(max_size=60))
    depth = draw(st.integers(0, 300))
    if depth and draw(st.booleans()):
        body += "[" * depth + "x" + "](y)" * min(depth, 50)
    elif depth:
        body += "> " * min(depth, 60) + "deep\n" + "*" * depth
    text = f"---\n{draw(front_matter())}---\n{body}" if draw(st.booleans()) else body
    raw = text.encode("utf-8", "surrogatepass")
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "latin-1", "bom", "utf-16"]))
    if encoding == "latin-1":
        return raw + b"\xe9\xff"
    if encoding == "bom":
        return b"\xef\xbb\xbf" + raw
    if encoding == "utf-16":
        return text.encode("utf-16", "surrogatepass")
    return raw


@dataclass
class Entry:
    """One thing to create, at `path` (a list of names below the repository root)."""

    kind: str  # file, dir_image, checksum, description, symlink, fifo, dir
    path: tuple[str, ...]
    data: bytes = b""
    form: str = ""
    target: str = ""  # for symlinks: "canary", "canary_dir", "inside", "broken", "parent"
    members: tuple[tuple[str, bytes], ...] = ()


@st.composite
def image_entries(draw: st.DrawFn, vm: str) -> list[Entry]:
    """An image (a file or a directory of members) and its sidecars."""
    name = draw(image_names().filter(fits))
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    data = draw(st.sampled_from(HEADERS)) + draw(st.binary(max_size=48))
    entries = []
    if draw(st.integers(0, 4)) == 0:
        members = draw(
            st.lists(
                st.tuples(ODD.filter(fits), st.binary(max_size=32)),
                max_size=4,
                unique_by=lambda m: m[0],
            )
        )
        entries.append(Entry("dir_image", (vm, name), members=tuple(members)))
        stem = name
    else:
        entries.append(Entry("file", (vm, name), data))
    form = draw(st.sampled_from(CHECKSUM_FORMS))
    if form != "none" and fits(f"{stem}.checksum"):
        garbage = draw(st.binary(max_size=64))
        entries.append(Entry("checksum", (vm, f"{stem}.checksum"), garbage, form, target=name))
    if draw(st.booleans()) and fits(f"{stem}.txt"):
        entries.append(Entry("description", (vm, f"{stem}.txt"), draw(descriptions())))
    return entries


@st.composite
def odd_entries(draw: st.DrawFn, vm: str) -> Entry:
    """Links (inside, outside, broken, looping), FIFOs, nested directories, stray files."""
    kind = draw(st.sampled_from(["symlink", "symlink", "symlink", "fifo", "dir", "file"]))
    name = draw(
        st.one_of(image_names(), ODD, st.just("lost+found"), st.just(".hidden")).filter(fits)
    )
    where = draw(st.sampled_from([(), (vm,)]))
    target = draw(st.sampled_from(["canary", "canary_dir", "inside", "broken", "parent", "self"]))
    data = draw(st.binary(max_size=16))
    return Entry(kind, (*where, name), data, target=target)


@st.composite
def repositories(draw: st.DrawFn) -> list[Entry]:
    """A repository: a few VM directories of images, plus odd entries anywhere."""
    vms = draw(st.lists(st.sampled_from(VMS), min_size=1, max_size=3, unique=True))
    plan: list[Entry] = []
    for vm in vms:
        for _ in range(draw(st.integers(0, 4))):
            plan += draw(image_entries(vm))
        plan += draw(st.lists(odd_entries(vm), max_size=3))
    return plan


@st.composite
def additions(draw: st.DrawFn) -> list[Entry]:
    """Images added before a second `build`, so the feed has entries to announce."""
    vm = draw(st.sampled_from(VMS[:4]))
    entries = draw(st.lists(image_entries(vm), max_size=2))
    return [e for group in entries for e in group]


def materialize(plan: list[Entry], root: Path, outside: Path) -> None:
    """Write the plan below `root`; the first entry to claim a name wins, later ones are skipped."""
    root.mkdir(exist_ok=True)
    claimed = []
    for entry in plan:
        path = root.joinpath(*entry.path)
        if os.path.lexists(path):
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError:  # a file or a FIFO already holds the directory's name
            continue
        if not path.parent.is_dir() or path.parent.is_symlink():
            continue
        _create(entry, path, root, outside)
        claimed.append(entry)
    for entry in claimed:  # sidecars last: md5sum reads the images they describe
        if entry.kind == "checksum":
            path = root.joinpath(*entry.path)
            path.write_bytes(_checksum(entry, path.parent))


def _create(entry: Entry, path: Path, root: Path, outside: Path) -> None:
    if entry.kind in ("file", "description"):
        path.write_bytes(entry.data)
    elif entry.kind == "checksum":
        path.write_bytes(b"")  # claimed now, written once the images exist
    elif entry.kind == "dir_image":
        path.mkdir()
        for name, data in entry.members:
            (path / name).write_bytes(data)
    elif entry.kind == "dir":
        path.mkdir()
        (path / "inner.img").write_bytes(entry.data)
    elif entry.kind == "fifo":
        os.mkfifo(path)
    elif entry.kind == "symlink":
        os.symlink(_link_target(entry.target, path, root, outside), path)


def _link_target(kind: str, path: Path, root: Path, outside: Path) -> str:
    """Relative and absolute links; outside ones lead to the canary."""
    return {
        "canary": os.path.relpath(outside / "secret.img", path.parent),
        "canary_dir": str(outside),
        "inside": os.path.relpath(root / "xen", path.parent),
        "broken": "does-not-exist.img",
        "parent": "..",
        "self": path.name,
    }[kind]


def _checksum(entry: Entry, directory: Path) -> bytes:
    """The sidecar in one of the forms people write, made by the real md5sum where it can."""
    image = directory / entry.target
    form = entry.form
    if image.is_symlink() or not (image.is_file() or image.is_dir()):
        form = "garbage"  # another entry took the image's name: no md5sum of a link or FIFO
    if form == "garbage":
        return entry.data
    if form == "empty":
        return b""
    if image.is_dir():
        names = sorted(p.name for p in image.iterdir() if p.is_file() and not p.is_symlink())
        listing = _md5sum(image, names, ()) if names else b""
        if form == "dot_slash":
            listing = _md5sum(image, [f"./{n}" for n in names], ()) if names else b""
        return listing
    flags = {"binary": ("-b",), "tag": ("--tag",)}.get(form, ())
    name = f"./{entry.target}" if form == "dot_slash" else entry.target
    line = _md5sum(directory, [name], flags)
    if form == "upper":
        line = line[:32].upper() + line[32:]
    elif form == "crlf":
        line = line.replace(b"\n", b"\r\n")
    elif form == "bom":
        line = b"\xef\xbb\xbf" + line
    elif form == "wrong_hash":
        line = b"0" * 32 + line[32:]
    elif form == "other_name":
        line = line[:34] + b"other_x86_64_sl05c_2GB.img\n"
    elif form == "two_lines":
        line += b"d41d8cd98f00b204e9800998ecf8427e  extra.img\n"
    return line


def _md5sum(directory: Path, names: list[str], flags: tuple[str, ...]) -> bytes:
    done = subprocess.run(
        ["md5sum", *flags, "--", *names], cwd=directory, capture_output=True, check=True
    )
    return done.stdout
