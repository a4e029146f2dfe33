"""The README is the manual: every command, option, setting, status, exit and problem code is in it."""

from __future__ import annotations

import argparse
import re

import pytest

from generator.cli_options import EXIT_CODES, parser
from generator.config import KEYS
from generator.problems import KINDS
from generator.verify.verdict import STATUSES
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def subcommands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_and_option_is_documented() -> None:
    for name, command in subcommands().items():
        assert f"star-vm-catalog {name}" in README
        for action in command._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in README, f"{name} {flag} is missing from the README"


@pytest.mark.parametrize("key", sorted(KEYS))
def test_every_configuration_key_is_documented(key: str) -> None:
    assert re.search(rf"^{re.escape(key)}:", README, re.M), f"config key {key} not in the example"


@pytest.mark.parametrize("code", sorted(KINDS))
def test_every_problem_code_is_documented(code: str) -> None:
    assert f"| `{code}` |" in README


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_is_documented(status: str) -> None:
    assert f"| `{status}` |" in README


def test_every_exit_code_is_in_the_readme_and_the_help() -> None:
    for code in (0, 1, 2, 3, 4, 75, 130):
        assert f"| {code} |" in README
        assert re.search(rf"^\s+{code}\s", EXIT_CODES, re.M), f"exit code {code} not in --help"
