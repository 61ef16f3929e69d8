"""Why a save was not made, in words the editor shows: each refusal, and problems placed
on the edited event's fields."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import IcalpubError, Problem
from . import yamltext
from .yamltext import Fields


class Refused(IcalpubError):
    """A change that was not saved; nothing was written."""


class NotFound(Refused):
    """There is no such event (any more)."""


class Exists(Refused):
    """A new event's id is taken: by an event in the file, or by one deleted before."""


class Conflict(Refused):
    """The event changed since the editor opened it; here is how it is now."""

    def __init__(
        self, event_id: str, current: Fields | None, version: str | None, what: str = ""
    ) -> None:
        what = what or f"event '{event_id}'"
        how = "was deleted" if current is None else "was changed by someone else"
        super().__init__(f"{what} {how} since you opened it; nothing was saved")
        self.current = current
        self.version = version


class Broken(IcalpubError):
    """The file cannot be edited as it is (a YAML syntax error, no `events:` list);
    `problems` are the validator's, at their lines, with hints."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems) or "the registry cannot be read")
        self.problems = problems


class Unsaved(IcalpubError):
    """The disk refused the write (full, read-only, …); both files are as they were."""


class Busy(IcalpubError):
    """The file kept changing under the save (hand edits, `git pull`); nothing was saved."""


class Invalid(Refused):
    """The change would make the registry invalid; each problem names its field."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems) or "the registry is invalid")
        self.problems = problems


@dataclass(frozen=True)
class FieldProblem:
    """A validator's message, placed on a field of the edited event ("" for the event)."""

    field: str
    message: str
    hint: str = ""
    line: int = 0

    @property
    def text(self) -> str:
        """Return the message and its hint as `icalpub validate` prints them."""
        return f"{self.message}; {self.hint}" if self.hint else self.message


def placed(problems: list[Problem], text: str, event_id: str) -> list[FieldProblem]:
    """Return the errors, each on the field of the edited event it concerns."""
    item = yamltext.read(text).item(event_id) if event_id else None
    lines: list[tuple[str, int, int]] = []
    if item is not None:
        for key_name, (key, value) in item.fields.items():
            end = yamltext.content_end(text, value)
            lines.append((key_name, key.line, text.count("\n", 0, end) + 1))
    placed: list[FieldProblem] = []
    for problem in problems:
        if problem.severity != "error":
            continue
        name: str | None = next(
            (n for n, first, last in lines if first <= problem.line <= last), None
        )
        if name is None and item is not None:
            first_line = text.count("\n", 0, item.start) + 1
            last_line = text.count("\n", 0, item.end)
            name = "" if first_line <= problem.line <= last_line else None
        message = problem.message if name is not None else f"line {problem.line}: {problem.message}"
        placed.append(FieldProblem(name or "", message, problem.hint, problem.line))
    return placed
