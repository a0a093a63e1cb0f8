"""The printer: a process forked as a build starts, which imports WeasyPrint and lays out the print job
(``briefpress.speedups.printer``)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

import briefpress.speedups.printer as printer_module
from briefpress.editions.typeset import InProcess, PrintJob
from briefpress.errors import Diagnostics
from briefpress.speedups.printer import Printer
from tools.paths import BRIEF

#: Bounds on waits for another process: they only keep a hang from blocking the run, never measure speed.
HANG_GUARD = 60.0


def test_the_printer_gives_the_bytes_and_page_starts_of_a_layout_here(
        printer: Printer, brief_job: PrintJob, tmp_path: Path) -> None:
    printed_diags, here_diags = Diagnostics(), Diagnostics()
    printed = printer.typeset(brief_job, tmp_path / "printed.pdf", printed_diags)
    here = InProcess().typeset(brief_job, tmp_path / "here.pdf", here_diags)

    assert (tmp_path / "printed.pdf").read_bytes() == (tmp_path / "here.pdf").read_bytes()
    assert printed == here
    assert printed.pages > 1 and len(printed.starts) > 1, "a real layout, with page starts to compare"
    assert printed_diags.items == here_diags.items
    assert printer.pid is None, "the printer stops after its job, and is reaped (the fixture checks)"


def test_a_printer_for_many_jobs_lays_out_each_as_here_and_stays_until_closed(
        reaped: None, brief_job: PrintJob, brief_in_parts: PrintJob, tmp_path: Path) -> None:
    """A shelf's printer: one job after another (a brief laid out section by section, then one in parts, then
    the first again), each the bytes of a layout here; it waits for the next job until it is closed."""
    printer = Printer.start(many=True)
    try:
        for n, job in enumerate((brief_job, brief_in_parts, brief_job)):
            printed = printer.submit(job, tmp_path / f"printed-{n}.pdf", Diagnostics())()
            here = InProcess().typeset(job, tmp_path / f"here-{n}.pdf", Diagnostics())
            assert (tmp_path / f"printed-{n}.pdf").read_bytes() == (tmp_path / f"here-{n}.pdf").read_bytes()
            assert printed == here
            assert printer.pid is not None and os.waitpid(printer.pid, os.WNOHANG) == (0, 0), "still serving"
    finally:
        printer.close(wait=True)
    assert printer.pid is None


def test_a_failure_in_the_printer_is_one_line_with_its_cause(
        printer: Printer, brief_job: PrintJob, tmp_path: Path) -> None:
    broken = replace(brief_job, source=None, front=None)  # WeasyPrint refuses a document without a source
    with pytest.raises(Exception) as in_process:
        InProcess().typeset(broken, tmp_path / "here.pdf", Diagnostics())

    with pytest.raises(RuntimeError) as raised:
        printer.typeset(broken, tmp_path / "printed.pdf", Diagnostics())
    cause = f"{type(in_process.value).__name__}: {in_process.value}"
    assert str(raised.value) == f"typesetting the PDF failed: {cause}"
    assert "\n" not in str(raised.value)
    # The printer's traceback is kept in a note only (the command line shows notes with --debug).
    notes = "\n".join(getattr(raised.value, "__notes__", []))
    assert notes.startswith("Traceback (most recent call last):") and notes.rstrip().endswith(cause)
    assert not (tmp_path / "printed.pdf").exists()
    assert printer.pid is None


def test_a_printer_that_cannot_import_weasyprint_says_why(
        monkeypatch: pytest.MonkeyPatch, reaped: None, brief_job: PrintJob, tmp_path: Path) -> None:
    def missing() -> None:
        raise OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file")

    # As a machine without Pango would have the forked printer find it (the fork inherits the patch).
    monkeypatch.setattr(printer_module, "import_weasyprint", missing)
    printer = Printer.start()
    try:
        with pytest.raises(RuntimeError) as raised:
            printer.typeset(brief_job, tmp_path / "x.pdf", Diagnostics())
    finally:
        printer.close()
    assert str(raised.value) == ("typesetting the PDF failed: OSError: cannot load library 'libpango-1.0-0': "
                                 "libpango-1.0-0: cannot open shared object file")
    assert "Traceback" in "".join(raised.value.__notes__)
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize("wait", [False, True], ids=["killed", "waited-for"])
def test_a_printer_never_sent_a_job_is_reaped(printer: Printer, wait: bool) -> None:
    # As a build does when the brief turns out to be broken (killed), or has nothing to lay out (waited for).
    pid = printer.pid
    assert pid is not None and _state(pid) is not None
    printer.close(wait=wait)
    assert printer.pid is None
    assert _state(pid) is None, "the printer's process is gone, not a zombie"
    printer.close()  # closing again does nothing


def test_a_printer_that_died_is_reported_in_one_line_and_reaped(
        printer: Printer, brief_job: PrintJob, tmp_path: Path) -> None:
    assert printer.pid is not None
    os.kill(printer.pid, signal.SIGKILL)
    with pytest.raises(RuntimeError) as raised:
        printer.typeset(brief_job, tmp_path / "x.pdf", Diagnostics())
    assert str(raised.value) == "the PDF printer process stopped unexpectedly"
    assert printer.pid is None


# The build's side, in a process of its own: a printer whose import never ends (it stands for one busy with a
# layout, which would not notice its build is gone), and the two ids the test needs.
# Each line is one write, so that the two processes' lines do not mix.
ORPHANED = """
import os, time
import briefpress.speedups.printer as printer_module

