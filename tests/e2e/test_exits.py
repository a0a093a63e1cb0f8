"""Clean on every exit: a build stopped by a signal, at any stage and in any of its processes, leaves the
output folder and ``TMPDIR`` as they were, and no process behind.

Each build is the command line in a new process (a session of its own, so that a whole group can be
signalled as a terminal's Ctrl-C does), with ``TMPDIR`` a folder of the test's. The signal is sent when the
build has reached a stage that can be seen from outside: the printer forked, WeasyPrint's font folder made
(a layout under way), a drawing process forked, an edition's temporary file staged.
"""

from __future__ import annotations

import os
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


def descendants(pid: int, depth: int = 1) -> list[tuple[int, int]]:
    """``pid``'s descendants, each with its depth (1: a child)."""
    found = []
    for child in children(pid):
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

    def __init__(self, tmp_path: Path, brief: Path, *args: str, speedups: str = "", **popen: object):
        self.out, self.temp = tmp_path / "out", tmp_path / "temp"
        self.temp.mkdir()
        env = {key: value for key, value in os.environ.items() if key != "BRIEFPRESS_SPEEDUPS"}
        env.update(TMPDIR=str(self.temp), BRIEFPRESS_SPEEDUPS=speedups)
        self.stderr_file = tmp_path / "stderr"
        with self.stderr_file.open("wb") as stderr:
            popen = {"stdout": subprocess.DEVNULL, "stderr": stderr, **popen}
            self.process = subprocess.Popen([str(BRIEFPRESS), "build", str(brief), "--out", str(self.out), *args],
                                            env=env, start_new_session=True, **popen)

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
    """The build has a process forked at ``depth``: the printer (1), or a drawing process (the printer's, at
    2; the build's own, without a printer, at 1)."""
    def stage(build: Build) -> bool:
        return any(found == depth for _, found in descendants(build.process.pid))
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


@pytest.mark.parametrize("stage, name", [(laying_out, "laying out"), (forked(2), "drawing")],
                         ids=["laying-out", "drawing"])
def test_a_printer_stopped_on_its_own_fails_the_build_cleanly(started, long_brief: Path, tmp_path: Path,
                                                              stage, name: str) -> None:
    """SIGTERM to the printer alone (by a process manager, say): the build fails in one line, and nothing
    is left behind."""
    before = populated(tmp_path / "out")
    build = started(long_brief, "--format", "pdf")
    build.wait_for(stage, name)
    [printer] = children(build.process.pid)
    os.kill(printer, signal.SIGTERM)

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
