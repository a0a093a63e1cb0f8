"""Reproducible outputs: the same sources give the same bytes, wherever and whenever they are built."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pikepdf
import pytest
from lxml import html as lxml_html

from briefpress.build import build
from briefpress.cli import main
from briefpress.errors import Diagnostics
from tools.paths import BRIEF

FORMATS = ("pdf", "epub", "html")
BRIEFPRESS = os.path.join(sys.prefix, "bin", "briefpress")


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory, built):
    """A second build of a copy of the brief, at another path, at a later time."""
    elsewhere = tmp_path_factory.mktemp("another-clone") / "brief"
    shutil.copytree(BRIEF, elsewhere)
    out = tmp_path_factory.mktemp("dist2")
    assert main(["build", str(elsewhere), "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_builds_are_byte_identical(built, rebuilt, fmt: str) -> None:
    first = built.path(fmt).read_bytes()
    second = (rebuilt / built.path(fmt).name).read_bytes()
    assert first == second


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run the installed ``briefpress`` command in a new process, with ``env`` added to a plain environment."""
    plain = {name: value for name, value in os.environ.items()
             if name not in ("SOURCE_DATE_EPOCH", "BRIEFPRESS_SPEEDUPS")}
    return subprocess.run([BRIEFPRESS, *args], capture_output=True, text=True, env={**plain, **env}, timeout=600)


@pytest.fixture(scope="module")
def other_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The brief built the other ways, each into a new output folder: by the command in a new
    process with speed-ups on (the default) and off, and by the library's ``build`` in this process."""
    outs = {}
    for name, env in (("speed-ups on", {}), ("speed-ups off", {"BRIEFPRESS_SPEEDUPS": "off"})):
        out = tmp_path_factory.mktemp("command")
        run = _run("build", str(BRIEF), "--out", str(out), **env)
        assert run.returncode == 0, run.stderr
        assert run.stderr == ""
        outs[name] = out
    out = tmp_path_factory.mktemp("library")
    with pytest.MonkeyPatch.context() as env:
        env.delenv("SOURCE_DATE_EPOCH", raising=False)
        outputs = build(BRIEF, FORMATS, out, Diagnostics(), strict=True)
    assert sorted(o.fmt for o in outputs) == sorted(FORMATS)
    outs["library"] = out
    return outs


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("how", ["speed-ups on", "speed-ups off", "library"])
def test_every_way_of_building_gives_the_same_bytes(built, other_builds, how: str, fmt: str) -> None:
    name = built.path(fmt).name
    assert (other_builds[how] / name).read_bytes() == built.path(fmt).read_bytes()


@pytest.mark.parametrize("speedups", ["on", "off"])
def test_an_epub_built_alone_is_the_epub_built_with_the_pdf(built, tmp_path, speedups: str) -> None:
    """Built alone into a new output folder, the EPUB lays the brief out for its page list itself."""
    run = _run("build", str(BRIEF), "--format", "epub", "--out", str(tmp_path),
               **({"BRIEFPRESS_SPEEDUPS": "off"} if speedups == "off" else {}))
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [built.path("epub").name]
    assert (tmp_path / built.path("epub").name).read_bytes() == built.path("epub").read_bytes()


def test_dates_come_from_the_brief(built) -> None:
    """With no ``modified`` in brief.yaml, every date of every edition is the brief's ``date``; the EPUB's zip
    entries carry the zip format's earliest time."""
    date = built.meta["date"]
    assert "modified" not in built.meta
    with pikepdf.open(built.path("pdf")) as pdf:
        stamps = {str(pdf.docinfo[key]) for key in ("/CreationDate", "/ModDate")}
        xmp = pdf.Root.Metadata.read_bytes().decode("utf-8")
    assert stamps == {f"D:{date.strftime('%Y%m%d')}"}
    assert re.findall(r"<xmp:(CreateDate|ModifyDate)>([^<]*)<", xmp) == [
        ("CreateDate", date.isoformat()), ("ModifyDate", date.isoformat())]
    with zipfile.ZipFile(built.path("epub")) as epub:
        assert {info.date_time for info in epub.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        opf = epub.read(next(n for n in epub.namelist() if n.endswith(".opf"))).decode()
    assert re.findall(r'<meta property="dcterms:modified">([^<]*)</meta>', opf) == [f"{date.isoformat()}T00:00:00Z"]
    assert re.findall(r"<dc:date>([^<]*)</dc:date>", opf) == [date.isoformat()]
    page = lxml_html.fromstring(built.path("html").read_bytes())
    for name in ("dcterms.created", "dcterms.modified"):
        assert page.xpath(f"//head/meta[@name='{name}']/@content") == [date.isoformat()]


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
