"""What the package keeps beside its compiled modules, in its ``__pycache__``: work a build would otherwise
repeat every time, because Python keeps only compiled modules across processes.

Two things are kept: the package's templates compiled by Jinja (``render.jinja``), through Jinja's own
``BytecodeCache``, which keys each by its source and checks it; and WeasyPrint's C declarations compiled by
cffi (``speedups.declarations``), keyed by their source and checked against it. A change is a miss, and a
miss only costs the work it would have saved. They are written under the rule Python follows for ``.pyc``
files: not under ``PYTHONDONTWRITEBYTECODE`` unless asked (``make venv`` asks), and silently not where the
package is read-only.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Callable

FOLDER = Path(__file__).resolve().parent / "__pycache__"


def may_write(write: bool | None = None) -> bool:
    """Whether to keep what was just made: ``write`` if given, else as Python does for ``.pyc`` files."""
    return not sys.dont_write_bytecode if write is None else write


def keep(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write ``path`` through ``write(file)``, atomically; a read-only package keeps nothing."""
    try:
        path.parent.mkdir(exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.chmod(temp, 0o644)  # readable by all, as Python's own .pyc files are
            os.replace(temp, path)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
    except OSError:
        pass
