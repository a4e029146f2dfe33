"""Compiled templates kept beside the templates (`site.template_cache`): used only for the same
source and options, written only as Python writes bytecode, and never part of the program's
identity or of the site."""

from __future__ import annotations

import sys
from pathlib import Path

import jinja2
import pytest

from generator.resources import source_files
from generator.site.template_cache import template_cache
from tests.golden import GOLDEN, ROOT, build_demo_site, site_files


class CountingEnvironment(jinja2.Environment):
    """An environment that counts the templates it compiles from source."""

    compiled = 0

    def compile(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        CountingEnvironment.compiled += 1
        return super().compile(*args, **kwargs)  # type: ignore[arg-type]


def render(templates: Path, options: str = "autoescape") -> str:
    env = CountingEnvironment(
        loader=jinja2.FileSystemLoader(templates),
        bytecode_cache=template_cache(templates, options),
        autoescape=True,
    )
    return env.get_template("page.html").render(name="<b>")


@pytest.fixture
def writes_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    CountingEnvironment.compiled = 0


def templates(tmp_path: Path, source: str = "Hello {{ name }}") -> Path:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / "page.html").write_text(source)
    return folder


def test_a_compiled_template_is_kept_and_used_by_the_next_run(
    tmp_path: Path, writes_bytecode: None
) -> None:
    folder = templates(tmp_path)
    assert render(folder) == "Hello &lt;b&gt;"
    assert CountingEnvironment.compiled == 1
    assert len(list((folder / "__pycache__").glob("*.jinja"))) == 1
    assert render(folder) == "Hello &lt;b&gt;"
    assert CountingEnvironment.compiled == 1  # read back, not compiled again


def test_a_changed_template_or_other_options_compile_again(
    tmp_path: Path, writes_bytecode: None
) -> None:
    folder = templates(tmp_path)
    render(folder)
    (folder / "page.html").write_text("Bye {{ name }}")
    assert render(folder) == "Bye &lt;b&gt;"
    assert CountingEnvironment.compiled == 2
    render(folder, options="other options")
    assert CountingEnvironment.compiled == 3


def test_nothing_is_written_when_python_is_told_not_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    folder = templates(tmp_path)
    assert render(folder) == "Hello &lt;b&gt;"
    assert not (folder / "__pycache__").exists()
    (folder / "__pycache__").mkdir()  # made by an earlier run: read, still not written
    render(folder)
    assert list((folder / "__pycache__").iterdir()) == []


def test_a_file_in_the_way_means_no_cache_not_a_failure(
    tmp_path: Path, writes_bytecode: None
) -> None:
    folder = templates(tmp_path)
    (folder / "__pycache__").write_text("not a folder")
    assert template_cache(folder, "options") is None
    assert render(folder) == "Hello &lt;b&gt;"


def test_compiled_templates_are_not_part_of_the_program(tmp_path: Path) -> None:
    folder = templates(tmp_path)
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "abc.jinja").write_bytes(b"compiled")
    (folder / "static").mkdir()
    (folder / "static" / "style.css").write_text("body {}")
    assert source_files(folder) == [folder / "page.html", folder / "static" / "style.css"]


def test_builds_that_write_or_use_the_cache_publish_the_golden_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo built by a Python that writes bytecode (the cache made if missing, then used by
    the second build) and by one that writes none: the golden site each time."""
    golden = site_files(GOLDEN)
    for run, flag in enumerate(("", "", "1")):
        monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", flag)  # empty: bytecode is written
        assert site_files(build_demo_site(tmp_path / str(run))) == golden
        if not flag:
            assert list((ROOT / "site_templates" / "__pycache__").glob("*.jinja"))
