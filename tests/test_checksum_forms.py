"""Every checksum form people write, judged against GNU `md5sum -c`, and page commands that pass.

One repository holds each form twice: intact, and with one byte flipped after the sidecar was
written. The rule: where `md5sum -c` (run in the VM directory) says a file is OK, the catalog
says `verified`; where it reports a digest mismatch, the catalog never does.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.digests import Digest
from generator.read.checksum import match_files, parse_checksum
from tests.conftest import md5sum, read_catalog, run_cli, sums, write_tree
from tests.parsed_html import read_page

STEM = "sl5.3_x86_32_sl05c_8GB_"
ZERO = "0" * 32
Maker = Callable[[Path, str], str | bytes]  # (VM directory, image name) -> sidecar content


def digest(vm: Path, name: str) -> str:
    return md5sum(vm, name).split()[0].lstrip("\\")


@dataclass(frozen=True)
class Form:
    label: str
    sidecar: Maker
    intact_verified: bool = True  # what the catalog says of the intact copy


SINGLE = [
    Form("text", lambda vm, n: md5sum(vm, n)),
    Form("binary", lambda vm, n: md5sum(vm, n, flags=("--binary",))),
    Form("tag", lambda vm, n: md5sum(vm, n, flags=("--tag",))),
    Form("dotslash", lambda vm, n: md5sum(vm, f"./{n}")),
    Form("upper", lambda vm, n: f"{digest(vm, n).upper()}  {n}\n"),
    Form("crlf", lambda vm, n: md5sum(vm, n).replace("\n", "\r\n")),
    Form("bom", lambda vm, n: "\ufeff" + md5sum(vm, n)),
    Form("zero", lambda vm, n: md5sum(vm, n, flags=("-z",))),
    Form(
        "zerotwo", lambda vm, n: md5sum(vm, n, str(vm.parent.parent / "outside.bin"), flags=("-z",))
    ),
    Form("bsd", lambda vm, n: f"{digest(vm, n)} {n}\n"),
    Form("bare", lambda vm, n: f"{digest(vm, n)}\n"),
    Form("absolute", lambda vm, n: md5sum(vm, str(vm / n))),
    Form("oldplace", lambda vm, n: f"{ZERO}  /star/data08/OSG/APP/vm/xen/{n}\n" + md5sum(vm, n)),
    Form(
        "comments", lambda vm, n: f"# made by hand\n\ngarbage here\n{md5sum(vm, n)}trailing words\n"
    ),
    Form("tab", lambda vm, n: f"{digest(vm, n)}\t{n}\n"),
    Form("leading", lambda vm, n: f"  {md5sum(vm, n)}"),
    Form(
        "extra",
        lambda vm, n: (
            md5sum(vm, n)
            + f"{ZERO}  gone.img\n"
            + md5sum(vm, str(vm.parent.parent / "outside.bin"))
        ),
    ),
    Form("twice", lambda vm, n: md5sum(vm, n) + md5sum(vm, f"./{n}")),
    Form("conflict", lambda vm, n: md5sum(vm, n) + f"{ZERO}  ./{n}\n", intact_verified=False),
    Form("bsdthengnu", lambda vm, n: f"{digest(vm, n)} {n}\n{ZERO}  {n}\n"),
    Form("gnuthenbsd", lambda vm, n: f"{md5sum(vm, n)}{ZERO} {n}\n"),
    Form("bomconflict", lambda vm, n: f"\ufeff{md5sum(vm, n)}{ZERO}  {n}\n", intact_verified=False),
    Form("openssl", lambda vm, n: f"MD5({n})= {digest(vm, n)}\n"),
    Form("renamed", lambda vm, n: f"{digest(vm, n)}  old-name.img\n"),
    Form("trailingspace", lambda vm, n: f"{digest(vm, n)}  {n}  \n"),
]
MEMBERS = ("a.vmdk", "b.vmdk")
UTF8 = "données é.vmdk"
ESCAPED = "back\\sl$(x).vmdk"  # md5sum escapes the backslash; the shell must not run $(x)


def _prefixed(vm: Path, d: str) -> str:
    return md5sum(vm, *(f"{d}/{m}" for m in MEMBERS))


def _bare(vm: Path, d: str) -> str:
    return md5sum(vm / d, *MEMBERS)


# (label, sidecar beside the directory, sidecar inside it, extra member)
MULTI: list[tuple[str, Maker | None, Maker | None, str | None]] = [
    ("besideprefixed", _prefixed, None, None),
    ("besidebare", _bare, None, None),
    ("insidebare", None, _bare, None),
    ("insideprefixed", None, _prefixed, None),
    ("both", _prefixed, lambda vm, d: f"{ZERO}  a.vmdk\n{ZERO}  b.vmdk\n", None),
    ("readme", lambda vm, d: md5sum(vm / d, *MEMBERS, "README.txt"), None, "README.txt"),
    ("longer", lambda vm, d: md5sum(vm, *(str(vm / d / m) for m in MEMBERS)), None, None),
    (
        "bsddir",
        lambda vm, d: "".join(f"{digest(vm / d, m)} {d}/{m}\n" for m in MEMBERS),
        None,
        None,
    ),
    (
        "zerodir",
        lambda vm, d: md5sum(vm, *(f"{d}/{m}" for m in MEMBERS), flags=("-z",)),
        None,
        None,
    ),
    ("utf8", lambda vm, d: md5sum(vm / d, *MEMBERS, UTF8), None, UTF8),
    ("escaped", lambda vm, d: "\ufeff" + md5sum(vm / d, *MEMBERS, ESCAPED), None, ESCAPED),
]


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[7] ^= 0xFF
    path.write_bytes(bytes(data))


def build_forms(root: Path) -> Path:
    """The repository: every form, intact (`ok`) and damaged after md5sum ran (`bad`)."""
    vm = root / "repo" / "xen"
    vm.mkdir(parents=True)
    write_tree(root, {"outside.bin": b"not part of the repository"})
    for form in SINGLE:
        for state in ("ok", "bad"):
            name = f"{STEM}{form.label}{state}.img"
            (vm / name).write_bytes(f"{form.label} {state} ".encode() * 4000)
            content = form.sidecar(vm, name)
            sidecar = vm / f"{STEM}{form.label}{state}.checksum"
            sidecar.write_bytes(content.encode() if isinstance(content, str) else content)
            if state == "bad":
                flip(vm / name)
    for label, beside, inside, extra in MULTI:
        for state in ("ok", "bad"):
            directory = f"{STEM}{label}{state}"
            files = {f"{directory}/{m}": f"{m} {label} {state}" * 999 for m in MEMBERS}
            files.update({f"{directory}/{extra}": "read me"} if extra else {})
            files.update({f"{directory}/{directory}.txt": "Described from inside.\n"})
            write_tree(vm, files)
            for maker, where in ((beside, vm), (inside, vm / directory)):
                if maker:
                    (where / f"{directory}.checksum").write_text(maker(vm, directory))
            if state == "bad":
                flip(vm / directory / MEMBERS[0])
    return root / "repo"


@pytest.fixture(scope="module")
def forms(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    base = tmp_path_factory.mktemp("forms")
    repo = build_forms(base)
    site, state = base / "site", base / "state"
    done = run_cli("build", "--repository", str(repo), "--output", str(site), "--state", str(state))
    assert done.returncode == 1, done.stderr  # the damaged copies are integrity failures
    return repo, site, read_catalog(site)


def file_statuses(catalog: dict) -> dict[str, str]:
    """Repository-relative path of every file -> the catalog's status for it."""
    result = {}
    for image in catalog["images"]:
        if image["multi_file"]:
            result.update({f"{image['path']}/{m['name']}": m["status"] for m in image["members"]})
        else:
            result[image["path"]] = image["status"]
    return result


