"""The quick exit: once a command has returned, its process ends without tearing Python down.

Python ends a process by running its ``atexit`` functions, then taking the interpreter apart: every
module's objects freed one by one, and a last collection of cycles. After a build that took 50 ms (the
brief's PDF) to 70 ms (all three editions) of time and processor, for nothing: by then every file is written
and closed, every temporary folder removed, every child process reaped.

``arm`` registers an ``atexit`` function before any other (the command line arms it first thing), so that it
runs last, after every other one: Python runs them in the reverse order of registration, as documented.
It flushes the standard output and error, and ends the process with ``os._exit`` and the command's status,
but only once ``done`` has been told that status: a command that raised, and Python itself in any other
case, end the usual way. A build called as a library (``briefpress.build``) and the command line called as
a function (``cli.main``) never arm it.
"""

from __future__ import annotations

import atexit
import os
import sys

_status: int | None = None


def arm() -> None:
    """Have the process end quickly once ``done`` is called (see the module)."""
    atexit.register(_exit)


def done(status: int) -> int:
    """The command returned ``status``: the process may end without its teardown. Returns ``status``."""
    global _status
    _status = status
    return status


def _exit() -> None:
    if _status is None:
        return
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # a process started without them
            continue
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe, a closed stream: nothing more can be said there
            pass
    os._exit(_status)
