"""pandoc's runs (``render.pandoc``): each has its input from the start, so that runs started together work
side by side; what pandoc says of a failure names no file of the build's own; and a stop, whenever it comes,
leaves no run behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from briefpress import exits
from briefpress.render import pandoc
from tools.processes import children_named


def test_a_run_has_its_input_before_it_is_read(tmp_path: Path) -> None:
    """Started, a run formats its text and ends on its own, before ``finish`` is called: two runs started
    one after the other then work at once, where a run given its input only by ``finish`` waits for it."""
    with pandoc.Runs(str(tmp_path)) as started:
        first = started.start(["-f", "markdown", "-t", "json"], "*one*")
        second = started.start(["-f", "markdown", "-t", "json"], "**two**")
        assert second.wait(timeout=30) == 0 and first.wait(timeout=30) == 0
        assert pandoc.finish(second, [])["blocks"][0]["c"][0]["t"] == "Strong"
        assert pandoc.finish(first, [])["blocks"][0]["c"][0]["t"] == "Emph"


def test_a_failure_names_no_file_of_the_build(tmp_path: Path) -> None:
    broken = "@book{a,\n  title = {x\n"
    with pandoc.Runs(str(tmp_path)) as started, pytest.raises(pandoc.EngineError) as caught:
        pandoc.finish(started.start(["-f", "biblatex", "-t", "csljson"], broken), [])
    message = str(caught.value)
    assert "input-" not in message and ".txt" not in message, message
    # pandoc's own words for the same text read from its standard input, which has no name
    piped = subprocess.run([str(pandoc.pandoc_path()), "-f", "biblatex", "-t", "csljson"], input=broken.encode(),
                           capture_output=True, timeout=60)
    assert piped.returncode != 0 and message == " ".join(piped.stderr.decode().split()), message
    assert message.startswith("Error at (line 4, column 1)"), message


def _our_pandocs() -> list[int]:
    """The pandoc processes whose parent is this one, running or ended but not yet reaped."""
    return children_named("pandoc", os.getpid())


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the processes from /proc")
def test_a_stop_that_comes_as_pandoc_starts_leaves_no_run_behind(tmp_path: Path) -> None:
    """SIGTERM sent the moment pandoc has started (its program running), before ``subprocess.Popen`` has
    returned it: the stop is raised once the run is recorded, and the run is killed and reaped on leaving.
    Raised inside ``Popen``, it would lose the run, left on until this process ended."""
    assert not _our_pandocs()

    def started_child(frame, event, arg):  # noqa: ANN001, ANN202 (a trace function)
        if event == "call" and frame.f_code.co_name == "_execute_child":
            def on_return(frame, event, arg):  # noqa: ANN001, ANN202
                if event == "return":
                    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
                return on_return
            return on_return
        return None

    with exits.orderly_stop(), pytest.raises(exits.Stopped):
        with pandoc.Runs(str(tmp_path)) as started:
            sys.settrace(started_child)
            try:
                started.start(["-f", "markdown", "-t", "json"], "*one*")
            finally:
                sys.settrace(None)
            pytest.fail("the stop was not raised")
    assert not _our_pandocs()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the processes from /proc")
def test_pandoc_takes_the_stopping_signals_the_build_held_back_while_starting_it(tmp_path: Path) -> None:
    with pandoc.Runs(str(tmp_path)) as started:
        process = started.start(["-f", "markdown", "-t", "json"], "*one*" * 2_000_000)
        blocked = next(line for line in Path(f"/proc/{process.pid}/status").read_text().splitlines()
                       if line.startswith("SigBlk:"))
        mask = int(blocked.split()[1], 16)
        assert not mask & (1 << (signal.SIGTERM - 1)) and not mask & (1 << (signal.SIGINT - 1)), blocked