def importing():
    os.write(1, b"importing\\n")
    time.sleep(3600)

printer_module.import_weasyprint = importing
printer = printer_module.Printer.start()
os.write(1, f"printer {printer.pid}\\n".encode())
time.sleep(3600)
"""


def test_a_printer_dies_when_its_build_is_killed() -> None:
    build = subprocess.Popen([sys.executable, "-c", ORPHANED], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    printer_pid = None
    try:
        lines = sorted(_read_lines(build, 2))
        assert lines[0] == "importing" and lines[1].startswith("printer "), lines
        printer_pid = int(lines[1].split()[1])
        state = _state(printer_pid)
        assert state is not None and state[1] == build.pid, "the printer is the build's child, at work"
        started = state[2]

        build.kill()  # SIGKILL: the build has no chance to close its printer
        build.wait(timeout=HANG_GUARD)
        deadline = time.monotonic() + HANG_GUARD
        while _alive(printer_pid, started) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(printer_pid, started), "the printer outlived the build it worked for"
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
        if printer_pid is not None and _alive(printer_pid, None):
            os.kill(printer_pid, signal.SIGKILL)
        build.stdout.close()
        build.stderr.close()


@pytest.mark.parametrize("in_parts", [False, True], ids=["whole", "in-parts"])
@pytest.mark.parametrize("on", [True, False], ids=["speedups-on", "speedups-off"])
def test_a_pdf_build_leaves_nothing_in_tmpdir(tmp_path: Path, run_cli, on: bool, in_parts: bool) -> None:
    """WeasyPrint copies the fonts of each document it lays out into a temporary folder (1.8 MB), which it
    removes only when it is garbage-collected, and a brief in parts is drawn into temporary files: every
    layout must remove them, in the printer and its drawing processes as in the build."""
    temp = tmp_path / "temp"
    temp.mkdir()
    run = run_cli("build", str(BRIEF), "--format", "pdf", "--out", str(tmp_path / "out"),
                  on=on, reporting=True, in_parts=in_parts, TMPDIR=str(temp))
    assert run.returncode == 0, run.stderr
    assert list((tmp_path / "out").glob("*.pdf")), run.stdout
    # With the speed-ups on, the printer lays the PDF out and the build never imports WeasyPrint.
    assert run.stdout.splitlines()[-1] == f"weasyprint imported by the build: {not on}"
    assert sorted(temp.iterdir()) == []


# WeasyPrint imported as the printer imports it, in a new process, cffi's loading of C libraries watched;
# with "refuse", no library loads while the PATH is empty (as on a machine whose sonames are not the ones
# WeasyPrint tries first).
IMPORT = """
import os, sys
import cffi.api

