"""What a build writes: each output's record, for the progress line and the release manifest, and the one
way files are written: all of a build's files staged beside their final names, then renamed into place
together, or none of them.

A staged file is held locked (``flock``) by the build that writes it, for as long as it lives. A file of
that name that nobody holds was left by a build that was killed, and a later build removes it (``stale``).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .errors import BriefError, Diagnostic
from .exits import check as check_stopped
from .exits import deferred

try:
    import fcntl
except ImportError:  # Windows: nothing is locked, and nothing is taken for stale
    fcntl = None  # type: ignore[assignment]

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


def _temporary_name(path: Path) -> re.Pattern[str]:
    """The names of ``path``'s temporary files, as ``tempfile.mkstemp`` makes them."""
    return re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")


def _lock(fd: int) -> bool:
    """Lock an open file for this process and the ones it forks; ``False`` if another holds it."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def stale(paths: Iterable[Path]) -> list[Path]:
    """Remove the temporary files of ``paths`` that no build holds (left by one that was killed); return
    them. Only the names this module gives ``paths``' own temporary files are looked at."""
    removed = []
    for path in paths:
        pattern = _temporary_name(path)
        try:
            names = [name for name in os.listdir(path.parent) if pattern.fullmatch(name)]
        except OSError:
            continue
        for name in names:
            candidate = path.parent / name
            try:
                fd = os.open(candidate, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
            except OSError:
                continue
            try:
                if fcntl is not None and stat.S_ISREG(os.fstat(fd).st_mode) and _lock(fd):
                    candidate.unlink()
                    removed.append(candidate)
            except OSError:
                pass
            finally:
                os.close(fd)
    return removed


def _error(path: Path, exc: OSError) -> BriefError:
    """A file that could not be staged or replaced, as a diagnostic naming its final path."""
    reason = exc.strerror or str(exc)
    return BriefError([Diagnostic(path, None, reason[:1].lower() + reason[1:])])


#: What a file system says when it cannot take a file: full, over quota, or the file too large for it.
NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


@contextmanager
def writing(final: Path) -> Iterator[None]:
    """Report a file system that cannot take what is written meanwhile as ``final``'s error (``path:
    error: no space left on device``), wherever the writing failed: in this process or one it forked."""
    try:
        yield
    except OSError as exc:
        if exc.errno in NO_ROOM:
            raise _error(final, exc) from exc
        raise


class Staging:
    """Files that a build replaces together. Each is written to a temporary file beside its final name
    (``add``); ``commit`` renames all into place, or, if one cannot be, puts back the ones already renamed;
    ``discard`` removes what is staged. Everything staged is removed by one or the other."""

    def __init__(self) -> None:
        self.staged: list[tuple[Path, Path, int]] = []  # (temporary, final, its locked descriptor)

    @staticmethod
    def check(finals: Iterable[Path]) -> None:
        """Raise a :class:`BriefError` naming each of ``finals`` that is there and cannot be replaced by a
        file (a folder), before anything is written."""
        problems = [Diagnostic(final, None, "is a folder: it cannot be replaced by the output")
                    for final in finals if final.is_dir()]
        if problems:
            raise BriefError(problems)

    def add(self, final: Path) -> Path:
        """Stage ``final``: return the new, empty temporary file to write it into."""
        with deferred():  # made and recorded together, so that ``discard`` removes it whatever happens
            try:
                fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
            except OSError as exc:
                raise _error(final, exc) from exc
            _lock(fd)
            self.staged.append((Path(name), final, fd))
        return Path(name)

    def temporary(self, final: Path) -> Path:
        """Where ``final``'s new content is staged."""
        return next(temp for temp, staged, _ in self.staged if staged == final)

    def commit(self) -> None:
        """Rename every staged file into place, or none: a failure puts back the files already replaced."""
        with deferred():
            check_stopped()  # a stop asked for meanwhile is a failure, even if it went unseen
            self.check(final for _, final, _ in self.staged)
            replaced: list[tuple[Path, Path | None]] = []  # (final, its previous content, kept aside)
            kept: list[int] = []  # descriptors that lock what is kept aside, until it is removed
            try:
                for temp, final, _ in self.staged:
                    previous = _keep_aside(final, kept)
                    try:
                        os.chmod(temp, 0o644)
                        os.replace(temp, final)
                    except OSError as exc:
                        if previous is not None:
                            previous.unlink()
                        raise _error(final, exc) from exc
                    replaced.append((final, previous))
            except BaseException:
                for final, previous in reversed(replaced):
                    if previous is None:
                        final.unlink(missing_ok=True)
                    else:
                        os.replace(previous, final)
                raise
            finally:
                for _, previous in replaced:
                    if previous is not None:
                        previous.unlink(missing_ok=True)
                for fd in kept:
                    os.close(fd)
                self.discard()

    def discard(self) -> None:
        """Remove every staged file that is still there."""
        with deferred():
            for temp, _, fd in self.staged:
                temp.unlink(missing_ok=True)
                os.close(fd)
            self.staged = []


def _keep_aside(final: Path, kept: list[int]) -> Path | None:
    """Keep ``final``'s present content under a temporary name beside it (a second link to the same file,
    locked), to put back if the set cannot be replaced whole; ``None`` if there is no such file."""
    if not os.path.lexists(final):
        return None
    try:  # locked, so that a build that runs meanwhile does not take it for one left by a killed build
        fd = os.open(final, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        kept.append(fd)
        _lock(fd)
    except OSError:
        pass
    try:
        temp_fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        os.close(temp_fd)
        os.unlink(name)
        try:
            os.link(final, name, follow_symlinks=False)
        except OSError:  # a file system without hard links
            shutil.copy2(final, name, follow_symlinks=False)
    except OSError as exc:
        raise _error(final, exc) from exc
    return Path(name)


def write_atomic(path: Path, text: str) -> None:
    """Write text to ``path`` through a temporary file in the same folder, then rename."""
    staging = Staging()
    try:
        staging.add(path).write_text(text, encoding="utf-8", newline="\n")
        staging.commit()
    finally:
        staging.discard()
