"""The build server: a process that stays after a rebuild, so that the next ``briefpress build`` of the brief
finds everything loaded and lays out again only the sections that changed.

A new process pays, on every build, for Python and its imports, WeasyPrint's import (about 0.4 s), its fonts
and parsed stylesheets, and the layout and drawing of every page. ``watch`` keeps all of that between saves
(``typeset.Warm``); the server keeps it between builds run from a terminal or by ``make``:

- A build into an output folder that an earlier build left (its ``.briefpress-cache`` is there) and that
  finds no server builds in its own process, as always, then starts one (``start``): a detached process
  (``briefpress server``) that imports the pipeline and WeasyPrint, and waits.
- The next such build (``ask``) sends the server its arguments, working folder and umask; the server runs
  them as the command line would, with a ``Warm`` typesetter kept for that brief and output folder, and
  sends back each line of output and the exit status. The build's process only prints them.
- A build into a new folder never asks, nor starts one: a first build, a CI run, a clean clone are built
  as before, in their own process.
- ``briefpress shelf`` does the same where the shelf was built before (its briefs' caches are beside it):
  after one brief is edited, the server lays out again only the sections of that brief that changed.

The outputs are the bytes the build's own process makes (tested), and the same rules hold: nothing in the
output folder changes unless the build succeeds, every error at ``path:line``, exit 1. The server exits after
``IDLE`` seconds without a build, when a file of this package or of a module it has loaded changes (it
answers "changed" and the build is made in its own process), or when the build that asked is stopped (a
signal): it stops that build as the build's own process would, and leaves.

One server serves one user and one environment: its socket is in a private folder of the user's
(``$XDG_RUNTIME_DIR``, else ``$TMPDIR``, else ``/tmp``), named by a digest of the Python that runs it, where
this package is, and every variable of the environment that can change a build's bytes or what it reads
(``SOURCE_DATE_EPOCH``, the locale, ``PATH``, ``HOME``, the ``XDG_``, ``FONTCONFIG``, ``PYTHON`` and
``BRIEFPRESS_`` ones, ``TMPDIR``). It accepts connections from its own user only. ``BRIEFPRESS_SERVER=off``
turns it off; ``BRIEFPRESS_SERVER=N`` sets its idle time to N seconds; ``BRIEFPRESS_SPEEDUPS=no-server``
turns it off with the speed-ups' switch. It is never started where ``CI`` is set.
"""

from __future__ import annotations

import ctypes
import fcntl
import gc
import hashlib
import json
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable


if TYPE_CHECKING:  # imported where used: a build that asks the server needs none of it
    from ..editions.typeset import PrintJob, Typeset
    from ..errors import Diagnostics

#: Seconds without a build after which the server exits, unless ``BRIEFPRESS_SERVER`` gives another.
IDLE = 900
#: How many briefs (or shelves) the server keeps laid out, the last built: a brief and the shelf it is on.
KEPT = 2
#: Environment variables, by prefix, that can change what a build reads or makes.
ENVIRONMENT = ("SOURCE_DATE_EPOCH", "TZ", "LANG", "LC_", "PATH", "HOME", "XDG_", "FONTCONFIG", "PYTHON",
               "BRIEFPRESS_", "TMPDIR")
#: How long a build waits to connect, and for the server to accept its request, before it builds on its own.
CONNECT_SECONDS = 2.0


def idle_seconds() -> float:
    """How long the server waits for a build before it exits (``BRIEFPRESS_SERVER=N``, else ``IDLE``)."""
    setting = os.environ.get("BRIEFPRESS_SERVER", "").strip()
    try:
        return max(0.1, float(setting)) if setting else IDLE
    except ValueError:
        return IDLE


def environment() -> dict[str, str]:
    """The variables of this process's environment that can change a build (``ENVIRONMENT``)."""
    return {name: value for name, value in sorted(os.environ.items()) if name.startswith(ENVIRONMENT)}


