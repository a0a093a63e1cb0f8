"""The print edition laid out section by section: the bytes of the brief laid out whole, and, kept warm
between builds (``watch``), only the sections an edit changed laid out again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from briefpress.build import prepare
from briefpress.editions import pdf, sectioned
from briefpress.editions.typeset import InProcess, PrintJob, Warm
from briefpress.errors import Diagnostics
from tools.checks import png
from tools.paths import BRIEF, ROOT


def _job(brief: Path) -> PrintJob:
    return pdf.print_job(prepare(brief, Diagnostics()))


def _bytes(typesetter, job: PrintJob, path: Path) -> bytes:
    typesetter.typeset(job, path, Diagnostics())
    return path.read_bytes()


@pytest.fixture
def laid(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first words of every document laid out, in order."""
    calls: list[str] = []
    real = sectioned.laid_out

    def spy(session, source, *args, **kwargs):
        calls.append(source)
        return real(session, source, *args, **kwargs)

    monkeypatch.setattr(sectioned, "laid_out", spy)
    return calls


def test_sections_laid_out_apart_give_the_bytes_of_the_brief_laid_out_whole(tmp_path: Path) -> None:
    """The job's sections, and the same job with none (so laid out whole, as one document)."""
    job = _job(BRIEF)
    assert len(job.sections) > 3 and job.front
    whole = _bytes(InProcess(), PrintJob(**{**job.__dict__, "sections": (), "front": "", "fonts": ""}),
                   tmp_path / "whole.pdf")
    assert _bytes(InProcess(), job, tmp_path / "sectioned.pdf") == whole


def test_a_warm_typesetter_lays_out_again_only_the_section_an_edit_changed(
        tmp_path: Path, laid: list[str]) -> None:
    brief = tmp_path / "brief"
    shutil.copytree(BRIEF, brief)
    first = _job(brief)
    warm = Warm()
    assert _bytes(warm, first, tmp_path / "w1.pdf") == _bytes(InProcess(), first, tmp_path / "c1.pdf")
    section = sorted((brief / "sections").glob("*.md"))[1]
    text = section.read_text(encoding="utf-8")
    section.write_text(text.replace("\n\n", "\n\nA paragraph added by an edit.\n\n", 1), encoding="utf-8")
    edited = _job(brief)
    del laid[:]
    assert _bytes(warm, edited, tmp_path / "w2.pdf") == _bytes(InProcess(), edited, tmp_path / "c2.pdf")
    warm_calls = laid[:len(laid) - (1 + len(edited.sections))]  # the cold build's come after
    changed = [s for s, was in zip(edited.sections, first.sections) if s.source != was.source]
    assert len(changed) == 1
    assert 1 <= len(warm_calls) <= 2, "the edited section, and the contents only if a page number changed"
    assert "A paragraph added by an edit." in warm_calls[0]
    section.write_text(text, encoding="utf-8")
    assert _bytes(warm, _job(brief), tmp_path / "w3.pdf") == (tmp_path / "w1.pdf").read_bytes()


def test_a_warm_typesetter_starts_again_when_a_stylesheet_changes(tmp_path: Path) -> None:
    brief = tmp_path / "brief"
    shutil.copytree(ROOT / "tests" / "briefs" / "own-design", brief)
    warm = Warm()
    _bytes(warm, _job(brief), tmp_path / "w1.pdf")
    session = warm.session
    with (brief / "styles" / "print.css").open("a", encoding="utf-8") as css:
        css.write("\n.section-title { color: #7a1f1f; }\n")
    job = _job(brief)
    assert _bytes(warm, job, tmp_path / "w2.pdf") == _bytes(InProcess(), job, tmp_path / "c2.pdf")
    assert warm.session is not session


def test_a_warm_typesetter_lays_out_again_a_section_whose_image_was_replaced(tmp_path: Path) -> None:
    """The section's HTML is the same, but a file its layout read is not: its kept layout is not used."""
    brief = tmp_path / "brief"
    shutil.copytree(ROOT / "tests" / "briefs" / "minimal", brief)
    warm = Warm()
    first = _bytes(warm, _job(brief), tmp_path / "w1.pdf")
    (brief / "images" / "square.png").write_bytes(png(40, 10, (200, 30, 30)))
    job = _job(brief)
    assert _bytes(warm, job, tmp_path / "w2.pdf") == _bytes(InProcess(), job, tmp_path / "c2.pdf") != first
