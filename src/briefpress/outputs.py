"""What a build writes: each output's record, for the progress line and the release manifest, and the one
way files are written, through a temporary file renamed into place."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: What each edition counts, for the progress line and the manifest.
UNITS = {"pdf": "pages", "epub": "documents", "html": "sections"}


@dataclass(frozen=True)
class Output:
    """One written file."""

    path: Path
    fmt: str
    units: int
    size: int
    seconds: float

    def describe(self) -> str:
        """Return the progress line: path, pages or documents, size, seconds."""
        return (f"{os.path.relpath(self.path)}  {self.units} {UNITS[self.fmt]}  {self.size / 1024:.0f} KiB  "
                f"{self.seconds:.2f} s")


def temporary_beside(path: Path) -> Path:
    """Create an empty temporary file in ``path``'s folder, named after it, to be renamed onto it."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(name)


def write_atomic(path: Path, text: str) -> None:
    """Write text to ``path`` through a temporary file in the same folder, then rename."""
    temp = temporary_beside(path)
    try:
        with temp.open("w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