#: The longest path a socket may have (``sun_path`` holds 108 bytes with its terminating zero).
_LONGEST = 107


def folder() -> Path:
    """The user's private folder for the server's socket and lock (made ``0700`` if missing): in
    ``$XDG_RUNTIME_DIR``, else ``$TMPDIR``, else ``/tmp``; ``/tmp`` too where the first would make the
    socket's path too long."""
    # Not ``tempfile.gettempdir()``: a build points it at its own private folder.
    name = f"briefpress-{os.getuid()}"
    base = next((Path(value) for value in (os.environ.get("XDG_RUNTIME_DIR"), os.environ.get("TMPDIR"))
                 if value and os.path.isabs(value) and os.path.isdir(value)
                 and len(os.fsencode(value)) + len(name) + 32 <= _LONGEST), Path("/tmp"))
    path = base / name
    with suppress(FileExistsError):
        path.mkdir(mode=0o700)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise OSError(f"{path} is not a private folder of this user's")
    return path


def address() -> Path:
    """The socket of the server for this Python, this package and this environment."""
    digest = hashlib.sha256(json.dumps([sys.executable, sys.version, str(Path(__file__).resolve().parents[1]),
                                        environment()]).encode("utf-8")).hexdigest()[:24]
    return folder() / f"{digest}.sock"


# ---------------------------------------------------------------------------------------------------------
# The build's side


def ask(argv: list[str], kept_for: tuple[str, str], out: Callable[[str], None],
        err: Callable[[str], None]) -> int | None:
    """Have the server run ``briefpress`` with ``argv``, a build of the brief (or shelf) and output folder
    ``kept_for`` (absolute paths: what the server keeps laid out for it); print what it says with ``out``
    and ``err`` and return its exit status. ``None`` if there is no server, it cannot serve this build, or it stopped before
    it answered: the caller then builds in its own process (which removes what a stopped build left). A signal that stops this process stops the server's build too, which this
    waits for, so that the output folder is as the build left it when this returns (or raises)."""
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError:
        return None
    with sock:
        try:
            sock.settimeout(CONNECT_SECONDS)
            sock.connect(str(address()))
            _send(sock, {"argv": argv, "for": list(kept_for), "cwd": os.getcwd(), "umask": _umask()})
            first = _receive(sock)
        except (OSError, ValueError):
            return None
        if first is None or not first.get("accepted"):
            return None
        sock.settimeout(None)
        try:
            message: dict[str, Any] | None = _receive(sock)  # a stop may come before the build says anything
            while message is not None:
                if "exit" in message:
                    return int(message["exit"])
                (out if message.get("stream") == "out" else err)(str(message.get("line", "")))
                message = _receive(sock)
        except (OSError, ValueError):  # the server died
            return None
        except BaseException:  # stopped: the server stops the build once this side is closed, and answers
            with suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
                sock.settimeout(30)
                while _receive(sock) is not None:
                    pass
            raise
        return None  # it stopped before it answered (killed): the build is made here, from the start


def start(argv: list[str]) -> None:
    """Start a server for this environment, detached (its own session, no terminal, no descriptors of
    this process's), unless one is running; never raises. It lays out the brief of the build ``argv`` at
    once (``serve``'s ``prime``), so that the next rebuild finds its layouts."""
    with suppress(OSError, subprocess.SubprocessError, ValueError):
        if _holder(address()) is not None:
            return
        subprocess.Popen([sys.executable, "-m", "briefpress", "server", "--prime", os.path.abspath(os.getcwd()),
                          *argv], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True,
                         start_new_session=True, cwd="/")


def stop() -> bool:
    """Stop the server for this environment, if one runs; say whether one did."""
    with suppress(OSError):
        pid = _holder(address())
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            return True
    return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _holder(sock: Path) -> int | None:
    """The process id of the server that holds the lock beside ``sock``, if one does."""
    lock = sock.with_suffix(".lock")
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:  # held: read who holds it
            text = os.read(fd, 32).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode("utf-8")
    sock.sendall(struct.pack("<I", len(data)) + data)


