"""Issue 9, section 1: the tool never destroys what it did not write (reproductions via the CLI)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import as_unprivileged, image_files, open_to_everyone, run_cli, write_tree

IMG = "sl5.3_x86_32_sl05c_8GB_ec2"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "repo", image_files({f"xen/{IMG}_{n}.img": f"image {n}" * 50 for n in range(2)})
    )


def build(repo: Path, tmp_path: Path, output: str, *extra: str, cwd: Path | None = None):
    return run_cli("build", "--repository", str(repo), "--state", str(tmp_path / "state"),
                   "--output", output, *extra, cwd=cwd)  # fmt: skip


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under root: kind, bytes or link text, mode and mtime (nothing may change)."""
    entries = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            info = path.lstat()
            if path.is_symlink():
                content: object = os.readlink(path)
            elif path.is_file():
                content = path.read_bytes()
            else:
                content = None
            entries[str(path.relative_to(root))] = (content, info.st_mode, info.st_mtime_ns)
    return entries


def refused(done, *words: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "None" not in done.stderr
    for word in words:
        assert word in done.stderr


def test_a_web_root_of_someone_else_is_refused_and_untouched(repo: Path, tmp_path: Path) -> None:
    www = write_tree(tmp_path / "www", {"index.html": "<h1>Lab</h1>", "docs/a.pdf": b"%PDF"})
    before, beside = snapshot(tmp_path / "www"), sorted(os.listdir(tmp_path))
    done = build(repo, tmp_path, str(www))
    refused(done, f"'{www}': holds files this tool did not write", "move this one away")
    assert snapshot(tmp_path / "www") == before and sorted(os.listdir(tmp_path)) == beside


@pytest.mark.parametrize(
    "case, words",
    [
        ("repository", "is the same folder as the repository"),
        ("dot", "is the same folder as the repository"),
        ("empty", "expected a path, got an empty string"),
        ("file", "is not a directory"),
        ("state", "is the same folder as the state directory"),
        ("repository parent", "contains the repository"),
        ("inside repository", "is inside the repository"),
    ],
)
def test_outputs_that_overlap_or_are_not_folders_are_refused(
    repo: Path, tmp_path: Path, case: str, words: str
) -> None:
    assert (
        run_cli("check", "--repository", str(repo), "--state", str(tmp_path / "state")).returncode
        == 0
    )
    write_tree(tmp_path, {"notes.txt": "a file"})
    output = {"repository": str(repo), "dot": ".", "empty": "", "file": str(tmp_path / "notes.txt"),
              "state": str(tmp_path / "state"), "repository parent": str(tmp_path),
              "inside repository": str(repo / "xen/site")}[case]  # fmt: skip
    before = snapshot(tmp_path)
    refused(build(repo, tmp_path, output, cwd=repo), words)
    assert snapshot(tmp_path) == before


def test_state_overlapping_the_repository_is_refused_for_check_and_verify(
    repo: Path, tmp_path: Path
) -> None:
    before = snapshot(repo)
    for command in ("check", "verify"):
        done = run_cli(command, "--repository", str(repo), "--state", str(repo / "xen" / ".state"))
        refused(done, "the repository (--repository) contains the state directory")
    assert snapshot(repo) == before


def test_a_log_file_inside_the_output_is_refused(repo: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = build(repo, tmp_path, str(site), "--log-file", str(site / "run.log"))
    refused(done, "the log file (--log-file) is inside the output")
    assert not site.exists()


def test_relative_config_paths_are_beside_the_config_file(repo: Path, tmp_path: Path) -> None:
    conf = write_tree(
        tmp_path / "etc",
        {"c.yaml": "repository: ../repo\noutput: site\nstate: st\nlog-file: run.log\n"},
    )
    home = write_tree(tmp_path / "home", {".profile": "keep", "thesis/ch1.tex": "keep"})
    before = snapshot(home)
    done = run_cli("build", "--config", str(conf / "c.yaml"), cwd=home)
    assert done.returncode == 0, done.stderr
    assert (conf / "site/catalog.json").is_file() and (conf / "st/state.sqlite").is_file()
    assert "images" in (conf / "run.log").read_text()
    assert snapshot(home) == before


def test_output_dot_in_a_config_means_its_folder_not_the_cwd(repo: Path, tmp_path: Path) -> None:
    """`output: .` run from cron emptied $HOME; now it names the config's folder (refused here)."""
    conf = write_tree(
        tmp_path / "etc", {"c.yaml": f"repository: {repo}\noutput: .\nstate: ../st\n"}
    )
    home = write_tree(tmp_path / "home", {".profile": "keep", "thesis/ch1.tex": "keep"})
    before_home, before_conf = snapshot(home), snapshot(conf)
    done = run_cli("build", "--config", str(conf / "c.yaml"), cwd=home)
    refused(done, f"'{conf}': holds files this tool did not write")
    assert snapshot(home) == before_home and snapshot(conf) == before_conf


def test_an_empty_folder_is_adopted(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    done = build(repo, tmp_path, str(tmp_path / "site"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site").is_symlink() and (tmp_path / "site/index.html").is_file()


def test_an_old_plain_site_of_ours_is_migrated_and_nothing_is_lost(
    repo: Path, tmp_path: Path
) -> None:
    assert build(repo, tmp_path, str(tmp_path / "first")).returncode == 0
    old = tmp_path / "site"
    shutil.copytree(tmp_path / "first", old)  # a plain folder, as an older version published
    write_tree(old, {"extra/added-by-hand.html": "<p>mine</p>"})
    before = snapshot(old)
    (repo / f"xen/{IMG}_1.txt").write_text("A new description.\n")
    done = build(repo, tmp_path, str(old))
    assert done.returncode == 0, done.stderr
    assert (
        old.is_symlink()
        and "A new description." in (old / f"images/xen/{IMG}_1/index.html").read_text()
    )
    [legacy] = (tmp_path / ".site.builds").glob("legacy-*")
    assert snapshot(legacy) == before
    assert build(repo, tmp_path, str(old)).returncode == 0
    assert snapshot(legacy) == before  # later runs keep it as well


@pytest.mark.parametrize("planted", [".site.builds", ".site.builds/a", ".site.builds/b"])
def test_a_symlink_in_the_build_area_is_refused_and_never_followed(
    repo: Path, tmp_path: Path, planted: str
) -> None:
    site = tmp_path / "site"
    if planted != ".site.builds":  # two runs: both copies exist, b is published
        assert build(repo, tmp_path, str(site)).returncode == 0
        (repo / f"xen/{IMG}_0.txt").write_text("first change\n")
        assert build(repo, tmp_path, str(site)).returncode == 0
        shutil.rmtree(tmp_path / planted)
    victim = write_tree(tmp_path / "victim", {"index.html": "victim", "data/keep.txt": "keep"})
    (tmp_path / planted).symlink_to(victim)
    before = snapshot(victim)
    (repo / f"xen/{IMG}_0.txt").write_text("second change\n")
    done = build(repo, tmp_path, str(site))
    refused(done, f"'{tmp_path / planted}': is a symbolic link", "nothing was followed or deleted")
    assert snapshot(victim) == before and (tmp_path / planted).is_symlink()


@pytest.mark.parametrize("record", ["a.manifest.json", "a.journal.json", "a.key"])
def test_a_copy_record_planted_as_a_link_is_refused_and_never_followed(
    repo: Path, tmp_path: Path, record: str
) -> None:
    """The records beside a copy (its manifest, the journal of a run, its key) are files this
    tool writes: a link in their place is refused, and the file it names is never read as ours
    nor written through."""
    site = tmp_path / "site"
    for change in ("first", "second"):  # both copies exist
        (repo / f"xen/{IMG}_0.txt").write_text(f"{change} change\n")
        assert build(repo, tmp_path, str(site)).returncode == 0
    victim = write_tree(tmp_path / "victim", {"list.json": '["index.html"]'})
    planted = tmp_path / ".site.builds" / record
    planted.unlink(missing_ok=True)
    planted.symlink_to(victim / "list.json")
    (repo / f"xen/{IMG}_0.txt").write_text("third change\n")
    done = build(repo, tmp_path, str(site))
    refused(done, f"'{planted}': is a symbolic link", "nothing was followed or deleted")
    assert (victim / "list.json").read_text() == '["index.html"]' and planted.is_symlink()


def cli(*args: str) -> tuple[int, str]:
    """The real CLI entry point, in this process: exit code and stderr."""
    from generator.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(args))
    return code, err.getvalue()


def build_as_unprivileged(repo: Path, state: Path, output: Path, warm_up: Path) -> tuple[int, str]:
    """`build` in a child that dropped root. The interpreter's files are not readable there,
    so a first build as root imports every module a build needs before the fork."""
    common = ("build", "--repository", str(repo), "--no-verify")
    code, err = cli(*common, "--state", str(warm_up / "state"), "--output", str(warm_up / "site"))
    assert code == 0, err
    args = (*common, "--state", str(state), "--output", str(output))
    return as_unprivileged(cli, *args)  # type: ignore[return-value]


@pytest.mark.parametrize("which", ["state", "output"])
def test_a_lock_file_that_cannot_be_created_is_exit_2_with_a_message(
    repo: Path, tmp_path: Path, which: str
) -> None:
    readonly = tmp_path / "readonly"
    (readonly / "state").mkdir(parents=True)
    open_to_everyone(repo)
    os.chmod(readonly / "state", 0o555)
    os.chmod(readonly, 0o555)
    state = readonly / "state" if which == "state" else tmp_path / "writable"
    if which == "output":
        state.mkdir(mode=0o777)
        os.chmod(state, 0o777)
    code, err = build_as_unprivileged(repo, state, readonly / "site", tmp_path / "warm-up")
    lock = readonly / "state" / "lock" if which == "state" else readonly / ".site.lock"
    assert code == 2, err
    assert err.strip().splitlines() == [
        f"star-vm-catalog: '{lock}': cannot create the lock file of this {which} directory "
        f"(Permission denied); make '{lock.parent}' writable for this user, or choose another "
        "folder"
    ]


def test_a_link_planted_at_the_lock_name_is_refused_not_created_through(
    repo: Path, tmp_path: Path
) -> None:
    (tmp_path / ".site.lock").symlink_to(tmp_path / "created-through-the-link")
    done = build(repo, tmp_path, str(tmp_path / "site"))
    refused(done, f"'{tmp_path / '.site.lock'}': cannot create the lock file of this output")
    assert not (tmp_path / "created-through-the-link").exists()
    assert not (tmp_path / "site").exists()
