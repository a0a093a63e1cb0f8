"""The build server (``speedups.server``): a rebuild that it serves gives the bytes a build in its own process
gives, cold, after an edit and after the edit is undone; errors, a stop and a broken server are handled as a
build's own process handles them; and it is started only for rebuilds, never in CI.

Each test has its own folder for the server's socket (``XDG_RUNTIME_DIR``), so its server is its own, and
stops it at the end."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from briefpress.speedups.server import CONNECT_SECONDS, _Files
from tools.paths import BRIEF

BRIEFPRESS = Path(sys.executable).parent / "briefpress"
FORMATS = ("pdf", "epub", "html")


class Desk:
    """A copy of the real brief, and builds of it by the command line with the server on (or off)."""

    def __init__(self, root: Path):
        self.root = root
        self.brief = root / "brief"
        shutil.copytree(BRIEF, self.brief, ignore=shutil.ignore_patterns("__pycache__"))
        self.runtime = Path(tempfile.mkdtemp(dir="/tmp"))  # short: a socket's path holds 107 bytes

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("CI", "BRIEFPRESS_SPEEDUPS", "BRIEFPRESS_SERVER")}
        return {**env, "XDG_RUNTIME_DIR": str(self.runtime), "BRIEFPRESS_SERVER": "120", **extra}

    def build(self, out: Path, cwd: Path | None = None, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BRIEFPRESS), "build", str(self.brief), "--out", str(out)], capture_output=True,
                              text=True, env=self.env(**extra), timeout=600, cwd=cwd)

    def popen(self, out: Path) -> subprocess.Popen:
        return subprocess.Popen([str(BRIEFPRESS), "build", str(self.brief), "--out", str(out)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env())

    def folder(self) -> Path:
        return self.runtime / f"briefpress-{os.getuid()}"

    def server(self, wait: float = 30) -> int | None:
        """The running server's process id, waiting up to ``wait`` seconds for one to listen."""
        deadline = time.monotonic() + wait
        while True:
            for lock in self.folder().glob("*.lock") if self.folder().is_dir() else []:
                text = lock.read_text().strip()
                if text.isdigit() and _alive(int(text)) and lock.with_suffix(".sock").exists():
                    return int(text)
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)

    def serving(self, out: Path) -> int:
        """Build into ``out`` twice (the second, a rebuild, starts the server), then once more, which the
        server builds; the server's process id."""
        for _ in range(2):
            run = self.build(out)
            assert run.returncode == 0, run.stderr
        pid = self.server()
        assert pid is not None, "a rebuild starts a server"
        before = _cpu(pid)
        run = self.build(out)
        assert run.returncode == 0, run.stderr
        assert _cpu(pid) > before, "the server built it"
        return pid

    def stop(self) -> None:
        """Kill the server, if one runs."""
        for lock in self.folder().glob("*.lock") if self.folder().is_dir() else []:
            text = lock.read_text().strip()
            if text.isdigit() and _alive(int(text)):
                os.kill(int(text), signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _outputs(out: Path) -> dict[str, bytes]:
    return {fmt: next(out.glob(f"*.{fmt}")).read_bytes() for fmt in FORMATS}


def _edit(desk: Desk, text: str | None = None) -> tuple[Path, str]:
    section = sorted((desk.brief / "sections").glob("*.md"))[1]
    old = section.read_text(encoding="utf-8")
    section.write_text(text if text is not None else old.replace("\n\n", "\n\nA paragraph added.\n\n", 1),
                       encoding="utf-8")
    return section, old


def _lengthen(desk: Desk, paragraphs: int) -> None:
    """Add ``paragraphs`` paragraphs to a section: a build that takes a while to lay out and draw."""
    section, old = _edit(desk)
    long = "\n\n".join(f"Paragraph {n} of a long addition, which takes a while to lay out and draw."
                       for n in range(paragraphs))
    section.write_text(old.replace("\n\n", f"\n\n{long}\n\n", 1), encoding="utf-8")


def _underway(desk: Desk, out: Path) -> subprocess.Popen:
    """A long build into ``out`` begun, and still running a second later."""
    _lengthen(desk, 600)
    proc = desk.popen(out)
    time.sleep(1.0)
    assert proc.poll() is None, "the build was still running"
    return proc


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    made = Desk(tmp_path)
    yield made
    made.stop()
    shutil.rmtree(made.runtime, ignore_errors=True)


def test_a_served_rebuild_gives_the_bytes_of_a_build_of_its_own(desk: Desk, tmp_path: Path) -> None:
    """Cold, served, after an edit and after the edit is undone: each edition the same bytes as a build in
    its own process (the server off) of the same brief."""
    cold = desk.build(tmp_path / "cold", BRIEFPRESS_SERVER="off")
    assert cold.returncode == 0, cold.stderr
    served = tmp_path / "served"
    pid = desk.serving(served)
    assert _outputs(served) == _outputs(tmp_path / "cold")

    section, old = _edit(desk)
    before = _cpu(pid)
    run = desk.build(served)
    assert run.returncode == 0, run.stderr
    assert _cpu(pid) > before + 0.05, "the server built it"
    assert [line.split()[1:3] for line in run.stdout.splitlines()] == \
        [line.split()[1:3] for line in cold.stdout.splitlines()], "the same report, edition by edition"
    edited = desk.build(tmp_path / "edited", BRIEFPRESS_SERVER="off")
    assert edited.returncode == 0, edited.stderr
    assert _outputs(served) == _outputs(tmp_path / "edited")
    assert _outputs(served)["pdf"] != _outputs(tmp_path / "cold")["pdf"]

    section.write_text(old, encoding="utf-8")
    run = desk.build(served)
    assert run.returncode == 0, run.stderr
    assert desk.server(wait=0) == pid
    assert _outputs(served) == _outputs(tmp_path / "cold")


def test_a_served_build_that_fails_reports_at_the_line_and_changes_nothing(desk: Desk, tmp_path: Path) -> None:
    served = tmp_path / "served"
    pid = desk.serving(served)
    kept = _outputs(served)
    section, old = _edit(desk)
    section.write_text(old.replace("\n\n", "\n\nSee @fig-nowhere here.\n\n", 1), encoding="utf-8")
    line = section.read_text(encoding="utf-8").splitlines().index("See @fig-nowhere here.") + 1
    run = desk.build(served, cwd=desk.root)  # its paths are given relative to the folder it is run from
    assert run.returncode == 1
    assert run.stderr.startswith(f"{section.relative_to(desk.root)}:{line}: error:"), run.stderr
    assert "Traceback" not in run.stderr
    assert _outputs(served) == kept
    assert desk.server(wait=0) == pid, "the server goes on serving"
    section.write_text(old, encoding="utf-8")
    run = desk.build(served)
    assert run.returncode == 0, run.stderr


def test_a_stopped_build_stops_the_served_build(desk: Desk, tmp_path: Path) -> None:
    """SIGTERM to the build that asked: it exits 143 once the server has stopped its build, which leaves the
    output folder as it was; the server leaves."""
    served = tmp_path / "served"
    pid = desk.serving(served)
    kept = sorted(p.name for p in served.iterdir())
    outputs = _outputs(served)
    proc = _underway(desk, served)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM" in err
    assert sorted(p.name for p in served.iterdir()) == kept
    assert _outputs(served) == outputs
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), "the server left"


