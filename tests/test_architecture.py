"""Size rules kept by a tool: modules under 400 lines, functions at most 60 (issue 11).

A module that outgrows the limit is split along a responsibility; a long function into named
steps. The checks read the source with `ast`, so they count what a reader scrolls through.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

GENERATOR = ROOT / "generator"
MODULE_LINES_BELOW = 400  # "under 400": 399 lines is the most a module may have
FUNCTION_LINES_AT_MOST = 60


def modules(package: Path) -> list[Path]:
    """Every Python module of the package, sub-packages included, in a stable order."""
    return sorted(package.rglob("*.py"))


def long_modules(package: Path) -> list[str]:
    """`path: N lines` for each module of 400 lines or more."""
    found = []
    for path in modules(package):
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count >= MODULE_LINES_BELOW:
            found.append(f"{path.relative_to(package.parent)}: {count} lines")
    return found


def long_functions(package: Path) -> list[str]:
    """`path:line name: N lines` for each function or method (nested ones too) over 60 lines."""
    found = []
    for path in modules(package):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > FUNCTION_LINES_AT_MOST:
                where = f"{path.relative_to(package.parent)}:{node.lineno}"
                found.append(f"{where} {node.name}: {length} lines")
    return sorted(found)


def test_every_module_of_the_generator_is_under_400_lines() -> None:
    assert modules(GENERATOR), "no modules found: the check would pass vacuously"
    assert long_modules(GENERATOR) == [], "split these along a responsibility"


def test_every_function_of_the_generator_is_at_most_60_lines() -> None:
    assert long_functions(GENERATOR) == [], "split these into named steps"


def test_the_checks_report_a_module_of_400_lines_and_a_function_of_61(tmp_path: Path) -> None:
    """Proves the two checks above can fail: the limits are exact, nested code is seen."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)

    def function(name: str, lines: int, indent: str) -> str:
        body = "".join(f"{indent}    x{i} = {i}\n" for i in range(lines - 2))
        return f"{indent}def {name}():\n{body}{indent}    return 0\n"

    at_limit = function("at_limit", 60, "")
    (package / "fits.py").write_text(at_limit + "#\n" * (399 - 60))
    (package / "sub" / "big.py").write_text("#\n" * 400)
    too_long = function("inner", 61, "        ")
    (package / "sub" / "deep.py").write_text(
        f"class Holder:\n    def outer(self):\n{too_long}        return inner\n"
    )
    assert len((package / "fits.py").read_text().splitlines()) == 399
    assert long_modules(package) == ["pkg/sub/big.py: 400 lines"]
    assert long_functions(package) == [
        "pkg/sub/deep.py:2 outer: 63 lines",
        "pkg/sub/deep.py:3 inner: 61 lines",
    ]