#: The largest message either side accepts.
_MOST = 16 << 20


def _receive(sock: socket.socket) -> dict[str, Any] | None:
    """The next message, or ``None`` once the other side has closed."""
    head = _exactly(sock, 4)
    if head is None:
        return None
    (size,) = struct.unpack("<I", head)
    if size > _MOST:
        raise ValueError("a message too large")
    body = _exactly(sock, size)
    if body is None:
        raise ValueError("a message cut short")
    try:
        message = json.loads(body)
    except RecursionError:  # nested too deeply to read
        raise ValueError("not a message") from None
    if not isinstance(message, dict):
        raise ValueError("not a message")
    return message


def _exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            if left == size and size:
                return None
            raise ValueError("a message cut short")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------------------------------------------------
# The server's side


class Served:
    """The server's typesetter for one brief and output folder: a short brief laid out by ``Warm`` (which
    keeps each section's layout), a long one in parts as a build's own process lays it out."""

    def __init__(self) -> None:
        from ..editions.typeset import Warm

        self.warm = Warm()

    def typeset(self, job: PrintJob, target: Path | None, diags: Diagnostics) -> Typeset:
        if job.parts or not job.sections:  # as a build's own process lays it out
            from .drawing import Here

            return Here().typeset(job, target, diags)
        return self.warm.typeset(job, target, diags)


class _Files:
    """The files the server runs: this package's, and every loaded module's, each with its state when first
    seen; ``changed`` says whether any is not as it was."""

    def __init__(self, package: Path | None = None) -> None:
        self.seen: dict[str, tuple[int, int, int]] = {}
        self.package = package or Path(__file__).resolve().parents[1]
        self.note()

    @staticmethod
    def _state(path: str) -> tuple[int, int, int]:
        info = os.stat(path)
        return info.st_ino, info.st_size, info.st_mtime_ns

    def _paths(self) -> list[str]:
        paths = [str(p) for p in self.package.rglob("*") if "__pycache__" not in p.parts and p.is_file()]
        for module in list(sys.modules.values()):
            name = getattr(module, "__file__", None)
            if isinstance(name, str) and os.path.isabs(name):
                paths.append(name)
        return paths

    def note(self) -> None:
        """Record the state of every file not seen yet."""
        for path in self._paths():
            if path not in self.seen:
                with suppress(OSError):
                    self.seen[path] = self._state(path)

    def changed(self) -> bool:
        for path, state in self.seen.items():
            try:
                if self._state(path) != state:
                    return True
            except OSError:
                return True
        return any(str(path) not in self.seen for path in self.package.rglob("*")
                   if "__pycache__" not in path.parts and path.is_file())


def serve(run: Callable[[list[str], Any], int], warm_up: Callable[[], None],
          prime: tuple[tuple[str, str], Callable[[Served], None]] | None = None) -> int:
    """Serve builds until idle, stopped, or out of date: ``run(argv, typesetter)`` runs one build as the
    command line would, printing to ``sys.stdout`` and ``sys.stderr``; ``warm_up`` imports what builds use;
    ``prime``, what the build that started the server was for (``ask``'s ``kept_for``) and a function that
    lays its brief out with a typesetter without writing anything, before the first build is served."""
    sock_path = address()
    lock_fd = os.open(sock_path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another server serves this environment
    os.ftruncate(lock_fd, 0)
    os.write(lock_fd, str(os.getpid()).encode("ascii"))
    with suppress(FileNotFoundError):
        sock_path.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock_path))
    os.chmod(sock_path, 0o600)
    listener.listen(8)
    bound = os.stat(sock_path).st_ino
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        warm_up()
        files = _Files()
        served: dict[tuple[str, str], Served] = {}
        if prime is not None:
            kept_for, lay_out = prime
            typesetter = served[kept_for] = Served()
            with suppress(Exception):  # only a head start: the build it is for lays out what this did not
                lay_out(typesetter)
        listener.settimeout(idle_seconds())
        while True:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                return 0
            with conn:
                if not _own_user(conn):
                    continue
                try:
                    conn.settimeout(CONNECT_SECONDS)
                    request = _receive(conn)
                    conn.settimeout(None)
                except (OSError, ValueError):
                    continue
                if request is None:
                    continue
                moved = _moved(sock_path, bound)
                if moved or files.changed():
                    with suppress(OSError):
                        _send(conn, {"declined": "changed"})
                    return 0
                stopped = _build(conn, request, run, served)
                files.note()
                _give_back()
                if stopped:
                    return 0
    finally:
        with suppress(OSError):
            if not _moved(sock_path, bound):
                sock_path.unlink()
        listener.close()
        os.close(lock_fd)