def test_a_long_served_build_is_not_given_up(desk: Desk, tmp_path: Path) -> None:
    """A build that takes the server longer than a build waits for it to accept (``CONNECT_SECONDS``) before
    it prints anything is still the server's: the build that asked waits, and does none of the work."""
    served = tmp_path / "served"
    pid = desk.serving(served)
    _lengthen(desk, 1500)
    before, server_before = resource.getrusage(resource.RUSAGE_CHILDREN), _cpu(pid)
    started = time.monotonic()
    run = desk.build(served)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - started > CONNECT_SECONDS
    assert _cpu(pid) - server_before > CONNECT_SECONDS / 2, "the server built it"
    assert (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) < 1.0, "the build did not"
    assert desk.server(wait=0) == pid


def test_a_served_shelf_gives_the_site_a_shelf_of_its_own_gives(desk: Desk, tmp_path: Path) -> None:
    """``briefpress shelf`` where the shelf was built before is the server's too; after one brief is edited,
    the site is the bytes a shelf built in its own process (the server off) makes of the edited desk."""
    root = tmp_path / "desk"
    for n in range(2):
        copy = root / "briefs" / f"b{n}"
        shutil.copytree(desk.brief, copy)
        meta = yaml.safe_load((copy / "brief.yaml").read_text(encoding="utf-8"))
        meta.update(slug=f"brief-{n}", identifier=f"{meta['identifier']}-{n}", title=f"{meta['title']} ({n + 1})")
        (copy / "brief.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8")
    config = root / "shelf.yaml"
    config.write_text("briefs: [briefs/*]\nbase_url: https://example.org/briefs/\n", encoding="utf-8")

    def shelf(out: Path, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BRIEFPRESS), "shelf", "--config", str(config), "--out", str(out)],
                              capture_output=True, text=True, env=desk.env(**extra), timeout=600)

    def site(out: Path) -> dict[str, bytes]:
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    served = root / "dist" / "shelf"
    for _ in range(2):
        run = shelf(served)
        assert run.returncode == 0, run.stderr
    pid = desk.server()
    assert pid is not None, "a shelf built again starts a server"
    section = sorted((root / "briefs" / "b1" / "sections").glob("*.md"))[1]
    section.write_text(section.read_text(encoding="utf-8").replace("\n\n", "\n\nA paragraph added.\n\n", 1),
                       encoding="utf-8")
    before = _cpu(pid)
    run = shelf(served)
    assert run.returncode == 0, run.stderr
    assert _cpu(pid) > before + 0.05, "the server built it"
    alone = tmp_path / "alone" / "shelf"
    run = shelf(alone, BRIEFPRESS_SERVER="off")
    assert run.returncode == 0, run.stderr
    assert site(served) == site(alone)
    assert b"A paragraph added." in site(served)["brief-1/brief-1.html"]


