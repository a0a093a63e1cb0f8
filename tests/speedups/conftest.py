"""Fixtures of the speed-ups' tests: the real brief's print job, whole or in parts, a check that no child
process is left behind, a printer, and builds of the real brief by the command line in a new process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

from briefpress.build import prepare
from briefpress.editions import pdf
from briefpress.editions.pdf import print_job
from briefpress.editions.typeset import PrintJob
from briefpress.errors import Diagnostics
from briefpress.speedups.printer import Printer
from tools.paths import BRIEF

#: The command line as installed in the virtual environment beside this interpreter.
BRIEFPRESS = Path(sys.executable).parent / "briefpress"


@pytest.fixture(scope="session")
def brief_job() -> PrintJob:
    """The real brief's print job, as ``editions.pdf`` hands it to a typesetter."""
    diags = Diagnostics()
    job = print_job(prepare(BRIEF, diags))
    assert not diags.items, [d.format() for d in diags.items]
    return job


#: Thresholds that have the real brief (some 25,000 characters of sections) laid out in parts, as a brief
#: of over 90,000 characters is, in three runs of sections after the front.
SMALL_PARTS = 10_000


@pytest.fixture
def brief_in_parts(monkeypatch: pytest.MonkeyPatch) -> PrintJob:
    """The real brief's print job, laid out in parts as a long brief's is."""
    monkeypatch.setattr(pdf, "WHOLE_CHARS", SMALL_PARTS)
    monkeypatch.setattr(pdf, "PART_CHARS", SMALL_PARTS)
    diags = Diagnostics()
    job = print_job(prepare(BRIEF, diags))
    assert not diags.items, [d.format() for d in diags.items]
    front, *runs = job.parts
    assert len(runs) >= 2 and 'id="contents"' in front.source and not any('id="contents"' in run.source
                                                                         for run in runs), \
        "the front (cover and contents) and at least two runs of sections"
    return job


@pytest.fixture
def reaped(child_processes: Callable[[], set[int]]) -> Iterator[None]:
    """Check, after the test, that it left no child process behind, running or unreaped."""
    before = child_processes()
    yield
    assert child_processes() == before, "a printer was left behind (running, or exited and not reaped)"


@pytest.fixture
def printer(reaped: None) -> Iterator[Printer]:
    """A printer forked from this process, closed after the test (a no-op if the test ended it)."""
    started = Printer.start()
    yield started
    started.close()


# Runs the program (``cli.entry``, with every speed-up it arms, the quick exit among them) and then, as its
# command returns, says whether the build's own process imported WeasyPrint.
REPORTING = ("import sys; from briefpress import cli; run = cli.main\n"
             "def main(*args):\n"
             "    status = run(*args)\n"
             "    print('weasyprint imported by the build:', 'weasyprint' in sys.modules)\n"
             "    return status\n"
             "cli.main = main; sys.exit(cli.entry())")
# The same, with the brief laid out in parts (see ``brief_in_parts``).
IN_PARTS = (f"import briefpress.editions.pdf as pdf; pdf.WHOLE_CHARS = pdf.PART_CHARS = {SMALL_PARTS}; "
            + REPORTING)


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess]:
    """Run ``briefpress ARGS...`` in a new process, with the speed-ups on (whatever this process's setting)
    or off, and ``env`` added to the environment. With ``reporting``, the command line is run through
    ``python -c`` and its last line of output says whether the build's process imported WeasyPrint; with
    ``in_parts`` too, the brief is laid out in parts. The timeout only guards against a hang."""

    def run(*args: str, on: bool, reporting: bool = False, in_parts: bool = False,
            **env: str) -> subprocess.CompletedProcess:
        environment = {key: value for key, value in os.environ.items() if key != "BRIEFPRESS_SPEEDUPS"}
        if not on:
            environment["BRIEFPRESS_SPEEDUPS"] = "off"
        if in_parts:
            command = [sys.executable, "-c", IN_PARTS]
        else:
            command = [sys.executable, "-c", REPORTING] if reporting else [str(BRIEFPRESS)]
        return subprocess.run([*command, *args], capture_output=True, text=True,
                              env={**environment, **env}, timeout=600)

    return run
