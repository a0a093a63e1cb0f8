"""pandoc, the program that formats the citations: found, started, given its input, and read back.

pandoc runs as its own process (it is GPL-licensed; nothing of it is linked into the package): the
``pandoc`` of PyPI ``pypandoc-binary``, pinned, so one install gives one text. It starts with no environment
but ``PATH``, in a folder of the build's, with its heap and its time bounded, and is killed if the build
dies.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Sequence

from ..exits import STOPPING, deferred

#: Bounds for pandoc: its heap, and the time a run may take (a brief's citations take well under a second;
#: these only stop a runaway).
HEAP_MB = 768
#: The heap a run starts with (``start(..., heap_mb=…)``), where not pandoc's own 64 MB (its build sets
#: ``-H64m``): the brief's citations, at the same speed from the brief to 300 pages (16 MB: a fifth slower at
#: 300 pages) and 40 MB less; one reference (the brief's own entry), which never needs more.
CITATIONS_HEAP_MB = 32
ONE_REFERENCE_HEAP_MB = 4
TIMEOUT = 120


class EngineError(Exception):
    """pandoc could not read a bibliography file or the style, or ran out of its time or memory.
    ``file`` is the index of the bibliography file at fault (None: the style, or the run as a whole);
    ``references`` the references of that file at fault, each as (its id as written, what is wrong with it),
    to be reported at its own line."""

    def __init__(self, message: str, file: int | None = None,
                 references: tuple[tuple[str, str], ...] = ()):
        super().__init__(message)
        self.file = file
        self.references = references


class EngineTimeout(EngineError):
    """pandoc took longer than ``TIMEOUT`` and was stopped."""


def pandoc_path() -> Path:
    """The pandoc that PyPI's ``pypandoc-binary`` installs beside the package (one version, so one text)."""
    import importlib.util

    spec = importlib.util.find_spec("pypandoc")
    if spec is not None and spec.origin:
        found = Path(spec.origin).parent / "files" / "pandoc"
        if found.is_file() and os.access(found, os.X_OK):
            return found
    raise EngineError("pandoc is not installed: install the package 'pypandoc-binary' (pip install "
                      "pypandoc-binary)")


def _in_the_child() -> None:
    """In the child, before pandoc starts: take the stopping signals again (the build holds them back while
    it starts pandoc, and a child inherits that), and, on Linux, be killed if the build dies, so that no pandoc
    is left on."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Runs:
    """The pandoc runs of a build's folder ``cwd``, started by ``start``; on leaving (``with``), whatever
    happens, each still running is killed, and every one is reaped.

    A run is started and recorded with the stopping signals held back (``exits.deferred``), so that a stop
    that comes while pandoc starts is raised once the run is recorded, to be killed: a run started but not
    yet recorded would be left on until the build's process ended."""

    def __init__(self, cwd: str):
        self.cwd = cwd
        self._started: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Runs:
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self._started:
            if process.poll() is None:
                process.kill()
            process.wait()

    def start(self, args: list[str], text: str, heap_mb: int | None = None) -> subprocess.Popen[bytes]:
        """Start pandoc with ``args`` on ``text``, its heap bounded (and starting at ``heap_mb``, if given),
        with no environment but ``PATH``.

        The text is written to a file of the folder that pandoc is given to read, not sent down a pipe: runs
        started one after another then all work side by side, where through pipes each would get its input
        only once ``finish`` had read the runs before it."""
        fd, name = tempfile.mkstemp(prefix="input-", suffix=".txt", dir=self.cwd)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        with deferred():
            process = subprocess.Popen(
                [str(pandoc_path()), "+RTS", f"-M{HEAP_MB}m", *([f"-H{heap_mb}m"] if heap_mb else []), "-RTS",
                 *args, os.path.basename(name)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.cwd,
                env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "HOME": self.cwd},
                preexec_fn=_in_the_child if os.name == "posix" else None)
            self._started.append(process)
        return process


def finish(process: subprocess.Popen[bytes], files: Sequence[str], warnings: list[str] | None = None) -> Any:
    """Read pandoc's JSON (and into ``warnings``, if given, the lines of its warnings); a failure, a runaway
    (``EngineTimeout``) or a heap overflow is an ``EngineError`` (naming the one of ``files`` at fault, if
    any). A run stopped meanwhile is killed by its ``Runs``."""
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise EngineTimeout(f"formatting the citations took longer than {TIMEOUT} s") from None
    if process.returncode != 0:
        given = str(process.args[-1])  # the input's file, which a message names as pandoc names no pipe
        raise _failure(err.decode("utf-8", "replace").replace(f'"{given}" ', "").replace(given, "the input"),
                       files)
    if warnings is not None:
        warnings.extend(line for line in err.decode("utf-8", "replace").splitlines() if line.strip())
    return json.loads(out)


#: What pandoc (its Haskell runtime) says when it runs out of memory: its heap limit reached ("Heap exhausted",
#: "heap overflow"), or memory the system refuses it ("out of memory", under an address-space limit such as
#: ``ulimit -v``; the heap's reservation refused; libyaml's and GMP's own allocations).
_OUT_OF_MEMORY = re.compile(r"^(?:pandoc: )?(?:(?:Yaml )?out of memory\b|osReserveHeapMemory: "
                            r"|GNU MP: Cannot allocate memory)|heap overflow|Heap exhausted", re.IGNORECASE)


def _failure(stderr: str, files: Sequence[str]) -> EngineError:
    lines = [line.strip() for line in stderr.splitlines()
             if line.strip() and not line.startswith(("[WARNING]", "HasCallStack", "  "))]
    if any(_OUT_OF_MEMORY.search(line) for line in lines):
        return EngineError(f"formatting the citations needed more than {HEAP_MB} MB")
    message = " ".join(lines)[:300] or "pandoc failed"
    for index, name in enumerate(files):
        if name in message:
            return EngineError(message.replace(f"Error reading bibliography file {name}:", "").strip()
                               .replace(name, "this file"), index)
    return EngineError(message.replace("style.csl", "the style"))