def test_a_build_whose_server_dies_is_made_by_itself(desk: Desk, tmp_path: Path) -> None:
    """The server killed outright during the build it serves: the build that asked makes it itself."""
    served = tmp_path / "served"
    pid = desk.serving(served)
    proc = _underway(desk, served)
    os.kill(pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert len(out.splitlines()) == 3, out
    alone = desk.build(tmp_path / "alone", BRIEFPRESS_SERVER="off")
    assert alone.returncode == 0, alone.stderr
    assert _outputs(served) == _outputs(tmp_path / "alone")


def test_the_server_leaves_when_idle(desk: Desk, tmp_path: Path) -> None:
    out = tmp_path / "out"
    for _ in range(2):
        assert desk.build(out, BRIEFPRESS_SERVER="0.5").returncode == 0
    deadline = time.monotonic() + 60
    while list(desk.folder().glob("*.sock")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not list(desk.folder().glob("*.sock")), "it removed its socket and left"


def test_no_server_for_a_first_build_or_in_ci(desk: Desk, tmp_path: Path) -> None:
    assert desk.build(tmp_path / "first").returncode == 0
    assert desk.server(wait=1) is None, "a build into a new folder starts no server"
    for _ in range(2):
        assert desk.build(tmp_path / "ci", CI="true").returncode == 0
    assert desk.server(wait=1) is None, "nor one in CI"


def test_a_dead_server_or_an_open_folder_leaves_the_build_to_itself(desk: Desk, tmp_path: Path) -> None:
    """A server killed outright leaves its socket and lock: the next rebuild builds in its own process and
    starts a new one. A socket folder that others may write is not used at all."""
    out = tmp_path / "out"
    pid = desk.serving(out)
    os.kill(pid, signal.SIGKILL)
    while _alive(pid):
        time.sleep(0.05)
    assert list(desk.folder().glob("*.sock")), "a stale socket"
    section, old = _edit(desk)
    run = desk.build(out)
    assert run.returncode == 0, run.stderr
    fresh = desk.server()
    assert fresh is not None and fresh != pid
    desk.stop()
    assert desk.build(tmp_path / "edited", BRIEFPRESS_SERVER="off").returncode == 0
    assert _outputs(out) == _outputs(tmp_path / "edited")

    while _alive(fresh):
        time.sleep(0.05)
    desk.folder().chmod(0o777)
    for _ in range(2):
        run = desk.build(out)
        assert run.returncode == 0, run.stderr
    assert desk.server(wait=1) is None


def test_the_server_runs_builds_only_and_for_its_own_user(desk: Desk, tmp_path: Path) -> None:
    """Anything but a build, or a message it cannot read, is declined, and the server goes on."""
    out = tmp_path / "out"
    pid = desk.serving(out)
    sock_path = next(desk.folder().glob("*.sock"))
    made = tmp_path / "made-by-new"

    def ask(payload: bytes) -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(30)
            sock.connect(str(sock_path))
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            try:
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
            except ConnectionResetError:  # closed with what was sent unread
                pass
            return b"".join(chunks)

    request = json.dumps({"argv": ["new", str(made)], "for": [str(made), str(out)], "cwd": str(tmp_path),
                          "umask": 0o22}).encode()
    answer = ask(struct.pack("<I", len(request)) + request)
    assert b"declined" in answer
    assert not made.exists()
    assert ask(struct.pack("<I", 1 << 30) + b"x") == b""
    assert ask(b"\x05\x00\x00\x00[1,2]") == b""
    nested = b"[" * 200_000 + b"]" * 200_000
    assert ask(struct.pack("<I", len(nested)) + nested) == b""
    assert desk.server(wait=0) == pid
    run = desk.build(out)
    assert run.returncode == 0, run.stderr


def test_a_changed_file_is_seen(tmp_path: Path) -> None:
    """The server leaves once a file of the package, or of a module it runs, changes or is added."""
    package = tmp_path / "package"
    package.mkdir()
    (package / "a.py").write_text("x = 1\n")
    files = _Files(package)
    assert not files.changed()
    (package / "b.css").write_text("p {}\n")
    assert files.changed()
    files = _Files(package)
    (package / "a.py").write_text("x = 22\n")
    assert files.changed()
