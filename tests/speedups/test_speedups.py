"""The speed-ups as a whole (``briefpress.speedups``): the same bytes with them as without them."""

from __future__ import annotations

from pathlib import Path

from briefpress.build import build
from briefpress.errors import Diagnostics
from briefpress.model import FORMATS
from tools.paths import BRIEF


def test_the_same_editions_with_and_without_the_speedups(tmp_path: Path, run_cli) -> None:
    """Every edition, built by the command line with the speed-ups off and on, and by a library call (which
    uses none of them), is the same file to the byte."""
    for on in (False, True):
        run = run_cli("build", str(BRIEF), "--out", str(tmp_path / f"cli-{'on' if on else 'off'}"), on=on)
        assert run.returncode == 0, run.stderr
    diags = Diagnostics()
    outputs = build(BRIEF, FORMATS, tmp_path / "library", diags)
    assert sorted(output.fmt for output in outputs) == sorted(FORMATS)

    names = {output.path.name for output in outputs}
    assert len(names) == len(FORMATS)
    for name in sorted(names):
        off, on, library = ((tmp_path / folder / name).read_bytes() for folder in ("cli-off", "cli-on", "library"))
        assert on == off, f"{name}: the speed-ups changed the bytes"
        assert library == off, f"{name}: the library call gave other bytes than the command line"
    for folder in ("cli-off", "cli-on"):
        assert {path.name for path in (tmp_path / folder).iterdir() if path.is_file()} == names
