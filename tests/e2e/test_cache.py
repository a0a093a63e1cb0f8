"""The output folder's cache changes no byte of any edition: cold, warm, with the cache deleted, with its
entries truncated, damaged or swapped, and from the command line or a library call; and it stays bounded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from briefpress import cache as cache_module
from briefpress.build import build
from briefpress.cache import CACHE_FOLDER, Cache
from briefpress.cli import main
from briefpress.errors import Diagnostics
from tools.checks import png
from tools.paths import BRIEF, ROOT

FORMATS = ("pdf", "epub", "html")


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file() and not p.name.startswith(".")}


def _build(out: Path) -> dict[str, bytes]:
    assert main(["build", str(BRIEF), "--format", "all", "--out", str(out)]) == 0
    return _outputs(out)


def _entries(out: Path) -> list[Path]:
    return sorted(p for p in (out / CACHE_FOLDER).rglob("*") if p.is_file() and p.parent.name in ("citations", "fonts", "pdf"))


@pytest.fixture(scope="module")
def cold(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path_factory.mktemp("cold") / "dist"
    return out, _build(out)


def test_warm_and_deleted_builds_give_the_same_bytes(cold) -> None:
    out, first = cold
    kinds = {p.parent.name for p in _entries(out)}
    assert kinds == {"citations", "fonts", "pdf"}, "the citations, the font subsets and the PDF are kept"
    assert _build(out) == first
    shutil.rmtree(out / CACHE_FOLDER)
    assert _build(out) == first


def test_damaged_truncated_and_swapped_entries_are_not_trusted(cold, tmp_path: Path) -> None:
    out, first = cold
    work = tmp_path / "dist"
    shutil.copytree(out, work)
    entries = _entries(work)
    citations = next(p for p in entries if p.parent.name == "citations")
    fonts = [p for p in entries if p.parent.name == "fonts"]
    printed = next(p for p in entries if p.parent.name == "pdf")
    assert len(fonts) >= 2
    data = bytearray(printed.read_bytes())  # a byte of the kept PDF changed
    data[len(data) // 2] ^= 0x01
    printed.write_bytes(bytes(data))
    # the citations' entry swapped with a font's; a font's truncated; another's content changed
    kept = citations.read_bytes()
    citations.write_bytes(fonts[0].read_bytes())
    fonts[0].write_bytes(kept)
    fonts[1].write_bytes(fonts[1].read_bytes()[:-7])
    data = bytearray(fonts[-1].read_bytes())
    data[-3] ^= 0xFF
    fonts[-1].write_bytes(bytes(data))
    assert _build(work) == first
    # and the entries are whole again
    assert Cache(work).get("citations", citations.name) is not None
    assert all(Cache(work).get("fonts", p.name) is not None for p in fonts)
    assert Cache(work).get("pdf", printed.name) is not None


def test_a_library_call_gives_the_same_bytes(cold, tmp_path: Path) -> None:
    _, first = cold
    out = tmp_path / "lib"
    build(BRIEF, FORMATS, out, Diagnostics())
    assert _outputs(out) == first


def test_entries_of_another_key_or_version_miss_and_the_folder_stays_bounded(tmp_path: Path, monkeypatch) -> None:
    cache = Cache(tmp_path)
    cache.put("k", "a" * 64, b"one")
    assert cache.get("k", "a" * 64) == b"one" and not (tmp_path / CACHE_FOLDER).exists(), "written on success"
    cache.flush()
    stored = tmp_path / CACHE_FOLDER / "k" / ("a" * 64)
    (tmp_path / CACHE_FOLDER / "k" / ("b" * 64)).write_bytes(stored.read_bytes())
    assert Cache(tmp_path).get("k", "b" * 64) is None, "an entry for another key"
    stored.write_bytes(stored.read_bytes().replace(b"briefpress-cache 1", b"briefpress-cache 0"))
    assert Cache(tmp_path).get("k", "a" * 64) is None, "an entry of another format"
    monkeypatch.setattr(cache_module, "LIMIT", 3000)
    bounded = Cache(tmp_path)
    for n in range(10):
        bounded.put("k", f"{n:064d}", bytes(1000))
        bounded.flush()
    total = sum(p.stat().st_size for p in (tmp_path / CACHE_FOLDER).rglob("*") if p.is_file())
    assert total <= 3000
    assert Cache(tmp_path).get("k", f"{9:064d}") == bytes(1000), "the newest is kept"


def test_an_edit_and_its_undoing_give_the_bytes_of_cold_builds(cold, tmp_path: Path) -> None:
    _, first = cold
    brief = tmp_path / "brief"
    shutil.copytree(BRIEF, brief)
    out = tmp_path / "dist"
    assert main(["build", str(brief), "--format", "all", "--out", str(out)]) == 0
    section = sorted((brief / "sections").glob("*.md"))[1]
    text = section.read_text(encoding="utf-8")
    section.write_text(text.replace("\n\n", "\n\nAn added paragraph.\n\n", 1), encoding="utf-8")
    assert main(["build", str(brief), "--format", "all", "--out", str(out)]) == 0
    edited = _outputs(out)
    fresh = tmp_path / "fresh"
    assert main(["build", str(brief), "--format", "all", "--out", str(fresh)]) == 0
    assert edited == _outputs(fresh) != first
    section.write_text(text, encoding="utf-8")
    assert main(["build", str(brief), "--format", "all", "--out", str(out)]) == 0
    assert _outputs(out) == first


def test_an_entry_made_by_other_code_is_not_used(cold, tmp_path: Path, monkeypatch) -> None:
    """The citations' key holds a digest of the code that formats them: changed code formats them again."""
    from briefpress.render import citeproc

    out, first = cold
    work = tmp_path / "dist"
    shutil.copytree(out, work)
    before = {p.name for p in (work / CACHE_FOLDER / "citations").iterdir()}
    monkeypatch.setattr(citeproc, "code", lambda *modules: "other code")
    assert _build(work) == first
    after = {p.name for p in (work / CACHE_FOLDER / "citations").iterdir()}
    assert before < after and len(after - before) == 1


