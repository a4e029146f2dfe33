"""Problems are data: every per-file failure becomes one Problem, never an exception that stops the run."""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one file, with what to do about it."""

    path: str
    code: str
    severity: str
    message: str
    hint: str = ""

    def line(self) -> str:
        """One-line message for stderr: quoted path first, then the problem, then the fix."""
        text = f"'{self.path}': {self.severity}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text