def md5sum_verdicts(repo: Path) -> dict[str, str]:
    """Run `md5sum -c` in the VM directory on every sidecar: file -> OK or FAILED (digests)."""
    vm = repo / "xen"
    verdicts: dict[str, str] = {}
    sidecars = sorted(vm.glob("*.checksum")) + sorted(vm.glob("*/*.checksum"))
    for sidecar in sidecars:
        done = subprocess.run(
            ["md5sum", "-c", "--", str(sidecar.relative_to(vm))],
            cwd=vm,
            capture_output=True,
            text=True,
        )
        for line in done.stdout.splitlines():
            listed, _, verdict = line.rpartition(": ")
            if verdict not in ("OK", "FAILED"):
                continue  # "FAILED open or read": md5sum judged no bytes
            path = os.path.realpath(os.path.join(vm, listed))
            if path.startswith(str(repo) + "/"):
                key = os.path.relpath(path, repo)
                verdicts[key] = "FAILED" if "FAILED" in (verdicts.get(key), verdict) else "OK"
    return verdicts


def test_catalog_agrees_with_md5sum_on_every_form(forms: tuple[Path, Path, dict]) -> None:
    repo, _, catalog = forms
    ours = file_statuses(catalog)
    theirs = md5sum_verdicts(repo)
    assert sum(v == "OK" for v in theirs.values()) >= 30
    assert sum(v == "FAILED" for v in theirs.values()) >= 25
    for path, verdict in theirs.items():
        if verdict == "OK":
            assert ours[path] == "verified", path
        else:
            assert ours[path] != "verified", path


