"""Diagnostics: every problem in a brief carries its file and line."""

from __future__ import annotations

import difflib
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a brief, in the compiler's ``path:line: severity: message`` form."""

    path: Path | None
    line: int | None
    message: str
    severity: str = "error"

    def format(self) -> str:
        """Return the diagnostic as one line, with the path relative to the current folder."""
        where = ""
        if self.path is not None:
            where = _relative(self.path)
            where += f":{self.line}:" if self.line else ":"
            where += " "
        # One problem, one line: a message quoting several lines would break tools that parse them.
        message = re.sub(r"\s*[\r\n]+\s*", " ", self.message).strip()
        return f"{where}{self.severity}: {message}"

    def to_json(self) -> list:
        """The diagnostic as a JSON list, to keep with cached work whose build reported it."""
        return [None if self.path is None else str(self.path), self.line, self.message, self.severity]

    @classmethod
    def from_json(cls, item: object) -> Diagnostic:
        """A diagnostic kept with ``to_json``; ``ValueError`` if ``item`` is not one."""
        if not (isinstance(item, list) and len(item) == 4):
            raise ValueError("not a kept diagnostic")
        path, line, message, severity = item
        if not (isinstance(path, (str, type(None))) and isinstance(line, (int, type(None)))
                and isinstance(message, str) and severity in ("error", "warning")):
            raise ValueError("not a kept diagnostic")
        return cls(None if path is None else Path(path), line, message, severity)

    @property
    def kind(self) -> str:
        """What the problem is, whatever it names: its message with the quoted names left out."""
        return re.sub(r"'[^'\n]*'", "'…'", re.sub(r"\s+", " ", self.message).strip())


#: How many warnings of one kind are shown; the rest are counted in one line.
SHOWN = 10


def summarised(diagnostics: Iterable[Diagnostic]) -> list[str]:
    """The diagnostics as lines, in order: every error, and of the warnings of one kind the first ten, then one
    line in their place counting the rest (tens of thousands of uncited references are one problem)."""
    items = list(diagnostics)
    counts = Counter(d.kind for d in items if d.severity == "warning")
    met: Counter[str] = Counter()
    lines = []
    for diagnostic in items:
        kind = diagnostic.kind
        if diagnostic.severity == "warning" and counts[kind] > SHOWN + 1:
            met[kind] += 1
            if met[kind] == SHOWN + 1:
                lines.append(f"briefpress: warning: ... and {counts[kind] - SHOWN} more such warnings ({kind})")
            if met[kind] > SHOWN:
                continue
        lines.append(diagnostic.format())
    return lines


def _relative(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


class BriefError(Exception):
    """A brief could not be built; carries every diagnostic found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(summarised(self.diagnostics)))


@dataclass
class Diagnostics:
    """Collects problems across a whole stage, so that authors see them all at once."""

    items: list[Diagnostic] = field(default_factory=list)
    #: What failed to load ("sections", "data.<name>"), so later stages skip the follow-on errors.
    lost: set[str] = field(default_factory=set)
    _recorded: set[Diagnostic] = field(default_factory=set, repr=False, compare=False)

    def error(self, path: Path | None, line: int | None, message: str) -> None:
        """Record an error."""
        self.add(Diagnostic(path, line, message, "error"))

    def warning(self, path: Path | None, line: int | None, message: str) -> None:
        """Record a warning."""
        self.add(Diagnostic(path, line, message, "warning"))

    def add(self, *diagnostics: Diagnostic) -> None:
        """Record diagnostics, each once: a problem met again (a file refused in each part of a long brief's
        layout) is the same problem."""
        for diagnostic in diagnostics:
            if diagnostic not in self._recorded:
                self._recorded.add(diagnostic)
                self.items.append(diagnostic)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    def check(self, strict: bool = False) -> None:
        """Raise :class:`BriefError` if there are errors (or warnings, when strict)."""
        failing = self.items if strict else self.errors
        if failing:
            raise BriefError(self.items)


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return a ``did you mean`` suffix for an unknown name, or an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
