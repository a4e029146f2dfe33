"""The program's identity (`generator.identity`): the library versions it names are those
`importlib.metadata` gives, read without importing it where the install is a plain one."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest

from generator.identity import LIBRARIES, _dist_info_version, library_version


def test_each_library_version_is_the_installed_one() -> None:
    for distribution, package in LIBRARIES.items():
        assert _dist_info_version(distribution, package) is not None  # read from the folder
        assert library_version(distribution, package) == metadata.version(distribution)


def site(tmp_path: Path, *dist_infos: str, package: str = "toy_lib") -> Path:
    """A folder on sys.path holding `package` and the given `.dist-info` folders."""
    folder = tmp_path / "site"
    (folder / package).mkdir(parents=True)
    (folder / package / "__init__.py").write_text("")
    for name in dist_infos:
        (folder / name).mkdir()
        version = name.removesuffix(".dist-info").partition("-")[2]
        (folder / name / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: Toy.Lib\nVersion: {version}\n"
        )
    return folder


@pytest.fixture
def on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    sys.modules.pop("toy_lib", None)


def test_a_name_is_matched_as_the_packaging_standards_compare_names(
    tmp_path: Path, on_path: None
) -> None:
    sys.path.insert(0, str(site(tmp_path, "Toy_Lib-1.2.3.dist-info", "toy_other-9.dist-info")))
    assert library_version("toy.lib", "toy_lib") == "1.2.3"


def test_two_folders_for_one_library_are_left_to_importlib_metadata(
    tmp_path: Path, on_path: None
) -> None:
    folder = site(tmp_path, "toy_lib-1.0.dist-info", "toy_lib-2.0.dist-info")
    sys.path.insert(0, str(folder))
    assert _dist_info_version("toy-lib", "toy_lib") is None
    assert library_version("toy-lib", "toy_lib") in {"1.0", "2.0"}  # metadata's own choice


def test_a_library_not_installed_is_named_so(on_path: None) -> None:
    assert library_version("no-such-library", "no_such_library_here") == "-"