def test_every_form_is_understood(forms: tuple[Path, Path, dict]) -> None:
    _, _, catalog = forms
    statuses = {image["name"]: image["status"] for image in catalog["images"]}
    for form in SINGLE:
        intact = statuses[f"{STEM}{form.label}ok.img"]
        assert intact == ("verified" if form.intact_verified else "mismatch"), form.label
        assert statuses[f"{STEM}{form.label}bad.img"] == "mismatch", form.label
    for label, *_ in MULTI:
        assert statuses[f"{STEM}{label}ok"] == "verified", label
        assert statuses[f"{STEM}{label}bad"] == "mismatch", label


def test_odd_sidecars_are_warnings(forms: tuple[Path, Path, dict]) -> None:
    _, _, catalog = forms
    found = {(p["path"], p["code"]): p for p in catalog["problems"]}

    def code(label: str, name: str) -> dict:
        return found[(f"xen/{STEM}{label}ok.checksum", name)]

    for label in ("bom", "bare", "zerotwo", "comments", "tab"):
        assert code(label, "checksum_unusual_form")["severity"] == "warning", label
    assert "absolute path" in code("absolute", "checksum_absolute_path")["message"]
    assert "gone.img" in code("extra", "checksum_extra_entries")["message"]
    assert code("renamed", "checksum_name_mismatch")["severity"] == "warning"
    for label in ("text", "binary", "tag", "dotslash", "upper", "crlf", "zero", "bsd"):
        odd = [k for k in found if k[0].startswith(f"xen/{STEM}{label}ok") and "checksum" in k[1]]
        assert not odd, label
    inner = f"xen/{STEM}bothok/{STEM}bothok.checksum"
    assert found[(inner, "duplicate_sidecar")]["severity"] == "warning"


def test_inner_sidecars_are_not_members_but_readme_is(forms: tuple[Path, Path, dict]) -> None:
    _, _, catalog = forms
    images = {image["name"]: image for image in catalog["images"]}
    readme = images[f"{STEM}readmeok"]
    assert [m["name"] for m in readme["members"]] == ["README.txt", "a.vmdk", "b.vmdk"]
    assert readme["description"].strip() == "Described from inside."
    inside = images[f"{STEM}insidebareok"]
    assert [m["name"] for m in inside["members"]] == list(MEMBERS)


