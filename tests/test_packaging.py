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


def wheel_of_checkout(into: Path) -> tuple[Path, str]:
    """`pip wheel` of this checkout; returns the wheel and the build's verbose output."""
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(into), str(ROOT)],
                          check=True, capture_output=True, text=True, cwd=into)  # fmt: skip
    return next(into.glob("star_vm_catalog-*.whl")), done.stdout + done.stderr


@pytest.mark.slow
def test_wheel_builds_without_ignored_package_data_and_runs_from_a_fresh_venv(
    tmp_path: Path,
) -> None:
    """The production install of the README: a venv of its own, the wheel, the console script."""
    wheel, output = wheel_of_checkout(tmp_path)
    assert "would be ignored" not in output, output
    assert "generator/site_templates/static/catalog.js" in zipfile.ZipFile(wheel).namelist()
    venv = tmp_path / "opt-star-vm-catalog"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin/pip"), "install", "--quiet", str(wheel)], check=True, capture_output=True)  # fmt: skip
    script = venv / "bin/star-vm-catalog"
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("star-vm-catalog 0.")
    cwd = tmp_path / "somewhere-else"
    cwd.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "st"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}  # fmt: skip
    done = subprocess.run([str(script), "build", "--output", "www/vm"], cwd=cwd, env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 1, done.stderr  # the demo carries problems on purpose
    site = cwd / "www/vm"
    for name in ("style.css", "catalog.js", "copy.js", "favicon.svg", "nojs.css"):
        assert (site / "static" / name).stat().st_size > 0, name
    assert (site / "index.html").is_file() and (site / "problems/index.html").is_file()
    assert len(list(site.glob("images/*/*/index.html"))) == 10


def test_python_m_generator_runs_from_a_source_tree_with_only_the_dependencies(
    tmp_path: Path,
) -> None:
    """A fresh clone, no `pip install -e`: the package finds templates and content beside it.

    `-S` skips site.py, so the editable install of this checkout (a .pth finder) is not seen;
    the dependencies come from site-packages on PYTHONPATH, and the package from the copy.
    """
    import shutil
    import sysconfig

    clone = tmp_path / "clone"
    for folder in ("generator", "site_templates", "content"):
        shutil.copytree(ROOT / folder, clone / folder, ignore=shutil.ignore_patterns("__pycache__"))
    env = {"PYTHONPATH": sysconfig.get_paths()["purelib"], "HOME": str(tmp_path)}
    where = subprocess.run([sys.executable, "-S", "-c", "import generator; print(generator.__file__)"],
                           cwd=clone, env=env, capture_output=True, text=True)  # fmt: skip
    assert where.stdout.strip() == str(clone / "generator" / "__init__.py"), where.stderr
    done = subprocess.run([sys.executable, "-S", "-m", "generator", "build", "--output", "out"],
                          cwd=clone, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 1, done.stderr  # the demo's deliberate problems
    site = clone / "out"
    assert (site / "static" / "style.css").is_file() and (site / "naming" / "index.html").is_file()
    assert len(read_catalog(site)["images"]) == 10
