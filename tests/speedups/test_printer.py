"""The printer process that imports WeasyPrint while a build renders the brief (``briefpress.printer``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import briefpress.workers
from briefpress.build import prepare
from briefpress.errors import Diagnostics
from briefpress.pages import starts_of
from briefpress.pdf import print_job
from briefpress.printer import Printer
from briefpress.typeset import draw, typeset
from conftest import BRIEF, child_processes


@pytest.fixture
def printer(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(briefpress.workers, "WORKERS", 2)
    before = child_processes()
    started = Printer.start()
    assert started is not None
    yield started
    started.close()
    assert child_processes() == before, "the printer was not reaped"


def test_printer_gives_the_bytes_the_build_would(printer: Printer, tmp_path: Path) -> None:
    rendered = prepare(BRIEF, Diagnostics())
    job = print_job(rendered)
    diags = Diagnostics()
    pages, starts = printer.print(job, tmp_path / "printed.pdf", diags)

    laid_out = typeset(job, Diagnostics())
    draw(laid_out, tmp_path / "here.pdf", Diagnostics())
    assert (tmp_path / "printed.pdf").read_bytes() == (tmp_path / "here.pdf").read_bytes()
    assert pages == len(laid_out.document.pages) and starts == starts_of(laid_out)
    assert not diags.items


def test_a_failure_in_the_printer_is_reported_with_its_cause(printer: Printer, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"typesetting the PDF failed:(.|\n)*AttributeError") as raised:
        printer.print("not a print job", tmp_path / "x.pdf", Diagnostics())
    # One line for the command line's message; the printer's traceback only in a note, which --debug shows.
    assert "\n" not in str(raised.value) and "Traceback" in "".join(raised.value.__notes__)


def test_a_printer_that_cannot_import_weasyprint_says_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import briefpress.typeset

    def missing() -> None:
        raise OSError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(briefpress.typeset, "import_weasyprint", missing)  # as the forked printer will find it
    monkeypatch.setattr(briefpress.workers, "WORKERS", 2)
    printer = Printer.start()
    assert printer is not None
    with pytest.raises(RuntimeError, match=r"typesetting the PDF failed:(.|\n)*cannot load library 'libpango"):
        printer.print(print_job(prepare(BRIEF, Diagnostics())), tmp_path / "x.pdf", Diagnostics())


def test_a_printer_never_sent_a_job_stops(printer: Printer) -> None:
    printer.close()  # as a build does when the brief turns out broken; the fixture checks it was reaped


def _cli(out: Path, workers: str, brief: Path, fmt: str = "pdf", temp: Path | None = None) -> subprocess.CompletedProcess:
    # A fresh process, as the command line runs: only there is WeasyPrint not yet imported.
    code = ("import sys; from briefpress.cli import main; status = main(sys.argv[1:]); "
            "print('weasyprint imported by the build:', 'weasyprint' in sys.modules); sys.exit(status)")
    env = {**os.environ, "BRIEFPRESS_WORKERS": workers, **({"TMPDIR": str(temp)} if temp else {})}
    return subprocess.run([sys.executable, "-c", code, "build", str(brief), "--format", fmt, "--out", str(out)],
                          capture_output=True, text=True, env=env)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_build_leaves_no_temporary_files(tmp_path: Path, workers: str) -> None:
    """WeasyPrint copies the fonts of each document it lays out into a temporary folder (1.8 MB), which it
    removes only when it is garbage-collected: every layout of a build, in whichever process, must remove it."""
    temp = tmp_path / "temp"
    temp.mkdir()
    run = _cli(tmp_path / "out", workers, BRIEF, "all", temp=temp)
    assert run.returncode == 0, run.stderr
    assert list(temp.iterdir()) == []


@pytest.mark.parametrize("fmt", ["pdf", "epub"])
def test_command_line_typesets_through_the_printer(tmp_path: Path, fmt: str) -> None:
    # An EPUB into a new output folder needs the layout for its page list: the printer makes that too.
    printed = _cli(tmp_path / "printed", "2", BRIEF, fmt)
    here = _cli(tmp_path / "here", "1", BRIEF, fmt)
    assert printed.returncode == here.returncode == 0, printed.stderr + here.stderr
    assert "weasyprint imported by the build: False" in printed.stdout  # the printer did the typesetting
    assert "weasyprint imported by the build: True" in here.stdout  # one processor: no printer
    [a], [b] = (tmp_path / "printed").glob(f"*.{fmt}"), (tmp_path / "here").glob(f"*.{fmt}")
    assert a.read_bytes() == b.read_bytes()
    if fmt == "epub":  # built again with the page map kept: no layout, so no printer and no WeasyPrint
        again = _cli(tmp_path / "printed", "2", BRIEF, fmt)
        assert "weasyprint imported by the build: False" in again.stdout
        assert a.read_bytes() == b.read_bytes()


def test_command_line_with_a_broken_brief_stops_the_printer(tmp_path: Path) -> None:
    broken = tmp_path / "brief"
    broken.mkdir()
    (broken / "brief.yaml").write_text("title: Broken\nlang: en\nsections: [missing.md]\n", encoding="utf-8")
    result = _cli(tmp_path / "out", "2", broken)
    assert result.returncode == 1
    assert "brief.yaml:3: error:" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


FALLBACK = """
import ctypes.util
import cffi.api

real_dlopen = cffi.api.FFI.dlopen
refused = []

def dlopen(self, name, flags=0):
    if ctypes.util.find_library("c") is None:  # the library search is off: act as if no soname loaded
        refused.append(name)
        raise OSError(f"cannot load library {name!r}")
    return real_dlopen(self, name, flags)

cffi.api.FFI.dlopen = dlopen
from briefpress.typeset import import_weasyprint

weasyprint = import_weasyprint()
assert refused, "the import without the library search was not tried first"
assert ctypes.util.find_library("c") is not None, "the library search was not switched back on"
print(weasyprint.HTML(string="<p>Astana</p>").write_pdf()[:5].decode())
"""


def test_weasyprint_is_imported_the_ordinary_way_where_sonames_do_not_load() -> None:
    run = subprocess.run([sys.executable, "-c", FALLBACK], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "%PDF-"
