"""A small real repository, catalogued by the real CLI, for the export and MkDocs tests."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from tests.conftest import image_entries, run_cli, sums, write_tree

CLEAN = "sl5.3_x86_32_sl05c_8GB_ec2"
MULTI = "centOS5_x86_64_sl10c_40GB_split"
HOSTILE = "sl5_x86_32_sl05c_8GB_<img src=x onerror=alert(1)>[a](javascript:b)|*\"&'"
SECRET = "hiddenSeed99"
HOSTILE_DESCRIPTION = (
    "---\nmaintainer: <script>alert(5)</script>\nroot_password: hunter2\n---\n"
    "# Notes\n\n<script>alert(2)</script>\n\n[x](javascript:alert(3)) "
    '<img src=y onerror=alert(4)> <a href="#" onclick="alert(6)">click</a>\n\n'
    f"Set the root password: SEED={SECRET} then run it.\n"
)


def make_repository(root: Path) -> Path:
    """Three images: a clean file, a hostile name and description, a directory of files."""
    clean = "---\nkernel: 2.6.18-xen\n---\nA *fine* image for the grid.\n"
    members = (f"{MULTI}/disk1.raw", f"{MULTI}/disk2.raw")
    return write_tree(root, {
        **image_entries(f"xen/{CLEAN}.img", b"clean image bytes" * 64, clean),
        **image_entries(f"xen/{HOSTILE}.img", b"hostile image", HOSTILE_DESCRIPTION),
        f"kvm/{MULTI}/disk1.raw": b"first part",
        f"kvm/{MULTI}/disk2.raw": b"second part",
        f"kvm/{MULTI}.checksum": sums(*members),  # listed with the directory's name in front
    })  # fmt: skip


def publish_catalog(
    work: Path, repository: Path | None = None, *args: str, env: dict[str, str] | None = None
) -> Path:
    """`star-vm-catalog build` (with `args`) into `work/vm-site`; returns its catalog.json."""
    repository = repository or make_repository(work / "repo")
    done = run_cli(
        "build", "--repository", str(repository), "--output", str(work / "vm-site"),
        "--state", str(work / "state"), *args, env=env,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return work / "vm-site" / "catalog.json"


def image_ids(catalog: Path) -> list[str]:
    return [image["id"] for image in json.loads(catalog.read_text())["images"]]


class Tags(HTMLParser):
    """Every tag, attribute, link target and script text of an HTML page, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_script = tag == "script"
        self.attributes += [name for name, _ in attrs]
        self.hrefs += [value or "" for name, value in attrs if name in ("href", "src", "action")]

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)


def parse(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


def active_content(html: str) -> list[str]:
    """What in `html` could run or leak: handlers, script URLs, the test's scripts and secrets.

    Python's parser reads `<title>` as markup, so a name that breaks out of it is caught too.
    """
    parsed = parse(html)
    found = [a for a in parsed.attributes if a.lower().startswith("on")]
    found += [h for h in parsed.hrefs if urlsplit(h.strip()).scheme.lower() == "javascript"]
    found += [s for s in parsed.scripts if "alert(" in s]
    found += [tag for tag in parsed.tags if tag in ("img", "iframe", "object", "embed")]
    found += [secret for secret in (SECRET, "hunter2") if secret in html]
    return found
