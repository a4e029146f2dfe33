"""A non-editable install works from any directory: templates and content ship in the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, read_catalog


@pytest.mark.slow
def test_wheel_carries_templates_and_content_and_builds_a_site(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, cwd=tmp_path)  # fmt: skip
    wheel = next(wheels.glob("star_vm_catalog-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"generator/site_templates/index.html", "generator/site_templates/static/style.css",
            "generator/content/naming.md"} <= names  # fmt: skip
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    registered = zipfile.ZipFile(wheel).read(entry_points).decode()
    for group, module in (("mkdocs", "mkdocs_plugin"), ("properdocs", "properdocs_plugin")):
        assert (
            f"[{group}.plugins]\nstar-vm-catalog = generator.export.{module}:CatalogPlugin"
            in registered
        )
        assert f"generator/export/{module}.py" in names
    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = "import generator, sys; print(generator.__file__); sys.exit(__import__('generator.cli').cli.main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", code, "build", "--no-verify"], cwd=elsewhere,
                          env={"PYTHONPATH": str(target), "HOME": str(tmp_path)}, capture_output=True, text=True)  # fmt: skip
    assert done.stdout.startswith(str(target)), done.stdout
    assert done.returncode == 1, done.stderr  # the demo carries problems on purpose
    assert (elsewhere / "site/naming/index.html").is_file()
    assert len(read_catalog(elsewhere / "site")["images"]) == 10
