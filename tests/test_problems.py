"""The registry of problem kinds and its one factory: every Problem is worded from KINDS."""

from __future__ import annotations

import ast
import string

import pytest

from generator.problems import ERROR, KINDS, SEVERITIES, WARNING, problem
from tests.conftest import ROOT

# Restoring problems stored by an earlier run rebuilds them field by field; it words nothing.


@pytest.mark.parametrize("code", sorted(KINDS))
def test_templates_use_only_named_placeholders(code: str) -> None:
    kind = KINDS[code]
    assert kind.severity in SEVERITIES and kind.meaning
    for template in (kind.message, kind.hint):
        for _, name, _, conversion in string.Formatter().parse(template):
            if name is None:
                continue
            assert name.isidentifier(), f"{code}: '{{{name}}}' is not a plain {{name}} field"
            assert conversion is None, f"{code}: '{{{name}!{conversion}}}' converts its detail"


def test_problem_words_a_kind_from_its_details() -> None:
    found = problem(
        "duplicate_stem", "xen/a_x86_64_sl05c_8GB.img", other="a_x86_64_sl05c_8GB.qcow2"
    )
    assert found.severity == ERROR
    assert found.message == (
        "another image, 'a_x86_64_sl05c_8GB.qcow2', has the same name before the extension"
    )
    assert found.hint == KINDS["duplicate_stem"].hint
    assert found.line().startswith("'xen/a_x86_64_sl05c_8GB.img': error: another image, ")


def test_problem_takes_a_severity_only_when_given() -> None:
    default = problem("size_mismatch", "xen/a.img", detail="raw: name says 8 GiB")
    assert default.severity == WARNING
    overridden = problem("size_mismatch", "xen/a.img", severity=ERROR, detail="raw: x")
    assert overridden.severity == ERROR


def test_problem_refuses_an_unknown_code() -> None:
    with pytest.raises(ValueError, match="unknown problem code 'no_such_code'"):
        problem("no_such_code", "xen/a.img")


def test_problem_refuses_a_missing_detail() -> None:
    with pytest.raises(ValueError, match="'duplicate_stem' needs the detail 'other'"):
        problem("duplicate_stem", "xen/a.img")


def test_problem_refuses_a_detail_no_template_uses() -> None:
    with pytest.raises(ValueError, match=r"details no template uses: \['colour'\]"):
        problem("changing", "xen/a.img", colour="red")


def test_problem_refuses_an_unknown_severity() -> None:
    with pytest.raises(ValueError, match="unregistered problem code or severity"):
        problem("changing", "xen/a.img", severity="fatal")


def test_a_detail_holding_braces_is_not_read_as_a_template() -> None:
    found = problem("unreadable_entry", "xen/{x}", reason="odd {name} here")
    assert found.message == "cannot stat: odd {name} here"


def _direct_builders(source: str) -> list[int]:
    calls = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)]
    return [c.lineno for c in calls if isinstance(c.func, ast.Name) and c.func.id == "Problem"]


def test_only_the_factory_builds_problems() -> None:
    """A call site that spells out severity, message and hint bypasses the registry."""
    found = {}
    for module in sorted((ROOT / "generator").rglob("*.py")):
        relpath = module.relative_to(ROOT).as_posix()
        lines = _direct_builders(module.read_text())
        if lines:
            found[relpath] = lines
    assert list(found) == ["generator/problems.py"], found
    assert len(found["generator/problems.py"]) == 2, found  # problem(), and from_rows()
