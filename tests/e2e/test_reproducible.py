"""Reproducible outputs: the same sources give the same bytes, wherever and whenever they are built."""

from __future__ import annotations

import shutil
import zipfile

import pikepdf
import pytest

from briefpress.cli import main
from conftest import BRIEF


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory, built):
    """A second build of a copy of the brief, at another path, at a later time."""
    elsewhere = tmp_path_factory.mktemp("another-clone") / "brief"
    shutil.copytree(BRIEF, elsewhere)
    out = tmp_path_factory.mktemp("dist2")
    assert main(["build", str(elsewhere), "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("fmt", ["pdf", "epub", "html"])
def test_two_builds_are_byte_identical(built, rebuilt, fmt: str) -> None:
    first = built.path(fmt).read_bytes()
    second = (rebuilt / built.path(fmt).name).read_bytes()
    assert first == second


def test_dates_come_from_the_brief(built) -> None:
    date = built.meta["date"]
    with pikepdf.open(built.path("pdf")) as pdf:
        stamps = {str(pdf.docinfo[key]) for key in ("/CreationDate", "/ModDate")}
    assert stamps == {f"D:{date.strftime('%Y%m%d')}"}
    with zipfile.ZipFile(built.path("epub")) as epub:
        assert {info.date_time for info in epub.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        opf = epub.read(next(n for n in epub.namelist() if n.endswith(".opf"))).decode()
        assert f'<meta property="dcterms:modified">{date.isoformat()}T00:00:00Z</meta>' in opf


def test_source_date_epoch_overrides(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14T22:13:20Z
    assert main(["build", str(BRIEF), "--format", "epub", "--out", str(tmp_path)]) == 0
    with zipfile.ZipFile(next(tmp_path.glob("*.epub"))) as epub:
        opf = epub.read(next(n for n in epub.namelist() if n.endswith(".opf"))).decode()
    assert "<meta property=\"dcterms:modified\">2023-11-14T22:13:20Z</meta>" in opf


def test_a_page_map_kept_from_an_earlier_build_is_not_trusted_once_the_brief_changes(
        tmp_path_factory: pytest.TempPathFactory, built) -> None:
    """The EPUB's page list comes from the page map kept in the output folder only while it still fits.

    After an edit that moves the page breaks, an EPUB built into the old folder must equal one built into a
    new folder, which has no page map to reuse.
    """
    brief = tmp_path_factory.mktemp("edited") / "brief"
    shutil.copytree(BRIEF, brief)
    out = tmp_path_factory.mktemp("kept")
    assert main(["build", str(brief), "--format", "pdf", "--format", "epub", "--out", str(out)]) == 0
    before = (out / built.path("epub").name).read_bytes()

    chronology = brief / "sections" / "02-chronology.md"
    paragraph = "\n\nAn added paragraph, long enough to push the page breaks after it along. " * 12
    chronology.write_text(chronology.read_text(encoding="utf-8") + paragraph, encoding="utf-8")
    assert main(["build", str(brief), "--format", "epub", "--out", str(out)]) == 0
    fresh = tmp_path_factory.mktemp("fresh")
    assert main(["build", str(brief), "--format", "epub", "--out", str(fresh)]) == 0
    after, expected = (out / built.path("epub").name).read_bytes(), (fresh / built.path("epub").name).read_bytes()
    assert after != before, "the edit should change the EPUB"
    assert after == expected
