"""Hostile and huge input: each build runs in a child process with a memory limit and a generous time bound,
so that a regression fails the test instead of eating the machine, and must end with one clear
'path:line: error:' report."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_errors import BRIEF_YAML, DETAILS_MD, assert_clean_report, write_brief

#: Address space a hostile build may use: a build of the tiny brief needs under 300 MB.
MEMORY = 600 * 2**20
#: Far more than any of these builds takes once fixed (about a second): it only catches a hang.
HANG = 60


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def build(tmp_path: Path, *args: str, brief: str = "brief") -> subprocess.CompletedProcess:
    """Build the brief in ``tmp_path`` (HTML by default) in a child process with bounded memory."""
    argv = [sys.executable, "-m", "briefpress", "build", brief, "--out", "out", *(args or ("--format", "html"))]
    return subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=HANG, preexec_fn=_limited)


def assert_refused(result: subprocess.CompletedProcess, *expected: str) -> None:
    """The build failed with exit 1, a clean report, and a line starting with each of ``expected``."""
    assert result.returncode == 1, result.stderr
    assert_clean_report(result.stderr)
    lines = result.stderr.splitlines()
    for start in expected:
        assert [line for line in lines if line.startswith(start)], f"no line starts with {start!r}:\n{result.stderr}"


def alias_bomb(levels: int) -> str:
    """A small YAML text whose aliases, expanded, hold 9**levels values."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("where", ["data", "brief.yaml", "front matter"])
def test_yaml_aliases_are_refused_at_once(where: str, tmp_path: Path) -> None:
    """Nine levels of nine aliases took about a minute of processor time to check: an alias is refused at
    its line, wherever the YAML is."""
    bomb = alias_bomb(9)
    if where == "data":
        files, expected = {"data/bomb.yaml": bomb}, "brief/data/bomb.yaml:2: error: invalid YAML: alias '*a0'"
    elif where == "brief.yaml":
        files, expected = {"brief.yaml": BRIEF_YAML + bomb}, "brief/brief.yaml:9: error: invalid YAML: alias '*a0'"
    else:
        nested = "".join(f"  {line}\n" for line in bomb.splitlines())
        files = {"sections/02-details.md": DETAILS_MD.replace("id: details\n", f"id: details\nx:\n{nested}")}
        expected = "brief/sections/02-details.md:6: error: invalid YAML: alias '*a0'"
    write_brief(tmp_path, files)
    assert_refused(build(tmp_path), expected)