def test_a_kept_pdf_is_used_only_while_every_file_its_layout_read_is_unchanged(tmp_path: Path) -> None:
    """An image replaced under the same name leaves the print HTML as it was, but not the PDF."""
    brief = tmp_path / "brief"
    shutil.copytree(ROOT / "tests" / "briefs" / "minimal", brief)
    out = tmp_path / "dist"
    assert main(["build", str(brief), "--format", "pdf", "--out", str(out)]) == 0
    first = _outputs(out)
    assert [p.parent.name for p in _entries(out)].count("pdf") == 1
    (brief / "images" / "square.png").write_bytes(png(40, 10, (200, 30, 30)))
    assert main(["build", str(brief), "--format", "pdf", "--out", str(out)]) == 0
    fresh = tmp_path / "fresh"
    assert main(["build", str(brief), "--format", "pdf", "--out", str(fresh)]) == 0
    assert _outputs(out) == _outputs(fresh) != first


def test_a_kept_pdf_reports_the_warnings_of_its_layout_again(tmp_path: Path, capsys) -> None:
    """A warning of the layout is reported by every build that uses the kept PDF, so ``--strict`` still stops."""
    brief = tmp_path / "brief"
    shutil.copytree(ROOT / "tests" / "briefs" / "own-design", brief)
    with (brief / "styles" / "print.css").open("a", encoding="utf-8") as css:
        css.write("\n.section { widows: banana; }\n")
    out = tmp_path / "dist"
    assert main(["build", str(brief), "--format", "pdf", "--out", str(out)]) == 0
    assert "widows: banana" in capsys.readouterr().err
    assert any(p.parent.name == "pdf" for p in _entries(out))
    assert main(["build", str(brief), "--format", "pdf", "--out", str(out), "--strict"]) == 1
    assert "widows: banana" in capsys.readouterr().err
