"""pandoc's runs (``render.pandoc``): each has its input from the start, so that runs started together work
side by side, and what pandoc says of a failure names no file of the build's own."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from briefpress.render import pandoc


def test_a_run_has_its_input_before_it_is_read(tmp_path: Path) -> None:
    """Started, a run formats its text and ends on its own, before ``finish`` is called: two runs started
    one after the other then work at once, where a run given its input only by ``finish`` waits for it."""
    first = pandoc.run(["-f", "markdown", "-t", "json"], "*one*", str(tmp_path))
    second = pandoc.run(["-f", "markdown", "-t", "json"], "**two**", str(tmp_path))
    assert second.wait(timeout=30) == 0 and first.wait(timeout=30) == 0
    assert pandoc.finish(second, [])["blocks"][0]["c"][0]["t"] == "Strong"
    assert pandoc.finish(first, [])["blocks"][0]["c"][0]["t"] == "Emph"


def test_a_failure_names_no_file_of_the_build(tmp_path: Path) -> None:
    broken = "@book{a,\n  title = {x\n"
    process = pandoc.run(["-f", "biblatex", "-t", "csljson"], broken, str(tmp_path))
    with pytest.raises(pandoc.EngineError) as caught:
        pandoc.finish(process, [])
    message = str(caught.value)
    assert "input-" not in message and ".txt" not in message, message
    # pandoc's own words for the same text read from its standard input, which has no name
    piped = subprocess.run([str(pandoc.pandoc_path()), "-f", "biblatex", "-t", "csljson"], input=broken.encode(),
                           capture_output=True, timeout=60)
    assert piped.returncode != 0 and message == " ".join(piped.stderr.decode().split()), message
    assert message.startswith("Error at (line 4, column 1)"), message
