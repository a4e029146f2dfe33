"""The command line as users run it: a subprocess, its exit code, its files and its messages."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.demo import qcow2_header, vmdk_descriptor, vmdk_sparse_header
from generator.publish.lock import hold_lock
from tests.conftest import image_entries, read_catalog, run_cli, sums, write_tree

IMG = "sl5.3_x86_32_sl05c_8GB_ec2"
HOSTILE = "sl5_x86_32_sl05c_8GB_<img src=x onerror=alert(1)>\"&'"
IMAGE_KEYS = {
    "id", "vm", "path", "os", "arch", "word_size", "star_lib", "max_size", "max_size_bytes", "detail",
    "extension", "multi_file", "size_bytes", "allocated_bytes", "md5", "expected_md5", "status",
    "verified_at", "url",
}  # fmt: skip


class Rows(HTMLParser):
    """Counts the <tr> of the inventory table body and collects every link target."""

    def __init__(self) -> None:
        super().__init__()
        self.in_body = False
        self.rows = 0
        self.links: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes += [name for name, _ in attrs]
        if tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.rows += 1
        elif tag == "a":
            self.links += [value or "" for name, value in attrs if name == "href"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self.in_body = False


def parse_html(path: Path) -> Rows:
    parser = Rows()
    parser.feed(path.read_text())
    return parser


@pytest.fixture
def clean_repo(tmp_path: Path) -> Path:
    extents = [(20 << 30, "d1.vmdk"), (20 << 30, "d2.vmdk")]
    names = tuple(f"centOS5_x86_64_sl10c_40GB_a/{n}" for n in ("a.vmdk", "d1.vmdk", "d2.vmdk"))
    root = write_tree(tmp_path / "repo", {
        **image_entries(f"xen/{IMG}.img", qcow2_header(8 << 30) + b"xen image" * 100),
        f"xen/{IMG}.txt": "---\nkernel: 2.6.18-xen\n---\nA *fine* image.\n",
        "vmware/centOS5_x86_64_sl10c_40GB_a/d1.vmdk": vmdk_sparse_header(20 << 30),
        "vmware/centOS5_x86_64_sl10c_40GB_a/d2.vmdk": vmdk_sparse_header(20 << 30),
        "vmware/centOS5_x86_64_sl10c_40GB_a/a.vmdk": vmdk_descriptor(extents),
        "vmware/centOS5_x86_64_sl10c_40GB_a.checksum": sums(*names),
    })  # fmt: skip
    return root


def build(root: Path, tmp_path: Path, *extra: str):
    return run_cli("build", "--repository", str(root), "--output", str(tmp_path / "site"),
                   "--state", str(tmp_path / "state"), *extra)  # fmt: skip


def test_clean_repository_builds_every_output_and_exits_0(clean_repo: Path, tmp_path: Path) -> None:
    done = build(clean_repo, tmp_path)
    assert done.returncode == 0, done.stderr
    site = tmp_path / "site"
    assert f"Site written to {site / 'index.html'}" in done.stdout
    catalog = read_catalog(site)
    assert catalog["schema_version"] == 1 and catalog["problems"] == []
    assert {"generated_at", "repository", "images", "problems"} <= set(catalog)
    image = next(i for i in catalog["images"] if i["id"] == f"xen/{IMG}")
    assert set(image) >= IMAGE_KEYS
    assert (image["status"], image["kernel"], image["word_size"], image["url"]) == (
        "verified",
        "2.6.18-xen",
        32,
        f"images/xen/{IMG}/",
    )
    assert parse_html(site / "index.html").rows == 2
    for entry in catalog["images"]:
        page = site / entry["url"] / "index.html"
        assert page.is_file() and f"{entry['vm']}/" in page.read_text()
    assert (site / "problems/index.html").is_file()
    for slug in ("about", "naming", "using", "security"):
        assert (site / slug / "index.html").is_file()
    links = parse_html(site / "index.html").links
    assert f"images/xen/{IMG}/index.html" in links and "problems/" in links


def test_problems_exit_1_and_print_one_line_each(clean_repo: Path, tmp_path: Path) -> None:
    (clean_repo / f"xen/{IMG}.checksum").write_text("0" * 32 + f"  {IMG}.img\n")
    done = build(clean_repo, tmp_path, "--quiet")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(f"'xen/{IMG}.img': error: MD5 is ")
    assert len(done.stderr.strip().splitlines()) == 1


def test_hostile_names_and_descriptions_are_escaped_and_redacted(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", {
        f"xen/{HOSTILE}.img": b"x",
        f"xen/{HOSTILE}.txt": "---\ntitle: <script>alert(1)</script>\n---\n<script>alert(2)</script>\n"
                              "[x](javascript:alert(3)) <img src=y onerror=alert(4)>\nSEED=hiddenSeed99\n",
    })  # fmt: skip
    done = build(root, tmp_path)
    assert done.returncode == 0, done.stderr
    site = tmp_path / "site"
    outputs = [p for p in site.rglob("*") if p.is_file()]
    for path in outputs:
        text = path.read_text()
        assert "hiddenSeed99" not in text, path
        if path.suffix == ".html":
            assert "<script>alert" not in text and "javascript:alert" not in text, path
            assert "onerror" not in parse_html(path).attributes, path
    image = read_catalog(site)["images"][0]
    assert image["name"] == f"{HOSTILE}.img"
    page = site / "images" / "xen" / HOSTILE / "index.html"
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.read_text()
    assert "secret_redacted" in {p["code"] for p in read_catalog(site)["problems"]}


def test_check_hashes_nothing_and_verify_writes_no_site(clean_repo: Path, tmp_path: Path) -> None:
    for command in ("check", "verify"):
        done = run_cli(command, "--repository", str(clean_repo), "--state", str(tmp_path / "state"))
        assert done.returncode == 0, done.stderr
        hashed = int(re.search(r"(\d+) files hashed", done.stderr)[1])
        assert hashed == (0 if command == "check" else 4)
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (("--jobs", "0"), None, "expected a whole number of at least 1"),
        (("--frobnicate",), None, "unrecognized arguments"),
        ((), "jobs: many\nbogus: 1\n", "unknown key 'bogus'"),
        ((), "jobs: many\nbogus: 1\n", "key 'jobs': expected a whole number"),
        ((), "- not\n- a mapping\n", "expected a mapping"),
        ((), "quiet: [unclosed\n", "cannot read configuration"),
    ],
)
def test_usage_and_config_errors_exit_2(
    tmp_path: Path, args: tuple[str, ...], config: str | None, message: str
) -> None:
    if config is not None:
        (tmp_path / "c.yaml").write_text(config)
        args = (*args, "--config", str(tmp_path / "c.yaml"))
    done = run_cli("check", *args)
    assert done.returncode == 2
    assert message in done.stderr


def test_config_file_sets_options_and_flags_win(clean_repo: Path, tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(f"repository: {clean_repo}\noutput: {tmp_path / 'from-config'}\n"
                                     f"state: {tmp_path / 'state'}\ntitle: Test Catalog\nquiet: true\n")  # fmt: skip
    done = run_cli(
        "build", "--config", str(tmp_path / "c.yaml"), "--output", str(tmp_path / "from-flag")
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "from-flag/index.html").is_file() and not (tmp_path / "from-config").exists()
    assert "Test Catalog" in (tmp_path / "from-flag/index.html").read_text()


def test_missing_repository_is_a_clear_error(tmp_path: Path) -> None:
    done = run_cli("check", "--repository", str(tmp_path / "nowhere"))
    assert done.returncode == 3  # not there (unmounted?): the code a scheduler pages for
    assert f"'{tmp_path / 'nowhere'}': repository is not a directory" in done.stderr


def test_second_run_exits_75_while_the_lock_is_held(clean_repo: Path, tmp_path: Path) -> None:
    with hold_lock(tmp_path / "state" / "lock", "state directory"):
        done = run_cli("check", "--repository", str(clean_repo), "--state", str(tmp_path / "state"))
        quiet = run_cli(
            "check", "--repository", str(clean_repo), "--state", str(tmp_path / "state"), "--quiet"
        )
    assert done.returncode == 75 and "another run holds the lock" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert quiet.returncode == 75 and quiet.stderr == ""


def test_help_lists_commands_exit_codes_and_an_example() -> None:
    done = run_cli("-h")
    assert done.returncode == 0
    for text in ("build", "verify", "check", "exit codes", "75", "examples:"):
        assert text in done.stdout
    assert "--no-verify" in run_cli("build", "--help").stdout


def test_demo_build_with_no_arguments(tmp_path: Path) -> None:
    done = run_cli("build", cwd=tmp_path, env={"PYTHONPATH": str(Path(__file__).parent.parent)})
    assert done.returncode == 1  # the demo has integrity failures on purpose
    assert f"Site written to {tmp_path / 'site' / 'index.html'}" in done.stdout
    catalog = json.loads((tmp_path / "site/catalog.json").read_text())
    statuses = {image["status"] for image in catalog["images"]}
    assert statuses == {
        "verified",
        "mismatch",
        "missing_checksum",
        "invalid_checksum",
        "unreadable",
    }
    assert {image["vm"] for image in catalog["images"]} == {"xen", "kvm", "virtualBox", "vmware"}
    assert any(image["multi_file"] for image in catalog["images"])
    assert {"error", "warning"} == {p["severity"] for p in catalog["problems"]}
    run_cli("build", "--no-verify", "--output", str(tmp_path / "nv"), cwd=tmp_path,
                        env={"PYTHONPATH": str(Path(__file__).parent.parent)})  # fmt: skip
    assert "unverified" in {i["status"] for i in read_catalog(tmp_path / "nv")["images"]}