def check_section(site: Path, image: dict) -> tuple[str, list[str]] | None:
    page = read_page(site, f"images/{image['id']}/index.html")
    commands = page.find_all("code", id="check-command")
    if not commands:
        return None
    copy = [li.text() for li in page.find("ul", cls="check-copy").find_all("li")]
    return commands[0].raw_text(), copy


def follow(repo: Path, folder: Path, command: str, copy: list[str]) -> subprocess.CompletedProcess:
    """Copy what the page says into an empty folder, hide the repository, run the command."""
    folder.mkdir()
    for item in copy:
        source = repo / "xen" / item
        if source.is_dir():
            shutil.copytree(source, folder / item)
        else:
            shutil.copy2(source, folder / item)
    away = repo.with_name("repo.away")
    repo.rename(away)
    try:
        return subprocess.run(["bash", "-c", command], cwd=folder, capture_output=True, text=True)
    finally:
        away.rename(repo)


def test_every_check_command_passes_when_followed(
    forms: tuple[Path, Path, dict], tmp_path: Path
) -> None:
    repo, site, catalog = forms
    tried = 0
    for index, image in enumerate(catalog["images"]):
        section = check_section(site, image)
        assert section is not None, image["name"]
        command, copy = section
        done = follow(repo, tmp_path / str(index), command, copy)
        tried += 1
        if image["status"] == "verified":
            assert done.returncode == 0, (image["name"], command, done.stdout, done.stderr)
            assert done.stdout and all(ln.endswith(": OK") for ln in done.stdout.splitlines())
        else:
            assert done.returncode != 0, (image["name"], command)
    assert tried == 2 * (len(SINGLE) + len(MULTI))


def test_pages_without_a_checksum_say_how_to_create_one(tmp_path: Path) -> None:
    """The page's create command works for a file and a directory, and the result verifies."""
    repo = write_tree(tmp_path / "repo", {
        f"xen/{STEM}single.img": b"single" * 999,
        f"xen/{STEM}multi/a.vmdk": b"a" * 999, f"xen/{STEM}multi/b c.vmdk": b"b" * 999,
    })  # fmt: skip
    site = tmp_path / "site"
    state = ["--output", str(site), "--state", str(tmp_path / "state")]
    run_cli("build", "--repository", str(repo), *state)
    multi = read_page(site, f"images/xen/{STEM}multi/index.html")
    facts = {
        d.find("dt").text(): d.find("dd").text() for d in multi.find_all("div") if d.find_all("dt")
    }
    assert facts["Files"] == "2 files, all: no checksum"
    single = read_page(site, f"images/xen/{STEM}single/index.html")
    facts = {
        d.find("dt").text(): d.find("dd").text() for d in single.find_all("div") if d.find_all("dt")
    }
    assert facts["Expected MD5"] == "none: there is no .checksum file"
    assert facts["Computed MD5"] == md5sum(repo / "xen", f"{STEM}single.img").split()[0]
    hints = {p["path"]: p["hint"] for p in read_catalog(site)["problems"]}
    for stem in ("single", "multi"):
        page = read_page(site, f"images/xen/{STEM}{stem}/index.html")
        assert not page.find_all("code", id="check-command")
        command = page.find("code", id="create-command").raw_text()
        assert hints[f"xen/{STEM}{stem}.checksum"].endswith(command)
        done = subprocess.run(["bash", "-c", command], cwd=repo / "xen", capture_output=True)
        assert done.returncode == 0, (command, done.stderr)
    run_cli("build", "--repository", str(repo), *state)
    assert {i["status"] for i in read_catalog(site)["images"]} == {"verified"}
    multi = read_page(site, f"images/xen/{STEM}multi/index.html")
    facts = {
        d.find("dt").text(): d.find("dd").text() for d in multi.find_all("div") if d.find_all("dt")
    }
    assert facts["Files"] == "2 files, all verified"
    assert "Expected MD5" not in facts


