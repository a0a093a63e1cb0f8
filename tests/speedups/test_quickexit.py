"""The quick exit (``speedups.quickexit``): once the command has returned, the process ends with its status,
everything it said, and every ``atexit`` function run, but without Python's teardown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.paths import BRIEF

# A process that keeps an object whose finaliser speaks at the teardown, arms the quick exit, registers an
# ``atexit`` function after it, leaves output unflushed, and ends with status 3: through ``done`` or not.
SCRIPT = """
import atexit, sys
class Torn:
    def __del__(self):
        sys.stderr.write("torn down\\n")
kept = Torn()
from briefpress.speedups import quickexit
quickexit.arm()
atexit.register(lambda: print("a later atexit function ran"))
print("said before", end="")
sys.exit(quickexit.done(3) if sys.argv[1] == "done" else 3)
"""


@pytest.mark.parametrize("how", ["done", "raised"])
def test_the_teardown_is_skipped_only_once_the_command_returned(how: str) -> None:
    run = subprocess.run([sys.executable, "-c", SCRIPT, how], capture_output=True, text=True, timeout=60)
    assert run.returncode == 3
    assert run.stdout == "said beforea later atexit function ran\n"
    assert ("torn down" in run.stderr) == (how != "done"), run.stderr


def _program(out: Path, *args: str, exit_on: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "BRIEFPRESS_SPEEDUPS"}
    if not exit_on:
        env["BRIEFPRESS_SPEEDUPS"] = "no-exit"
    env["BRIEFPRESS_SERVER"] = "off"
    return subprocess.run([sys.executable, "-m", "briefpress", *args, "--out", str(out)], capture_output=True,
                          text=True, env=env, timeout=300)


def test_the_program_ends_as_it_would_with_its_teardown(tmp_path: Path) -> None:
    """A build and a broken build, through ``python -m briefpress``: the same status, the same words and the
    same bytes with the quick exit as without it."""
    broken = tmp_path / "broken"
    (broken / "sections").mkdir(parents=True)
    (broken / "brief.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    runs = {}
    for exit_on in (True, False):
        label = "quick" if exit_on else "torn"
        good = _program(tmp_path / label, "build", str(BRIEF), "--format", "html", exit_on=exit_on)
        bad = _program(tmp_path / f"{label}-broken", "build", str(broken), exit_on=exit_on)
        page = next((tmp_path / label).glob("*.html")).read_bytes()
        runs[label] = (good.returncode, good.stdout, good.stderr, page, bad.returncode, bad.stdout, bad.stderr)
    quick, torn = runs["quick"], runs["torn"]
    assert quick[0] == 0 and quick[4] == 1
    assert "brief.yaml:1: error:" in quick[6]
    # The report line: the page's path (in each run's own folder), its sections and size, then the build's
    # time, which differs between two builds.
    assert quick[1].split()[0].endswith("quick/kazakhstan-2022-early-election.html"), quick[1]
    assert quick[1].endswith(" s\n") and quick[1].split()[1:-2] == torn[1].split()[1:-2]
    assert quick[0] == torn[0] and quick[2:] == torn[2:]
