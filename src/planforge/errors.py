"""The exception tree and the Finding record shared by every layer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Finding:
    """One problem in one file, located as precisely as the source allows."""

    file: str
    line: int | None
    column: int | None
    path: str
    severity: Severity
    message: str

    def format(self) -> str:
        """Compiler style, so editors and CI jump to it: ``file:line:col: error: path: message``."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        subject = f"{self.path}: " if self.path else ""
        return f"{where}: {self.severity}: {subject}{self.message}"


def os_error_text(exc: OSError) -> str:
    """An operating system error as one line: what failed, on which path, and why."""
    reason = exc.strerror or type(exc).__name__
    if exc.filename is not None and exc.filename2 is not None:
        return f"{exc.filename} → {exc.filename2}: {reason}"
    if exc.filename is not None:
        return f"{exc.filename}: {reason}"
    return f"{reason} ({exc})" if str(exc) != reason else reason


class PlanforgeError(Exception):
    """An error the user can act on; ``str()`` is the message shown, exit code 1."""

    exit_code = 1


class UsageError(PlanforgeError):
    """The command line itself is wrong (exit code 2)."""

    exit_code = 2


class InvalidFilesError(PlanforgeError):
    """Input files (a project's, or planforge.yaml) have errors; carries every finding."""

    def __init__(self, findings: Iterable[Finding]) -> None:
        self.findings = sorted(findings)
        errors = [f for f in self.findings if f.severity == "error"]
        lines = [f.format() for f in errors]
        lines.append(f"{len(errors)} error{'s' if len(errors) != 1 else ''} found")
        super().__init__("\n".join(lines))


class WorkspaceError(PlanforgeError):
    """The workspace, its configuration or a path in it is unusable; ``file`` names the folder or
    file at fault when one is known, so that validate can report it as a finding."""

    def __init__(self, message: str, file: str | None = None) -> None:
        super().__init__(message)
        self.file = file


class TemplateError(PlanforgeError):
    """A template is missing or broken (file and line in the message)."""


class RenderError(PlanforgeError):
    """A document could not be rendered."""


class MailError(PlanforgeError):
    """Email could not be composed or delivered."""


class GitError(PlanforgeError):
    """A git operation failed or the history needed is not there."""