real_dlopen = cffi.api.FFI.dlopen
paths, refused = [], []

def dlopen(self, name, flags=0):
    paths.append(os.environ.get("PATH"))
    if sys.argv[1] == "refuse" and os.environ.get("PATH") == "":
        refused.append(name)
        raise OSError(f"cannot load library {name!r}")
    return real_dlopen(self, name, flags)

cffi.api.FFI.dlopen = dlopen
path = os.environ["PATH"]
from briefpress.speedups.printer import import_without_compilers

import_without_compilers()
assert os.environ["PATH"] == path, "the PATH was not set back"
assert paths and paths[0] == "", "WeasyPrint was not imported with an empty PATH first"
if sys.argv[1] == "refuse":
    assert refused and paths[-1] == path, "the import was not tried again with the PATH"
else:
    assert set(paths) == {""}, paths
print(sys.modules["weasyprint"].HTML(string="<p>Astana</p>").write_pdf()[:5].decode())
"""


@pytest.mark.parametrize("libraries", ["load", "refuse"])
def test_the_printer_imports_weasyprint_without_a_path_else_with_it(libraries: str) -> None:
    run = subprocess.run([sys.executable, "-c", IMPORT, libraries], capture_output=True, text=True,
                         timeout=HANG_GUARD * 5)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "%PDF-"


def _read_lines(process: subprocess.Popen, count: int) -> list[str]:
    """The first ``count`` lines ``process`` writes to its output."""
    buffer = b""
    deadline = time.monotonic() + HANG_GUARD
    while buffer.count(b"\n") < count:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([process.stdout], [], [], max(left, 0))
        if not ready:
            raise AssertionError(f"no output from the build's process: {buffer!r}")
        chunk = os.read(process.stdout.fileno(), 4096)
        if not chunk:
            raise AssertionError(f"the build's process ended: {buffer!r} {process.stderr.read()!r}")
        buffer += chunk
    return buffer.decode().splitlines()[:count]


def _state(pid: int) -> tuple[str, int, int] | None:
    """A process's state letter, parent and start time, from ``/proc``; ``None`` if it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1]), int(fields[19])


def _alive(pid: int, started: int | None) -> bool:
    """Whether the process ``pid`` started at ``started`` (any, if ``None``) still runs: a process that has
    exited but was not reaped yet (a zombie, left to its new parent) has stopped."""
    state = _state(pid)
    return state is not None and state[0] not in "ZX" and started in (None, state[2])


def test_a_build_writes_the_html_while_the_printer_lays_out_the_pdf(
        printer: Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The PDF's job is handed to the printer first, the HTML written meanwhile, and the EPUB once the PDF
    is done (for its page map): the bytes of a build with no printer."""
    from briefpress.build import build
    from briefpress.editions import epub, html

    events: list[str] = []
    for module, name in ((html, "html"), (epub, "epub")):
        def spy(inp, real=module.write, name=name):
            events.append(name)
            return real(inp)
        monkeypatch.setattr(module, "write", spy)
    receive = Printer._receive

    def received(self, diags):
        events.append("pdf received")
        return receive(self, diags)
    monkeypatch.setattr(Printer, "_receive", received)
    build(BRIEF, ("pdf", "epub", "html"), tmp_path / "printed", Diagnostics(), typesetter=printer)
    assert events == ["html", "pdf received", "epub"]
    build(BRIEF, ("pdf", "epub", "html"), tmp_path / "here", Diagnostics())
    for suffix in (".pdf", ".epub", ".html"):
        name = f"{BRIEF.name}{suffix}"
        made = sorted((tmp_path / "printed").glob(f"*{suffix}"))
        assert made and made[0].read_bytes() == next((tmp_path / "here").glob(f"*{suffix}")).read_bytes(), name
