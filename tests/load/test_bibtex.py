"""A ``.bib`` file's entries are found as pandoc finds them (pandoc is the oracle, and formats them itself)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from briefpress import bibtex
from tools.paths import BRIEF

pypandoc = pytest.importorskip("pypandoc", reason="pandoc (PyPI pypandoc-binary) is the oracle")
DATA = Path(__file__).parents[1] / "data" / "references"
BIBS = [BRIEF / "references.bib", DATA / "sample.bib", *sorted((DATA / "real").glob("*.bib"))]


@pytest.mark.parametrize("bib", BIBS, ids=[p.stem for p in BIBS])
def test_entries_found_as_pandoc_finds_them(bib: Path) -> None:
    out = subprocess.run([pypandoc.get_pandoc_path(), "-f", "biblatex", "-t", "csljson", str(bib)],
                         capture_output=True, text=True, check=True).stdout
    theirs = [item["id"] for item in json.loads(out)]
    entries, problems = bibtex.read(bib.read_text(encoding="utf-8"))
    assert problems == []
    assert [entry.key for entry in entries] == theirs


def test_a_malformed_entry_is_reported_at_its_line() -> None:
    text = "@book{good, title = {Fine}, year = 2020}\n\n@article{bad,\n  title = {Never closed\n"
    entries, problems = bibtex.read(text)
    assert [e.key for e in entries] == ["good"]
    assert [p.line for p in problems] == [3]


def test_an_entry_cut_off_at_the_end_says_so_at_its_line_and_the_parser_prints_nothing(
        capfd: pytest.CaptureFixture[str]) -> None:
    """The parser's own account went to the terminal, and the problem said only 'malformed entry'."""
    text = "@book{good, title = {Fine}, year = 2020}\n\n@article{bad,\n  title = {Never closed\n"
    _entries, problems = bibtex.read(text)
    assert problems == [bibtex.BibProblem(3, "entry '@article{bad' is not closed")]
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("macro", ["input", "include"])
def test_input_and_include_in_a_field_read_nothing_and_print_nothing(
        macro: str, capfd: pytest.CaptureFixture[str]) -> None:
    """``\\input{...}`` in a field raised IndexError inside pylatexenc, after a stray line of its own."""
    text = (f"@book{{a, title = {{See \\{macro}{{/etc/hostname}} here}}, year = 2020}}\n"
            f"@book{{b, title = {{{{Braced \\{macro}{{/etc/hostname}}}}}}, note = {{End \\{macro}}}}}\n")
    entries, problems = bibtex.read(text)
    assert problems == []
    assert [(e.key, e.line) for e in entries] == [("a", 1), ("b", 2)]
    assert capfd.readouterr() == ("", "")


def test_a_field_nested_too_deeply_is_a_problem_at_its_entry() -> None:
    """5,000 levels of braces raised RecursionError; the entry is refused at its line, the others kept."""
    deep = "{" * 5000 + "x" + "}" * 5000
    text = f"@book{{good, title = {{Fine}}}}\n\n@book{{deep,\n  title = {deep}}}\n"
    entries, problems = bibtex.read(text)
    assert [e.key for e in entries] == ["good"]
    assert problems == [bibtex.BibProblem(
        3, "field 'title' of entry 'deep' nested too deeply (more than 100 levels of braces)")]
