"""The core's exceptions and the located problems it reports.

The editor keeps its own beside the code that raises them (`editor.accounts`,
`editor.yamltext`, `editor.store`), derived from IcalpubError too;
`files.LockTimeout` is an OSError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (or worth knowing) about a registry, with its place in the file."""

    file: str
    line: int
    column: int
    message: str
    hint: str = ""
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.message}"
        return f"{text}; {self.hint}" if self.hint else text


class IcalpubError(Exception):
    """Base class for every icalpub error."""


class RegistryError(IcalpubError):
    """The registry has one or more errors; each carries file, line, column and hint."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        first = str(errors[0]) if errors else "registry is invalid"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)


class YamlProblem(IcalpubError):
    """The text is not YAML this tool accepts; carries a 1-based position."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message


class AlreadyReported(IcalpubError):
    """A registry value was wrong; its problem is already recorded (the reader's control flow)."""


class LocalTimeError(IcalpubError, ValueError):
    """A local time that does not exist, or exists twice, in its zone."""


class LedgerError(IcalpubError):
    """The ledger file (events.lock) cannot be read or is malformed."""


class BuildError(IcalpubError):
    """Writing the publication to disk failed; the old tree is untouched."""


class LedgerPendingError(BuildError):
    """The new tree is published but the ledger's rename failed; the next build finishes it."""


class SettingError(IcalpubError, ValueError):
    """An ICALPUB_* environment variable holds a value its setting cannot take."""

    def __init__(self, variable: str, value: str) -> None:
        super().__init__(f"{variable}={value!r}: not a value this setting takes")
        self.variable = variable
        self.value = value
