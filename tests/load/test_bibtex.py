"""A ``.bib`` file reads as pandoc reads it: the same CSL-JSON item for every entry (pandoc is the oracle)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from briefpress import bibtex
from tools.paths import BRIEF

pypandoc = pytest.importorskip("pypandoc", reason="pandoc (PyPI pypandoc-binary) is the oracle")
DATA = Path(__file__).parents[1] / "data" / "references"


@pytest.mark.parametrize("bib", [BRIEF / "references.bib", DATA / "sample.bib"], ids=["brief", "sample"])
def test_entries_read_as_pandoc_reads_them(bib: Path) -> None:
    out = subprocess.run([pypandoc.get_pandoc_path(), "-f", "biblatex", "-t", "csljson", str(bib)],
                         capture_output=True, text=True, check=True).stdout
    theirs = {item["id"]: item for item in json.loads(out)}
    entries, problems = bibtex.read(bib.read_text(encoding="utf-8"))
    assert problems == []
    ours = {entry.key: entry.item for entry in entries}
    assert list(ours) == list(theirs)
    assert {k: v for k, v in ours.items() if v != theirs[k]} == {}


def test_a_malformed_entry_is_reported_at_its_line() -> None:
    text = "@book{good, title = {Fine}, year = 2020}\n\n@article{bad,\n  title = {Never closed\n"
    entries, problems = bibtex.read(text)
    assert [e.key for e in entries] == ["good"]
    assert [p.line for p in problems] == [3]
