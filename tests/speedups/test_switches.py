"""Each speed-up can be turned off on its own (``BRIEFPRESS_SPEEDUPS=no-NAME``), and none changes a byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefpress.speedups.switches import NAMES, on
from tools.paths import BRIEF


@pytest.mark.parametrize("value,expected", [
    ("", {name: True for name in NAMES}),
    ("off", {name: False for name in NAMES}),
    (" OFF ", {name: False for name in NAMES}),
    ("no-printer", {name: name != "printer" for name in NAMES}),
    ("no-gc, no-drawing", {name: name not in ("gc", "drawing") for name in NAMES}),
    ("printer", {name: True for name in NAMES}),  # only ``no-`` turns one off
])
def test_the_variable_turns_off_what_it_names(monkeypatch: pytest.MonkeyPatch, value: str,
                                              expected: dict[str, bool]) -> None:
    monkeypatch.setenv("BRIEFPRESS_SPEEDUPS", value)
    assert {name: on(name) for name in NAMES} == expected


@pytest.mark.parametrize("name", NAMES)
def test_each_speedup_off_gives_the_same_pdf(tmp_path: Path, run_cli, name: str) -> None:
    """The brief's PDF with all speed-ups on, and with each turned off in turn (for drawing, which serves
    only a brief in parts, the brief laid out in parts). The report line says whether the printer was used."""
    built = {}
    for label, env in (("all", {}), (name, {"BRIEFPRESS_SPEEDUPS": f"no-{name}"})):
        run = run_cli("build", str(BRIEF), "--format", "pdf", "--out", str(tmp_path / label), on=True,
                      reporting=True, in_parts=name == "drawing", **env)
        assert run.returncode == 0, run.stderr
        built[label] = (next((tmp_path / label).glob("*.pdf")).read_bytes(), run.stdout.strip().splitlines()[-1])
    assert built[name][0] == built["all"][0]
    in_build = "weasyprint imported by the build: True"
    assert (built[name][1] == in_build) == (name == "printer"), built[name][1]
