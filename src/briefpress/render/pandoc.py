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

#: Bounds for pandoc: its heap, and the time a run may take (a brief's citations take well under a second;
#: these only stop a runaway).
HEAP_MB = 768
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


def _die_with_us() -> None:
    """In the child, before pandoc starts: be killed if the build dies (Linux), so that no pandoc is left on."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run(args: list[str], text: str, cwd: str) -> subprocess.Popen[bytes]:
    """Start pandoc with ``args`` in ``cwd`` on ``text``, its heap bounded, with no environment but ``PATH``.

    The text is written to a file of ``cwd`` that pandoc is given to read, not sent down a pipe: runs started
    one after another then all work side by side, where through pipes each would get its input only once
    ``finish`` had read the runs before it."""
    fd, name = tempfile.mkstemp(prefix="input-", suffix=".txt", dir=cwd)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    return subprocess.Popen(
        [str(pandoc_path()), "+RTS", f"-M{HEAP_MB}m", "-RTS", *args, os.path.basename(name)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
        env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "HOME": cwd},
        preexec_fn=_die_with_us if sys.platform.startswith("linux") else None)


def finish(process: subprocess.Popen[bytes], files: Sequence[str], warnings: list[str] | None = None) -> Any:
    """Read pandoc's JSON (and into ``warnings``, if given, the lines of its warnings); a failure, a runaway
    (``EngineTimeout``) or a heap overflow is an ``EngineError`` (naming the one of ``files`` at fault, if
    any)."""
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise EngineTimeout(f"formatting the citations took longer than {TIMEOUT} s") from None
    except BaseException:
        process.kill()
        process.wait()
        raise
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
