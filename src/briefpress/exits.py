"""Clean on every exit: the signals that stop a build become exceptions, so that every ``finally`` runs, and
what a build makes outside its output folder lives in one private temporary folder, removed whatever happens.

``SIGINT`` raises ``KeyboardInterrupt``, as Python's own handler does, and ``SIGTERM`` (what ``kill``, a CI
time limit or a service manager sends) raises :class:`Stopped`; each only once, so that a second signal
cannot cut the cleanup of the first short. Where a few steps must happen together (renaming the outputs
into place, or removing what a failed build made), ``deferred`` holds those signals back until they are done.
Processes forked by a build inherit all of this; one killed outright leaves its files in the private folder,
which the process that started it removes.
"""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

#: The signals a build turns into an orderly stop, and the exit status for each (128 + the signal's number).
STOPPING = (signal.SIGINT, signal.SIGTERM)


class Stopped(BaseException):
    """The build was asked to stop by a signal other than ``SIGINT`` (which raises ``KeyboardInterrupt``).

    A ``BaseException``, like ``KeyboardInterrupt``: no ``except Exception`` takes it for a failure of the
    work it interrupts."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")


def status(exc: BaseException) -> int:
    """The exit status for a stop: 128 + the signal's number, as a shell reports a process it ended."""
    signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
    return 128 + signum


def _stop(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else Stopped(signum)


class _Handler:
    """Raises the first stopping signal as an exception; later ones are dropped."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __call__(self, signum: int, frame: Any) -> None:
        if self.signum is not None:
            return
        global _received
        self.signum = _received = signum
        raise _stop(signum)


#: The handler of the build under way, if any.
_handler: _Handler | None = None
#: The stopping signal the last build received, if any (kept after its handler is put back).
_received: int | None = None


def check() -> None:
    """Raise the stop a signal asked for, if one did: once more, should a library's bare ``except:`` have
    swallowed it the first time. Called before anything is replaced."""
    if _handler is not None and _handler.signum is not None:
        raise _stop(_handler.signum)


def stop_behind(exc: BaseException) -> BaseException | None:
    """The stop behind a failure, if a signal asked for one: found in the failure's chain of causes, or else
    recorded by the handler. A signal that comes while a library runs is raised inside that library's code,
    which may wrap it (Python wraps any exception from a descriptor's ``__set_name__`` in a ``RuntimeError``,
    so a signal during an import can surface as one) or answer it with an error of its own."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        if isinstance(link, (Stopped, KeyboardInterrupt)):
            return link
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return _stop(_received) if _received is not None else None


@contextmanager
def orderly_stop() -> Iterator[None]:
    """Turn ``SIGINT`` and ``SIGTERM`` into exceptions meanwhile (in the main thread; elsewhere nothing
    changes), then put the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    global _handler, _received
    handler = _handler = _Handler()
    _received = None
    saved = {signum: signal.signal(signum, handler) for signum in STOPPING}
    saved_hook = sys.unraisablehook
    sys.unraisablehook = _unraisable(handler, saved_hook)
    try:
        yield
    finally:
        for signum, previous in saved.items():
            signal.signal(signum, previous)
        if sys.unraisablehook is not saved_hook:
            sys.unraisablehook = saved_hook
        _handler = None


def _unraisable(handler: _Handler, previous: Callable[[Any], object]) -> Callable[[Any], object]:
    """``sys.unraisablehook`` meanwhile: the stop a signal raised inside code whose exceptions Python cannot
    pass on (a weak reference's callback, such as the import system's module locks; a finaliser) is not
    printed as an error of that code: the handler has recorded it, and ``check`` raises it again before any
    output is replaced. Anything else goes to ``previous``."""

    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, (Stopped, KeyboardInterrupt)) and handler.signum is not None:
            return
        previous(unraisable)

    return hook


@contextmanager
def deferred() -> Iterator[None]:
    """Hold ``SIGINT`` and ``SIGTERM`` back meanwhile, in this thread; one that came is handled at the end,
    once the steps inside are all done (or all undone)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    saved = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, saved)


@contextmanager
def private_temporary_folder() -> Iterator[str]:
    """Point ``tempfile``'s default folder at a new private one for the duration, then remove it with all
    it holds, whatever happens (a signal that comes meanwhile is handled once it is removed).

    WeasyPrint copies each ``@font-face`` font into a temporary folder per document (1.8 MB for the design's
    fonts) and removes it only when its font configuration is garbage-collected, and a process killed
    outright removes nothing. ``tempfile.tempdir`` is the documented way to choose where ``mkdtemp`` and
    ``mkstemp`` create their files, and forked processes inherit it.
    """
    saved = tempfile.tempdir
    with deferred():  # made and in use together, so that it is removed whatever happens
        folder = tempfile.mkdtemp(prefix="briefpress-")
        tempfile.tempdir = folder
    try:
        yield folder
    finally:
        with deferred():
            tempfile.tempdir = saved
            shutil.rmtree(folder, ignore_errors=True)
