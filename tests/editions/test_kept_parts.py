"""A long brief's parts kept in the output folder's cache (``editions/keptparts.py``): after an edit, only the
parts it changed are laid out again, and the PDF is the one a cold build of the edited brief makes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import briefpress.editions.pdf as pdf
from briefpress.build import build
from briefpress.cache import CACHE_FOLDER
from briefpress.editions import keptparts
from briefpress.errors import Diagnostics
from tools.paths import BRIEF


@pytest.fixture
def long_brief(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the real brief, laid out as a long one is: the front and three runs of sections."""
    monkeypatch.setattr(pdf, "WHOLE_CHARS", 1_000)
    monkeypatch.setattr(pdf, "PART_CHARS", 9_000)
    brief = tmp_path / "brief"
    shutil.copytree(BRIEF, brief, ignore=shutil.ignore_patterns("__pycache__"))
    return brief


def _pdf(brief: Path, out: Path) -> bytes:
    diags = Diagnostics()
    [output] = build(brief, ("pdf",), out, diags)
    assert not [d for d in diags.items if d.severity == "error"]
    return output.path.read_bytes()


def _parts(out: Path) -> dict[str, bytes]:
    folder = out / CACHE_FOLDER / keptparts.KIND
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.is_dir() else {}


def _edit(brief: Path, old: str, new: str) -> None:
    """Change one word of the sections' text (the first section holding ``old``)."""
    for section in sorted((brief / "sections").glob("*.md")):
        text = section.read_text(encoding="utf-8")
        if old in text:
            section.write_text(text.replace(old, new, 1), encoding="utf-8")
            return
    raise AssertionError(f"no section holds {old!r}")


def _laid_out(out: Path, before: dict[str, bytes]) -> int:
    """How many parts the last build laid out: the entries it added or wrote again (a part laid out again
    under the same key, since a file it read changed)."""
    return sum(before.get(name) != content for name, content in _parts(out).items())


def test_an_edit_lays_out_only_its_part_and_gives_the_cold_bytes(long_brief: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    first = _pdf(long_brief, out)
    kept = _parts(out)
    assert len(kept) >= 4, "the front's PDF, and each of at least three runs"

    # The same number of letters: every page stays where it was, so only the run holding it changes.
    _edit(long_brief, "Tokayev", "Tokayeu")
    edited = _pdf(long_brief, out)
    assert edited != first
    assert edited == _pdf(long_brief, tmp_path / "cold-edited")
    assert _laid_out(out, kept) == 1, "only the run holding the edit"

    # Undone: every part is kept already (the whole PDF too); the bytes of the first build.
    before = _parts(out)
    _edit(long_brief, "Tokayeu", "Tokayev")
    assert _pdf(long_brief, out) == first
    assert _laid_out(out, before) == 0


def test_an_edit_that_moves_pages_lays_out_what_follows_and_the_contents(long_brief: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    _pdf(long_brief, out)
    kept = _parts(out)
    first_section = sorted((long_brief / "sections").glob("*.md"))[0]
    text = first_section.read_text(encoding="utf-8")
    first_section.write_text(text.replace("\n\n", "\n\n" + "A paragraph added. " * 400 + "\n\n", 1), encoding="utf-8")
    edited = _pdf(long_brief, out)
    assert edited == _pdf(long_brief, tmp_path / "cold-edited")
    assert _laid_out(out, kept) >= 4, "every run numbered on from the longer first one, and the contents"


def test_damaged_and_swapped_parts_are_not_trusted(long_brief: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    first = _pdf(long_brief, out)
    folder = out / CACHE_FOLDER / keptparts.KIND
    names = sorted(p.name for p in folder.iterdir())
    (folder / names[0]).write_bytes((folder / names[0]).read_bytes()[:-100])  # truncated
    damaged = bytearray((folder / names[1]).read_bytes())
    damaged[-50] ^= 0xFF
    (folder / names[1]).write_bytes(bytes(damaged))  # a byte changed
    if len(names) > 3:
        (folder / names[2]).write_bytes((folder / names[3]).read_bytes())  # another entry's content
    shutil.rmtree(out / CACHE_FOLDER / pdf.KEPT)  # not the whole PDF kept: its parts must serve
    assert _pdf(long_brief, out) == first


def test_a_kept_part_is_used_only_while_the_files_it_read_are_unchanged(long_brief: Path, tmp_path: Path) -> None:
    """A part that shows an image of the brief's is laid out again when the image changes, though its HTML
    (which only names the image) is the same."""
    image = long_brief / "images" / "picture.svg"
    image.parent.mkdir(exist_ok=True)
    image.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">'
                     '<rect width="200" height="100" fill="#336"/></svg>', encoding="utf-8")
    last = sorted((long_brief / "sections").glob("*.md"))[-1]
    last.write_text(last.read_text(encoding="utf-8") + "\n\n![A picture](images/picture.svg)\n", encoding="utf-8")
    out = tmp_path / "dist"
    _pdf(long_brief, out)
    kept = _parts(out)
    image.write_text(image.read_text(encoding="utf-8").replace("#336", "#c33"), encoding="utf-8")
    edited = _pdf(long_brief, out)
    assert edited == _pdf(long_brief, tmp_path / "cold-edited")
    assert _laid_out(out, kept) == 1, "the run showing the image, laid out again"
