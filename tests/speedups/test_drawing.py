"""A long brief's parts drawn in forked processes while the next part is laid out
(``briefpress.speedups.drawing``)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from briefpress.editions.typeset import InProcess, PrintJob
from briefpress.errors import Diagnostics
from briefpress.speedups.drawing import typeset_fast
from briefpress.speedups.printer import Printer


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The processes this process forks from now on (the fork itself unchanged)."""
    forked: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return forked


@pytest.fixture
def private_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder as ``tempfile``'s default, as TMPDIR would make it."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_parts_drawn_in_forked_processes_give_the_bytes_drawn_here(
        brief_in_parts: PrintJob, reaped: None, forks: list[int], private_tmpdir: Path, tmp_path: Path) -> None:
    forked_diags, here_diags = Diagnostics(), Diagnostics()
    forked = typeset_fast(brief_in_parts, tmp_path / "forked.pdf", forked_diags)
    assert len(forks) == len(brief_in_parts.parts) - 1, "each run of sections drawn in a process of its own"
    here = InProcess().typeset(brief_in_parts, tmp_path / "here.pdf", here_diags)

    assert (tmp_path / "forked.pdf").read_bytes() == (tmp_path / "here.pdf").read_bytes()
    assert forked == here and len(forked.starts) > 1
    assert forked_diags.items == here_diags.items
    assert sorted(private_tmpdir.iterdir()) == [], "the parts' files were removed"
    # The reaped fixture checks that no drawing process is left.


def test_a_layout_only_forks_nothing(brief_in_parts: PrintJob, reaped: None, forks: list[int]) -> None:
    # The EPUB's page list needs the page starts only: nothing is drawn.
    assert typeset_fast(brief_in_parts, None, Diagnostics()) == InProcess().typeset(brief_in_parts, None,
                                                                                      Diagnostics())
    assert forks == []


def test_a_failure_in_a_drawing_process_is_one_line_with_its_cause(
        brief_in_parts: PrintJob, reaped: None, forks: list[int], private_tmpdir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)  # else the date below is not read
    broken = replace(brief_in_parts, modified=None)  # laid out, but cannot be drawn
    with pytest.raises(Exception) as in_process:
        InProcess().typeset(broken, tmp_path / "here.pdf", Diagnostics())

    with pytest.raises(RuntimeError) as raised:
        typeset_fast(broken, tmp_path / "forked.pdf", Diagnostics())
    cause = f"{type(in_process.value).__name__}: {in_process.value}"
    assert str(raised.value) == f"drawing part of the PDF failed: {cause}"
    notes = "\n".join(getattr(raised.value, "__notes__", []))
    assert notes.startswith("Traceback (most recent call last):") and notes.rstrip().endswith(cause)
    assert forks, "the failure came from a drawing process"
    assert not (tmp_path / "forked.pdf").exists()
    assert sorted(private_tmpdir.iterdir()) == []


def test_the_printer_draws_a_brief_in_parts_as_here(
        brief_in_parts: PrintJob, printer: Printer, tmp_path: Path) -> None:
    printed = printer.typeset(brief_in_parts, tmp_path / "printed.pdf", Diagnostics())
    here = InProcess().typeset(brief_in_parts, tmp_path / "here.pdf", Diagnostics())
    assert (tmp_path / "printed.pdf").read_bytes() == (tmp_path / "here.pdf").read_bytes()
    assert printed == here