def random_sidecar(seed: int, vm: Path, good: str) -> bytes:
    """Up to three lines mixing every form, name spelling, digest and line end, from a seed."""
    rng = random.Random(seed)
    names = [
        "a.img",
        "./a.img",
        str(vm / "a.img"),
        "b.img",
        " a.img",
        "a.img ",
        "*a.img",
        "../xen/a.img",
    ]
    forms = [
        "{h}  {n}", "{h} *{n}", "{h} {n}", "{h}\t{n}", "  {h}  {n}", "MD5 ({n}) = {h}", "MD5({n})= {h}",
        "\\{h}  {n}", "\\MD5 ({n}) = {h}", "MD5 ({n}) =\t{h} ", "# {h}  {n}", "{h}", "{h}  ", "junk", "",
    ]  # fmt: skip
    lines = [
        rng.choice(forms).format(h=rng.choice([good, good.upper(), ZERO]), n=rng.choice(names))
        for _ in range(rng.randrange(1, 4))
    ]
    end = rng.choice(["\n", "\r\n", "\0"])
    text = end.join(lines) + (end if rng.random() < 0.8 else "")
    return (("\ufeff" if rng.random() < 0.1 else "") + text).encode()


def test_random_sidecars_agree_with_md5sum(tmp_path: Path) -> None:
    """Seeded mixtures of forms: md5sum's verdict on a.img against the catalog's matching."""
    vm = write_tree(tmp_path / "repo", {"xen/a.img": b"hello\n", "xen/b.img": b"other\n"}) / "xen"
    good = digest(vm, "a.img")
    seen = Counter()
    for seed in range(400):
        data = random_sidecar(seed, vm, good)
        (vm / "a.checksum").write_bytes(data)
        verdict = md5sum_verdicts(vm.parent).get("xen/a.img")
        parsed = parse_checksum(data)
        if not parsed.error:
            match_files(parsed, str(vm.parent), "xen", "a.img", ["xen/a.img"])
        wants = parsed.expected.get("xen/a.img")
        verified = bool(wants) and all(want == Digest("md5", good) for want in wants)
        seen[verdict] += 1
        assert verified == (verdict == "OK") or verdict is None, (seed, data, verdict, wants)
    assert seen["OK"] > 80 and seen["FAILED"] > 50


def test_a_member_left_out_of_the_checksum_is_said_so(tmp_path: Path) -> None:
    d = f"{STEM}partial"
    repo = write_tree(tmp_path / "repo", {
        f"xen/{d}/a.vmdk": b"a", f"xen/{d}/b.vmdk": b"b", f"xen/{d}.checksum": sums(f"{d}/a.vmdk"),
    })  # fmt: skip
    site = tmp_path / "site"
    run_cli(
        "build", "--repository", str(repo), "--output", str(site), "--state", str(tmp_path / "s")
    )
    page = read_page(site, f"images/xen/{d}/index.html")
    integrity = page.find("section", aria_labelledby="integrity").text()
    assert "2 files: 1 verified, 1 no checksum" in integrity
    assert "does not list every file" in integrity and "There is no .checksum" not in integrity
    hint = {p["code"]: p["hint"] for p in read_catalog(site)["problems"]}["member_not_in_checksum"]
    assert hint.endswith(f"cd -- {d} && md5sum -- a.vmdk b.vmdk > ../{d}.checksum")


def test_names_that_are_not_utf8_are_reported_printably(tmp_path: Path) -> None:
    d = f"{STEM}latin"
    repo = write_tree(tmp_path / "repo", {f"xen/{d}/a.vmdk": b"a", f"xen/{d}.txt": "x"})
    lines = md5sum(repo / "xen" / d, "a.vmdk").encode() + ZERO.encode() + b"  \xe9t\xe9.vmdk\n"
    (repo / f"xen/{d}.checksum").write_bytes(lines)
    site = tmp_path / "site"
    done = run_cli(
        "build", "--repository", str(repo), "--output", str(site), "--state", str(tmp_path / "s")
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"xen/{d}/\\xe9t\\xe9.vmdk" in {p["path"] for p in read_catalog(site)["problems"]}
    assert read_catalog(site)["images"][0]["status"] == "mismatch"
