"""Clean on every exit: a build stopped by a signal, at any stage and in any of its processes, leaves the
output folder and ``TMPDIR`` as they were, and no process behind.

Each build is the command line in a new process (a session of its own, so that a whole group can be
signalled as a terminal's Ctrl-C does), with ``TMPDIR`` a folder of the test's. The signal is sent when the
build has reached a stage that can be seen from outside: the printer forked, WeasyPrint's font folder made
(a layout under way), a drawing process forked, an edition's temporary file staged.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

BRIEFPRESS = Path(sys.executable).parent / "briefpress"
#: Only a guard against a hang: a build that ends this late has gone wrong anyway.
HANG_GUARD = 120
PREVIOUS = {"long.pdf": b"%PDF previous", "long.epub": b"previous epub", "long.html": b"<p>previous</p>\n",
            "notes.txt": b"not ours\n"}


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` (hidden ones too), with its bytes and modification time."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"", p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


def populated(out: Path) -> dict[str, tuple[bytes, int]]:
    """Fill the output folder with a previous build's outputs and a file of someone else's."""
    out.mkdir(parents=True, exist_ok=True)
    for name, data in PREVIOUS.items():
        (out / name).write_bytes(data)
        os.utime(out / name, ns=(10**18, 10**18))
    return snapshot(out)


def children(pid: int) -> list[int]:
    try:
        return [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                for c in (task / "children").read_text().split()]
    except OSError:
        return []


def stat(pid: int) -> list[str]:
    """The fields of ``/proc/PID/stat`` after the command's name: state, parent, …; ``["X"]`` if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return ["X"]


def state(pid: int) -> str:
    """A process's state (``R`` running, ``S`` sleeping, ``Z`` exited, not yet reaped…); ``X`` if gone."""
    return stat(pid)[0]


def descendants(pid: int, depth: int = 1) -> list[tuple[int, int]]:
    """``pid``'s descendants at work (not exited), each with its depth (1: a child)."""
    found = []
    for child in children(pid):
        if state(child) not in "ZX":
            found += [(child, depth), *descendants(child, depth + 1)]
    return found


