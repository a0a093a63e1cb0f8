"""Citations on bibliographies nobody wrote for the test read exactly as pandoc writes them, in every edition.

The corpus (tests/data/references/real, sources in its SOURCES.md) is nine bibliography files of eight public
projects, kept unchanged: law (UK, EU and international cases and legislation, biblatex-oscola's examples),
political science, French sociology, linguistics, computer science (arXiv eprints, software), and two CSL-JSON
files; 250 references. ``citations.md`` cites every one in pandoc's forms: locators and ranges, prefixes and
suffixes, clusters, narrative and author-suppressed citations, repeats, and citations inside notes.

The oracle is pandoc (the same ``pypandoc-binary``) reading the same Markdown and files, with
``link-citations: true`` as briefpress links citations. Texts are compared after NFC and whitespace
normalisation: every in-text citation and note, in order, and every bibliography entry, in order, in the HTML
edition and the EPUB; in the PDF, every note and entry is found in the text as printed.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from briefpress.cli import main
from briefpress.references import _styles_dir

REAL = Path(__file__).parents[1] / "data" / "references" / "real"
FILES = REAL.joinpath("corpus.txt").read_text(encoding="utf-8").split()
STYLES = ("ieee", "elsevier-vancouver", "apa", "chicago-author-date", "chicago-notes-bibliography",
          "modern-language-association")
XHTML = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}

pypandoc = pytest.importorskip("pypandoc", reason="pandoc (PyPI pypandoc-binary) is the oracle")


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", " ", text).strip()


def _text(element) -> str:
    return _norm("".join(element.itertext()))


class Texts:
    """What a reader reads of the citations: in-text citations, notes, bibliography entries."""

    def __init__(self, cites: list[str], notes: list[str], entries: list[str]):
        self.cites, self.notes, self.entries = cites, notes, entries


def _pandoc(style: str) -> Texts:
    out = subprocess.run(
        [pypandoc.get_pandoc_path(), "-f", "markdown", "-t", "html", "--wrap=none", "--citeproc",
         "-M", "link-citations=true", "--csl", str(_styles_dir() / f"{style}.csl"),
         *(f"--bibliography={REAL / name}" for name in FILES), str(REAL / "citations.md")],
        capture_output=True, text=True, check=True).stdout
    tree = lxml_html.fromstring(f"<div>{out}</div>")
    for ref in tree.xpath('//a[contains(@class, "footnote-ref") or contains(@class, "footnote-back")]'):
        ref.drop_tree()
    cites = [t for t in (_text(s) for s in tree.xpath(
        '//p[not(ancestor::section[@id="footnotes"])]/span[@class="citation"]')) if t]
    cites += [_text(s) for s in tree.xpath('//section[@id="footnotes"]//span[@class="citation"]')]
    notes = [_text(li) for li in tree.xpath('//section[@id="footnotes"]//li')]
    entries = [t for t in (_text(d) for d in tree.xpath('//div[contains(@class, "csl-entry")]')) if t]
    return Texts(cites, notes, entries)


def _ours(tree, ns: dict[str, str] | None = None) -> Texts:
    """The same texts from one of our documents (the HTML page, or the EPUB's documents joined)."""
    x = "x:" if ns else ""
    for back in tree.xpath(f'//{x}a[@class="noteref" or @class="note-back"]', namespaces=ns):
        _drop(back)
    cites = [_text(s) for s in tree.xpath(f'//{x}p[not(ancestor::{x}aside)]/{x}span[@class="citation"]',
                                          namespaces=ns)]
    cites = [c for c in cites if c]
    cites += [_text(s) for s in tree.xpath(
        f'//{x}aside[not(contains(@class, "citation-note"))]//{x}span[@class="citation"]', namespaces=ns)]
    notes = [re.sub(r"^\d+\. ?", "", _text(a)) if ns else _text(a)
             for a in tree.xpath(f'//{x}aside[contains(@class, "footnote")]', namespaces=ns)]
    entries = [_text(d) for d in tree.xpath(f'//{x}div[contains(@class, "csl-entry")]', namespaces=ns)]
    return Texts(cites, notes, entries)


def _drop(element) -> None:
    """Remove an element, keeping its tail text."""
    parent = element.getparent()
    tail = element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def _brief(tmp_path: Path, style: str) -> Path:
    root = tmp_path / "brief"
    (root / "sections").mkdir(parents=True)
    for name in FILES:
        (root / name).write_bytes((REAL / name).read_bytes())
    body = (REAL / "citations.md").read_text(encoding="utf-8")
    (root / "sections" / "a.md").write_text(f"---\ntitle: Citations\n---\n{body}", encoding="utf-8")
    listed = ", ".join(FILES)
    (root / "brief.yaml").write_text(
        f"title: Real bibliographies\nlang: en-US\nidentifier: urn:x:real\ndate: 2026-01-01\nslug: real\n"
        f"sections: [sections/a.md]\nbibliography: [{listed}]\ncsl: {style}\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module", params=STYLES)
def built(request, tmp_path_factory) -> tuple[Texts, Path]:
    tmp = tmp_path_factory.mktemp(request.param)
    out = tmp / "dist"
    assert main(["build", str(_brief(tmp, request.param)), "--format", "all", "--out", str(out)]) == 0
    return _pandoc(request.param), out


def _squash(text: str) -> str:
    return re.sub(r"[\s\-\u00ad\u2010\u2011]+", "", unicodedata.normalize("NFC", text))


def _same(ours: Texts, theirs: Texts) -> None:
    assert ours.cites == theirs.cites
    assert ours.notes == theirs.notes
    assert ours.entries == theirs.entries


def test_the_corpus_is_real_and_large() -> None:
    sources = (REAL / "SOURCES.md").read_text(encoding="utf-8")
    repos = set(re.findall(r"\b[\w.-]+/[\w.-]+\b(?= \|| `)", sources))
    keys = set()
    for name in FILES:
        text = (REAL / name).read_text(encoding="utf-8")
        found = re.findall(r"^\s*@(?!string|comment|preamble)\w+\s*\{\s*([^,\s]+)\s*,", text, re.M | re.I) \
            if name.endswith(".bib") else re.findall(r'"id"\s*:\s*"([^"]+)"', text)
        keys |= set(found)
    assert len(keys) >= 150
    assert len({name.split("-")[0] for name in FILES}) >= 5 and len(repos) >= 5


def test_html_edition_is_pandocs_text(built) -> None:
    theirs, out = built
    _same(_ours(lxml_html.fromstring((out / "real.html").read_bytes())), theirs)


def test_epub_is_pandocs_text(built) -> None:
    theirs, out = built
    root = etree.Element("{http://www.w3.org/1999/xhtml}body")
    with zipfile.ZipFile(out / "real.epub") as epub:
        for name in sorted(n for n in epub.namelist() if n.endswith(".xhtml") and "nav" not in n):
            doc = etree.fromstring(epub.read(name))
            root.extend(doc.xpath("//x:body/*", namespaces=XHTML))
    _same(_ours(root, XHTML), theirs)


def test_pdf_prints_pandocs_notes_and_entries(built) -> None:
    theirs, out = built
    # poppler's pdftotext (``make test`` installs it): pypdf misreads the body of this PDF, whose fonts'
    # ToUnicode maps are sound (poppler, Chromium's viewer and copying from a reader give the text)
    printed = subprocess.run(["pdftotext", str(out / "real.pdf"), "-"], capture_output=True, text=True,
                             check=True).stdout
    # Lines break at hyphens and inside addresses, so spaces and hyphens are left out of the comparison.
    text = _squash(printed)
    missing = [t for t in theirs.notes + theirs.entries if _squash(t) not in text]
    assert not missing, missing[:5]