def _give_back() -> None:
    """Once a build is answered, return to the system the memory it freed: a long brief's layout takes
    hundreds of megabytes, which the C library's allocator would otherwise keep for the process."""
    gc.collect()
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def _own_user(conn: socket.socket) -> bool:
    try:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return False
    _, uid, _ = struct.unpack("3i", creds)
    return uid == os.getuid()


def _moved(sock_path: Path, bound: int) -> bool:
    """Whether the socket is no longer this server's (removed, or another in its place)."""
    try:
        return os.stat(sock_path).st_ino != bound
    except OSError:
        return True


class _Lines:
    """A text stream that sends each line written to the build that asked."""

    def __init__(self, conn: socket.socket, stream: str):
        self.conn, self.stream, self.pending = conn, stream, ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            with suppress(OSError):
                _send(self.conn, {"stream": self.stream, "line": line})
        return len(text)

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        raise OSError("not a file")


def _build(conn: socket.socket, request: dict[str, Any], run: Callable[[list[str], Any], int],
           served: dict[tuple[str, str], Served]) -> bool:
    """Run one build for ``conn``; return whether it was stopped (the server then exits)."""
    try:
        argv = [str(arg) for arg in request["argv"]]
        brief, out = (str(path) for path in request["for"])
        cwd, umask = str(request["cwd"]), int(request["umask"])
        if argv[:1] not in (["build"], ["shelf"]) or "--serve" in argv:
            raise ValueError("only builds are served")
        os.chdir(cwd)
    except (KeyError, TypeError, ValueError, OSError):
        with suppress(OSError):
            _send(conn, {"declined": "unreadable"})
        return False
    os.umask(umask)
    try:
        _send(conn, {"accepted": True})  # at once: the build may take minutes before it says anything
    except OSError:
        return False
    typesetter = served.pop((brief, out), None) or Served()
    served[(brief, out)] = typesetter  # the last used, last
    while len(served) > KEPT:  # the layouts kept are the memory a server holds
        served.pop(next(iter(served)))
    done = threading.Event()
    stopped: list[bool] = []

    def watch_closed() -> None:  # the build that asked was stopped: stop this one, as its own process would
        with suppress(OSError, ValueError):
            while not done.is_set():
                if _receive(conn) is None:
                    break
        if not done.is_set():
            stopped.append(True)
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    watcher = threading.Thread(target=watch_closed, daemon=True)
    saved = sys.stdout, sys.stderr
    out_lines, err_lines = _Lines(conn, "out"), _Lines(conn, "err")
    sys.stdout, sys.stderr = out_lines, err_lines  # type: ignore[assignment]
    watcher.start()
    status = 1
    try:
        status = run(argv, typesetter)
    except BaseException:  # a stop that came after the build's own handling
        stopped.append(True)
    finally:
        done.set()
        sys.stdout, sys.stderr = saved
        for lines in (out_lines, err_lines):
            if lines.pending:
                lines.write("\n")
    with suppress(OSError):
        _send(conn, {"exit": status})
    with suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)  # wakes the watcher, which then sees the build done
    watcher.join(5)
    return bool(stopped) or status >= 128
