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