def in_session(sid: int) -> list[int]:
    """The live (not zombie) processes of session ``sid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            found.append(int(entry.name))
    return found


class Build:
    """``briefpress build`` in a process of its own, in a session of its own."""

    def __init__(self, tmp_path: Path, brief: Path, *args: str, speedups: str = "", out: Path | None = None,
                 **popen: object):
        self.out, self.temp = out or tmp_path / "out", tmp_path / "temp"
        self.temp.mkdir()
        env = {key: value for key, value in os.environ.items() if key != "BRIEFPRESS_SPEEDUPS"}
        env.update(TMPDIR=str(self.temp), BRIEFPRESS_SPEEDUPS=speedups)
        self.stderr_file = tmp_path / "stderr"
        with self.stderr_file.open("wb") as stderr:
            popen = {"stdout": subprocess.DEVNULL, "stderr": stderr, "cwd": tmp_path, **popen}
            self.process = subprocess.Popen([str(BRIEFPRESS), "build", str(brief), "--out", str(self.out), *args],
                                            env=env, start_new_session=True, **popen)

    def wait_clean(self, status: int, stderr: str, before: dict[str, tuple[bytes, int]]) -> None:
        """Wait for the build; check its status and ``stderr``, that the output folder holds what it held
        ``before`` and that ``TMPDIR`` is empty."""
        assert (self.wait(), self.stderr) == (status, stderr)
        assert snapshot(self.out) == before
        assert snapshot(self.temp) == {}

    @property
    def stderr(self) -> str:
        return self.stderr_file.read_text()

    def wait_for(self, stage: Callable[[Build], bool], what: str) -> None:
        """Wait until the build reaches ``stage``; fail if it ends first."""
        deadline = time.monotonic() + HANG_GUARD
        while not stage(self):
            assert self.process.poll() is None, f"the build ended before {what}: {self.stderr}"
            assert time.monotonic() < deadline, f"the build never reached {what}"
            time.sleep(0.01)

    def wait(self) -> int:
        status = self.process.wait(timeout=HANG_GUARD)
        deadline = time.monotonic() + HANG_GUARD
        while in_session(self.process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert in_session(self.process.pid) == [], "a process of the build outlived it"
        return status

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def started(tmp_path: Path):
    """Start builds, and kill any still running at the end of the test."""
    builds: list[Build] = []

    def start(*args: str, **kwargs: object) -> Build:
        builds.append(Build(tmp_path, *args, **kwargs))
        return builds[-1]

    yield start
    for build in builds:
        build.stop()


def forked(depth: int) -> Callable[[Build], bool]:
    """The build has a process forked at ``depth`` at work: the printer (1), or a drawing process (the
    printer's, at 2; the build's own, without a printer, at 1). At work: it has used some processor time,
    so it runs its own code. (A signal that reaches a process in the microseconds between its fork and
    Python's reset of its signal state is lost: a test would see what no one meets.)"""
    def stage(build: Build) -> bool:
        return any(found == depth and sum(map(int, stat(pid)[11:13])) >= 5
                   for pid, found in descendants(build.process.pid))
    return stage


def laying_out(build: Build) -> bool:
    """WeasyPrint has made its folder of fonts for a document: a layout is under way."""
    return any(build.temp.rglob("weasyprint-*"))


def staged(fmt: str) -> Callable[[Build], bool]:
    def stage(build: Build) -> bool:
        return any(build.out.glob(f".long.{fmt}.*.tmp"))
    return stage


# (stage, its name, the formats built, the speed-ups)
STAGES = [
    (forked(1), "the printer importing WeasyPrint", ("--format", "pdf"), ""),
    (staged("pdf"), "the PDF staged", ("--format", "pdf"), ""),
    (laying_out, "the printer laying out", ("--format", "pdf"), ""),
    (forked(2), "a part drawn", (), ""),
    (staged("epub"), "the EPUB's page map laid out", ("--format", "epub"), ""),
    (laying_out, "laying out in the build's own process", (), "off"),
    (forked(1), "a part drawn by the build itself", ("--format", "pdf"), "no-printer"),
]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("stage, name, formats, speedups", STAGES, ids=[s[1] for s in STAGES])
def test_a_stopped_build_leaves_everything_as_it_was(started, long_brief: Path, tmp_path: Path, signum: int,
                                                     stage, name: str, formats: tuple[str, ...],
                                                     speedups: str) -> None:
    before = populated(tmp_path / "out")
    build = started(long_brief, *formats, speedups=speedups)
    build.wait_for(stage, name)
    os.kill(build.process.pid, signum)

    assert build.wait() == 128 + signum, build.stderr
    assert build.stderr == f"briefpress: error: stopped by {signal.Signals(signum).name}\n"
    assert snapshot(build.out) == before
    assert snapshot(build.temp) == {}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_a_library_wraps_is_still_a_stop(signum: int) -> None:
    """A signal that comes while a class is made (an import under way) is raised inside its descriptors'
    ``__set_name__``, and Python reports that as a ``RuntimeError``: the build still ends as stopped."""
    from briefpress.exits import Stopped, orderly_stop, status, stop_behind

    class Signalling:
        def __set_name__(self, owner: type, name: str) -> None:
            os.kill(os.getpid(), signum)
            time.sleep(1)  # the handler runs at the next instruction, inside this call

    with pytest.raises(RuntimeError) as failure, orderly_stop():
        type("Made", (), {"attribute": Signalling()})
    stop = stop_behind(failure.value)
    assert isinstance(stop, Stopped if signum == signal.SIGTERM else KeyboardInterrupt)
    assert status(stop) == 128 + signum
    # a library may answer the signal with an error of its own, with no link to it: the handler recorded it
    assert status(stop_behind(RuntimeError("unrelated"))) == 128 + signum
    with orderly_stop():
        assert stop_behind(RuntimeError("unrelated")) is None  # a new build starts with no stop recorded


# The command line, run with SIGTERM sent to the build the moment its printer is forked (as ``os.fork``
# returns in the build), before the build has recorded it; then the build's child processes, as it returns.
AS_THE_PRINTER_IS_FORKED = """
import os, signal, sys, threading
from pathlib import Path
from briefpress import cli

build = os.getpid()

def hook(frame, event, arg):
    if (event == "return" and frame.f_code.co_name == "fork" and os.getpid() == build
            and frame.f_code.co_filename.endswith(os.path.join("speedups", "processes.py"))):
        sys.setprofile(None)
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

sys.setprofile(hook)
status = cli.main(sys.argv[1:])
sys.setprofile(None)
print("children:", [c for task in Path(f"/proc/{build}/task").iterdir()
                    for c in (task / "children").read_text().split()])
print("status:", status)
"""


def test_a_stop_as_the_printer_is_forked_stops_the_printer(long_brief: Path, tmp_path: Path) -> None:
    """The printer is forked and recorded with the stopping signals held back: a stop that comes between the
    fork and the record is raised after it, and the build closes the printer before it ends."""
    out = tmp_path / "out"
    before = populated(out)
    run = subprocess.run([sys.executable, "-c", AS_THE_PRINTER_IS_FORKED, "build", str(long_brief), "--format",
                          "pdf", "--out", str(out)], capture_output=True, text=True, timeout=HANG_GUARD,
                         env={**os.environ, "TMPDIR": str(tmp_path)})
    assert run.stdout.splitlines()[-2:] == ["children: []", f"status: {128 + signal.SIGTERM}"], \
        (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr, run.stderr
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_raised_where_python_cannot_pass_it_on_is_not_printed_and_still_stops(signum: int) -> None:
    """A signal whose handler runs inside a weak reference's callback (as the import system's module locks
    have): Python cannot raise it there and hands it to ``sys.unraisablehook``, which prints it as an
    exception ignored; a build passes it on to nothing, and ``check`` raises the stop before any output is
    replaced. Any other exception there still goes to the hook."""
    import threading
    import weakref

    from briefpress.exits import Stopped, check, orderly_stop

    class Locked:
        pass

    def stopping(reference: object) -> None:
        signal.pthread_kill(threading.get_ident(), signum)
        time.sleep(1)  # the handler runs at the next instruction, inside this callback

    def failing(reference: object) -> None:
        raise ValueError("a callback's own error")

    seen: list[object] = []
    saved = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: seen.append(unraisable.exc_type)
    try:
        with orderly_stop():
            held, other = Locked(), Locked()
            references = weakref.ref(held, stopping), weakref.ref(other, failing)
            del held, other  # each callback runs, and Python hands what it raised to the hook
            assert references[0]() is None and references[1]() is None
            with pytest.raises(Stopped if signum == signal.SIGTERM else KeyboardInterrupt):
                check()
    finally:
        sys.unraisablehook = saved
    assert seen == [ValueError]


@pytest.mark.parametrize("stage, name", [(laying_out, "laying out"), (forked(2), "drawing")],
                         ids=["laying-out", "drawing"])
def test_ctrl_c_stops_every_process_of_a_build(started, long_brief: Path, tmp_path: Path, stage, name: str) -> None:
    """A terminal's Ctrl-C sends SIGINT to every process of the foreground group: the printer and its
    drawing processes are stopped by it at the same time as the build."""
    before = populated(tmp_path / "out")
    build = started(long_brief)
    build.wait_for(stage, name)
    os.killpg(build.process.pid, signal.SIGINT)

    assert build.wait() == 130, build.stderr
    assert build.stderr == "briefpress: error: stopped by SIGINT\n"
    assert snapshot(build.out) == before
    assert snapshot(build.temp) == {}


@pytest.mark.parametrize("stage, name, depth", [(laying_out, "laying out", 1), (forked(2), "drawing", 1),
                                               (forked(2), "drawing", 2)],
                         ids=["printer-laying-out", "printer-drawing", "drawing-process"])
def test_a_helper_stopped_on_its_own_fails_the_build_cleanly(started, long_brief: Path, tmp_path: Path,
                                                             stage, name: str, depth: int) -> None:
    """SIGTERM to the printer or a drawing process alone (by a process manager, say): the build fails in
    one line, and nothing is left behind."""
    before = populated(tmp_path / "out")
    build = started(long_brief, "--format", "pdf")
    build.wait_for(stage, name)
    [helper] = [pid for pid, found in descendants(build.process.pid) if found == depth]
    os.kill(helper, signal.SIGTERM)

    assert build.wait() == 1, build.stderr
    assert len(build.stderr.splitlines()) == 1 and build.stderr.startswith("briefpress: error: "), build.stderr
    assert "Traceback" not in build.stderr
    assert snapshot(build.out) == before
    assert snapshot(build.temp) == {}


@pytest.mark.parametrize("speedups", ["", "no-printer"], ids=["printer", "no-printer"])
def test_helpers_of_a_killed_build_stop_at_once(started, long_brief: Path, speedups: str) -> None:
    """SIGKILL (an out-of-memory killer, a CI time limit) gives the build no chance to stop its printer and
    drawing processes: they stop by themselves, at once, rather than lay the brief out as orphans."""
    build = started(long_brief, "--format", "pdf", speedups=speedups)
    build.wait_for(forked(1 if speedups else 2), "a part drawn")
    helpers = [pid for pid, _ in descendants(build.process.pid)]
    os.kill(build.process.pid, signal.SIGKILL)
    build.process.wait(timeout=HANG_GUARD)
    deadline = time.monotonic() + 5  # generous: each stops within a second
    while set(helpers) & set(in_session(build.process.pid)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not set(helpers) & set(in_session(build.process.pid)), "a helper outlived the build it worked for"


# --- A full disk ----------------------------------------------------------------------------------------

@pytest.fixture
def full_disk(tmp_path: Path):
    """An output folder on a file system with no space left: a small tmpfs, mounted for the test, holding a
    previous build's outputs and a file that takes the rest. Mounting needs root; elsewhere, the build's
    files are limited in size (``RLIMIT_FSIZE``, with ``SIGXFSZ`` ignored), which a file system reports
    as 'file too large'. Yields the output folder, what the build is started with, and the reason."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(mount)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        import resource

        def limited() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 10, 16 << 10))

        yield mount / "out", {"preexec_fn": limited}, "file too large"
        return
    try:
        (mount / "out").mkdir()
        populated(mount / "out")
        with (mount / "filler").open("wb") as filler:
            try:
                while True:
                    filler.write(bytes(1 << 16))
                    filler.flush()
            except OSError:
                pass
        yield mount / "out", {}, "no space left on device"
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)


# With the printer, the HTML is written while the PDF is laid out, and meets the full disk first: the PDF's
# case asks for the PDF alone.
@pytest.mark.parametrize("formats, speedups, failing", [
    (("--format", "pdf"), "", "pdf"), ((), "off", "pdf"), (("--format", "html"), "off", "html"),
], ids=["in-parts-printer", "in-parts-here", "html"])
def test_a_full_disk_is_one_error_and_leaves_everything_as_it_was(started, parted_brief: Path, tmp_path: Path,
                                                                  full_disk, formats: tuple[str, ...],
                                                                  speedups: str, failing: str) -> None:
    """The PDF of a brief in parts is joined by qpdf, whose C++ exception at a full disk used to abort the
    process (``terminate``, exit 134) and leave temporary files behind."""
    out, popen, reason = full_disk
    before = populated(out)
    build = started(parted_brief, *formats, speedups=speedups, out=out, **popen)
    build.wait_clean(1, f"{os.path.relpath(out / f'long.{failing}', tmp_path)}: error: {reason}\n", before)


# --- All or nothing ---------------------------------------------------------------------------------------

def test_a_target_that_cannot_be_replaced_stops_the_build_before_any_is(started, parted_brief: Path,
                                                                       tmp_path: Path) -> None:
    """The HTML's path is a folder: nothing is replaced, the PDF and EPUB included (they come first)."""
    populated(tmp_path / "out")
    (tmp_path / "out" / "long.html").unlink()
    (tmp_path / "out" / "long.html").mkdir()
    (tmp_path / "out" / "long.html" / "index.html").write_bytes(b"someone's")
    before = snapshot(tmp_path / "out")
    build = started(parted_brief, "--release")
    build.wait_clean(1, "out/long.html: error: is a folder: it cannot be replaced by the output\n", before)


def test_a_replacement_that_fails_part_way_puts_the_others_back(parted_brief: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The last of a release's files cannot be renamed into place (an I/O error): those renamed before it
    are put back as they were."""
    from briefpress.cli import main

    out = tmp_path / "out"
    populated(out)
    for name in ("long.bib", "long.json", "SHA256SUMS", "manifest.json"):
        (out / name).write_bytes(f"previous {name}\n".encode())
    before = snapshot(out)
    real_replace = os.replace
    renamed: list[str] = []

    def replace(source: str | Path, target: str | Path) -> None:
        if Path(target).name == "manifest.json" and Path(source).name.startswith(".manifest.json."):
            raise OSError(5, os.strerror(5), str(target))
        real_replace(source, target)
        renamed.append(Path(target).name)

    monkeypatch.setattr(os, "replace", replace)
    status = main(["build", str(parted_brief), "--format", "html", "--release", "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 1, err
    assert err == f"{os.path.relpath(out / 'manifest.json')}: error: {os.strerror(5).lower()}\n"
    assert renamed[:4] == ["long.html", "long.bib", "long.json", "SHA256SUMS"], "four replaced before the last failed"
    assert snapshot(out) == before


# --- Progress that cannot be written ---------------------------------------------------------------------

def full_device() -> dict[str, object]:
    return {"stdout": open("/dev/full", "wb")}


def closed() -> dict[str, object]:
    return {"preexec_fn": lambda: os.close(1)}


def broken_pipe() -> dict[str, object]:
    read, write = os.pipe()
    os.close(read)  # nobody reads: writing fails with EPIPE
    return {"stdout": write}


@pytest.mark.parametrize("stdout", [full_device, closed, broken_pipe], ids=["dev-full", "closed", "broken-pipe"])
def test_progress_that_cannot_be_written_does_not_fail_a_finished_build(started, parted_brief: Path,
                                                                       tmp_path: Path, stdout) -> None:
    before = populated(tmp_path / "out")
    popen = stdout()
    try:
        build = started(parted_brief, "--format", "html", "--format", "epub", "--release", **popen)
        assert (build.wait(), build.stderr) == (0, "")
    finally:
        if isinstance(popen.get("stdout"), int):
            os.close(popen["stdout"])
        elif popen.get("stdout") is not None:
            popen["stdout"].close()
    after = snapshot(build.out)
    hidden = {name for name in after if name.startswith(".")}
    fonts = {name for name in hidden if name.startswith(".briefpress-cache/fonts/")}
    assert hidden - fonts == {".briefpress-cache", ".briefpress-cache/long.pages.json", ".briefpress-cache/fonts"}, \
        "no temporary file is left"
    assert fonts and all(re.fullmatch(r"\.briefpress-cache/fonts/[0-9a-f]{64}", name) for name in fonts)
    for name in ("long.html", "long.epub"):
        assert after[name] != before[name], f"{name} is the new one"
    assert after["long.pdf"] == before["long.pdf"] and after["notes.txt"] == before["notes.txt"]
    assert snapshot(build.temp) == {}


def test_errors_that_cannot_be_written_still_fail_the_build(started, tmp_path: Path) -> None:
    with open("/dev/full", "wb") as full:
        build = started(tmp_path / "no-such-brief", stderr=full)
        assert build.wait() == 1


# --- Temporary files left by a killed build ---------------------------------------------------------------

def test_a_build_removes_the_temporary_files_a_killed_one_left(started, parted_brief: Path, tmp_path: Path) -> None:
    """Only its own outputs' temporary files, and only those no running build holds (locked)."""
    import fcntl

    out = tmp_path / "out"
    out.mkdir()
    left = [out / ".long.html.k1ll3d_x.tmp", out / ".long.pdf.a1b2c3d4.tmp", out / ".SHA256SUMS.zz99yy88.tmp"]
    kept = [out / ".long.html.mine.tmp", out / ".other.html.a1b2c3d4.tmp", out / "long.html.a1b2c3d4.tmp",
            out / ".long.html.h3ld_b1d.tmp"]
    for path in left + kept:
        path.write_bytes(b"partial")
    with open(kept[-1], "rb") as held:  # as a build running meanwhile holds its own
        fcntl.flock(held, fcntl.LOCK_EX)
        build = started(parted_brief, "--format", "html", "--release")
        assert (build.wait(), build.stderr) == (0, "")
    assert not any(path.exists() for path in left)
    assert all(path.read_bytes() == b"partial" for path in kept)
