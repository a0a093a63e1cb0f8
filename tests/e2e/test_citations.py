"""Citations as readers meet them: the same numbers and texts in the PDF, the EPUB and the HTML edition; errors at
their lines; the brief's own reference on its about page and in the HTML's citation tags.

A small brief cites six works of the test corpus (tests/data/references/corpus.yaml), beside a note of its own.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from briefpress.cli import main
from tools.checks import PdfReport, epubcheck, normalise

CORPUS = Path(__file__).parents[1] / "data" / "references" / "corpus.yaml"
XHTML = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}

SECTION = """\
---
title: Findings
id: findings
---

The election was called early [@decree-law; @tokayev2022sept].[^own] Cummings describes the elite
[@cummings2005, p. 12]. @olcott2010 [chap. 3] is older; see also [-@many2021]. Mail to desk@example.org.
An escaped \\@cummings2005 stays text.

Again the elite [@cummings2005, p. 12], and once more [@cummings2005, p. 14].

[^own]: A note of the brief's own, citing [@imf2023].
"""

ABOUT = """\
---
title: About
id: about
role: back
---

::: {#cite-this-brief}
:::
"""


def _brief(tmp_path: Path, csl: str | None = "chicago-notes-bibliography", section: str = SECTION,
           extra_yaml: str = "") -> Path:
    root = tmp_path / "brief"
    (root / "sections").mkdir(parents=True)
    refs = CORPUS.read_text(encoding="utf-8").replace("id: amendments2022", "id: decree-law")
    (root / "refs.yaml").write_text(refs, encoding="utf-8")
    (root / "sections" / "findings.md").write_text(section, encoding="utf-8")
    (root / "sections" / "about.md").write_text(ABOUT, encoding="utf-8")
    (root / "brief.yaml").write_text(
        "title: Cited brief\nlang: en-US\nidentifier: urn:test:cited\nslug: cited\ndate: 2026-03-02\n"
        "authors: [Test Desk]\npublisher: Test Desk\n"
        "sections: [sections/findings.md, sections/about.md]\nbibliography: refs.yaml\n"
        + (f"csl: {csl}\n" if csl else "") + extra_yaml, encoding="utf-8")
    return root


def _build(root: Path, out: Path, *flags: str) -> int:
    return main(["build", str(root), "--out", str(out), *flags])


def _notes_html(path: Path) -> list[tuple[int, str]]:
    tree = lxml_html.fromstring(path.read_bytes())
    notes = []
    for aside in tree.xpath('//aside[contains(@class, "footnote")]'):
        number = int(aside.get("id").removeprefix("fn-"))
        label = aside.xpath('.//a[@class="note-back"]')[0]
        label.drop_tree()
        notes.append((number, normalise(aside.text_content()).strip()))
    return notes


def _notes_epub(path: Path) -> list[tuple[int, str]]:
    notes = []
    with zipfile.ZipFile(path) as epub:
        for name in sorted(n for n in epub.namelist() if n.endswith(".xhtml") and "nav" not in n):
            doc = etree.fromstring(epub.read(name))
            for aside in doc.xpath('//x:aside[@epub:type="footnote"]', namespaces=XHTML):
                back = aside.xpath('.//x:a[@class="note-back"]', namespaces=XHTML)[0]
                back.getparent().remove(back) if back.tail is None else None
                text = normalise("".join(aside.itertext())).strip()
                number = int(aside.get("id").removeprefix("fn-"))
                notes.append((number, re.sub(rf"^{number}\. ?", "", text)))
    return notes


@pytest.fixture(scope="module")
def note_style(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("notes")
    out = tmp / "dist"
    assert _build(_brief(tmp), out) == 0
    return out


def test_note_style_citations_are_notes_numbered_with_the_briefs_own(note_style: Path) -> None:
    notes = _notes_html(note_style / "cited.html")
    assert [n for n, _ in notes] == list(range(1, 8))
    texts = dict(notes)
    # The first citation is note 1; the brief's own note is 2 and cites inside itself; the rest follow.
    assert texts[1].startswith("Law on Amendments and Additions to the Constitution") and "Tokayev" in texts[1]
    # A citation inside the brief's own note is set in its text, in parentheses, as pandoc sets it.
    assert texts[2] == ("A note of the brief’s own, citing (International Monetary Fund, Republic of Kazakhstan: "
                        "2023 Article IV Consultation, IMF Country Report (International Monetary Fund, 2023)).")
    assert texts[3] == "Sally N. Cummings, Kazakhstan: Power and the Elite (I.B. Tauris, 2005), 12."
    # A narrative citation leaves the author in the text and the rest in its note.
    assert texts[4].startswith("Kazakhstan: Unfulfilled Promise?") and texts[4].endswith("chap. 3.")
    # Repeats take the style's short form.
    assert texts[6] == "Cummings, Kazakhstan: Power and the Elite, 12."
    assert texts[7] == "Cummings, Kazakhstan: Power and the Elite, 14."
    body = lxml_html.fromstring((note_style / "cited.html").read_bytes())
    text = normalise(body.xpath('//section[@id="findings"]')[0].text_content())
    assert "Martha Brill Olcott" in text and "desk@example.org" in text and "@cummings2005 stays text" in text


def test_every_edition_carries_the_same_notes(note_style: Path) -> None:
    html = _notes_html(note_style / "cited.html")
    assert _notes_epub(note_style / "cited.epub") == html
    pdf = PdfReport(note_style / "cited.pdf").text
    for number, text in html:
        assert f"{number}. {text}" in pdf, (number, text)


def test_the_bibliography_and_its_links(note_style: Path) -> None:
    tree = lxml_html.fromstring((note_style / "cited.html").read_bytes())
    entries = tree.xpath('//div[contains(@class, "csl-entry")]')
    keys = [e.get("id") for e in entries]
    # The works cited, in the style's order; the address has no entry in this style (and is not linked).
    assert keys == ["ref-cummings2005", "ref-imf2023", "ref-decree-law", "ref-olcott2010", "ref-many2021"]
    assert tree.xpath('//section[@id="references"]/h1')[0].text_content() == "References"
    links = {a.get("href") for a in tree.xpath('//span[@class="citation"]//a')}
    assert links and links <= {f"#{k}" for k in keys}
    with zipfile.ZipFile(note_style / "cited.epub") as epub:
        doc = etree.fromstring(epub.read(next(n for n in epub.namelist() if n.endswith("findings.xhtml"))))
    hrefs = set(doc.xpath('//x:span[@class="citation"]//x:a/@href', namespaces=XHTML))
    assert hrefs and all(h.startswith("references.xhtml#ref-") for h in hrefs)


def test_the_epub_with_citations_passes_epubcheck(note_style: Path) -> None:
    serious = [m for m in epubcheck(note_style / "cited.epub") if m["severity"] in ("WARNING", "ERROR", "FATAL")]
    assert serious == []


def test_cite_this_brief_in_every_edition(note_style: Path) -> None:
    expected = "Test Desk. Cited Brief. Test Desk, 2026."
    html = lxml_html.fromstring((note_style / "cited.html").read_bytes())
    assert normalise(html.xpath('//p[@class="cite-this-brief"]')[0].text_content()) == expected
    with zipfile.ZipFile(note_style / "cited.epub") as epub:
        doc = etree.fromstring(epub.read(next(n for n in epub.namelist() if n.endswith("about.xhtml"))))
    assert normalise("".join(doc.xpath('//x:p[@class="cite-this-brief"]', namespaces=XHTML)[0].itertext())) == expected
    assert expected in PdfReport(note_style / "cited.pdf").text
    tags = {(m.get("name"), m.get("content")) for m in html.xpath("//meta[starts-with(@name, 'citation_')]")}
    assert {("citation_title", "Cited brief"), ("citation_author", "Test Desk"),
            ("citation_publication_date", "2026/03/02"), ("citation_publisher", "Test Desk")} <= tags


def test_author_date_citations_read_the_same_in_every_edition(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    assert _build(_brief(tmp_path, csl=None), out) == 0
    html = lxml_html.fromstring((out / "cited.html").read_bytes())
    cites = [normalise(s.text_content()) for s in html.xpath('//section[@id="findings"]//span[@class="citation"]')]
    assert cites[:2] == ["(Law on Amendments and Additions to the Constitution of the Republic of Kazakhstan "
                         "2022; Tokayev 2022)", "(Cummings 2005, 12)"]
    assert cites[-1] == "(International Monetary Fund 2023)"  # in the note, printed at the end of the section
    assert "Olcott (2010, chap. 3)" in cites
    with zipfile.ZipFile(out / "cited.epub") as epub:
        doc = etree.fromstring(epub.read(next(n for n in epub.namelist() if n.endswith("findings.xhtml"))))
    epub_cites = [normalise("".join(s.itertext())) for s in doc.xpath('//x:span[@class="citation"]', namespaces=XHTML)]
    assert epub_cites == cites
    pdf = PdfReport(out / "cited.pdf").text
    assert all(c in pdf for c in cites)


@pytest.mark.parametrize("change, expected", [
    (lambda root: _edit(root / "sections" / "findings.md", "[@cummings2005, p. 12]. @olcott",
                        "[@cumings2005, p. 12]. @olcott"),
     r"sections/findings.md:7: error: no reference 'cumings2005' in refs.yaml \(did you mean 'cummings2005'\?\)"),
    (lambda root: _edit(root / "brief.yaml", "csl: chicago-notes-bibliography", "csl: chicago-author-dates"),
     r"brief.yaml:10: error: unknown citation style 'chicago-author-dates'; nearest: chicago-author-date"),
    (lambda root: _style_file(root, "<style>\n  <citation>\n</style>\n"),
     r"bad.csl:3: error: invalid XML: Opening and ending tag mismatch"),
    (lambda root: _style_file(root, "<?xml version='1.0'?>\n<stylesheet/>\n"),
     r"bad.csl:2: error: a CSL style's root element is <style>, not <stylesheet>"),
    (lambda root: _style_file(root, "<style/>\n"),
     r"brief.yaml:10: error: citation style 'bad' cannot be used: .*No citation element present"),
    (lambda root: _replace_refs(root, "refs.bib", "@book{a, title = {A}, year = 2020}\n\n@book{b,\n  title = {B\n"),
     r"refs.bib:3: error: invalid BibTeX"),
    (lambda root: _replace_refs(root, "refs.json", '[\n  {"id": "a", "type": "book"},\n  {"id": "b" "type": 1}\n]\n'),
     r"refs.json:3: error: invalid JSON: Expecting ','"),
    # A caption is not read for citations or cross-references: printed unresolved, the HTML held '< />' and
    # the EPUB stopped with an XML error; a table's caption printed '[@imf2023]' as written.
    (lambda root: _append(root, "\n![A chart, after [@imf2023]](chart.png){#fig-chart}\n"),
     r"sections/findings.md:14: error: a citation or cross-reference \(@…\) in a figure's caption \(an image's "
     r"description\) is not supported"),
    (lambda root: _append(root, "\n| A | B |\n| --- | --- |\n| 1 | 2 |\n\n: Shares, after @olcott2010 {#tbl-shares}\n"),
     r"sections/findings.md:18: error: a citation or cross-reference \(@…\) in a table's caption is not supported"),
])
def test_errors_are_reported_at_their_lines(tmp_path: Path, capsys, change, expected: str) -> None:
    root = _brief(tmp_path)
    change(root)
    out = tmp_path / "dist"
    assert _build(root, out) == 1
    err = capsys.readouterr().err
    assert re.search(expected, err), err
    assert "Traceback" not in err and not out.exists()


def test_a_reference_never_cited_is_a_warning_and_strict_makes_it_fail(tmp_path: Path, capsys) -> None:
    root = _brief(tmp_path)
    assert _build(root, tmp_path / "dist") == 0
    err = capsys.readouterr().err
    assert re.search(r"refs.yaml:\d+: warning: reference '\w+' is never cited", err)
    assert _build(root, tmp_path / "strict", "--strict") == 1


def _append(root: Path, text: str) -> None:
    """Add ``text`` after the findings' last line (13), with a small picture beside the brief."""
    from PIL import Image

    Image.new("RGB", (4, 4), "red").save(root / "chart.png")
    section = root / "sections" / "findings.md"
    section.write_text(section.read_text(encoding="utf-8") + text, encoding="utf-8")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _style_file(root: Path, content: str) -> None:
    (root / "bad.csl").write_text(content, encoding="utf-8")
    _edit(root / "brief.yaml", "csl: chicago-notes-bibliography", "csl: bad.csl")


def _replace_refs(root: Path, name: str, content: str) -> None:
    (root / "refs.yaml").unlink()
    (root / name).write_text(content, encoding="utf-8")
    _edit(root / "brief.yaml", "bibliography: refs.yaml", f"bibliography: {name}")


def test_release_writes_the_briefs_reference_as_bibtex_and_csl_json(tmp_path: Path) -> None:
    """``<slug>.bib`` parses as BibTeX (bibtexparser, and pandoc reads the same work from it); ``<slug>.json``
    is valid against the CSL-JSON schema (citation-style-language/schema, csl-data.json)."""
    import json

    import bibtexparser
    import jsonschema

    root = _brief(tmp_path, csl=None)
    _edit(root / "brief.yaml", "title: Cited brief", 'title: "Costs & 100% of {braces}: a_test"')
    out = tmp_path / "dist"
    assert main(["build", str(root), "--out", str(out), "--release", "--format", "html"]) == 0
    library = bibtexparser.parse_string((out / "cited.bib").read_text(encoding="utf-8"))
    assert library.failed_blocks == [] and [e.key for e in library.entries] == ["cited"]
    fields = {f.key: f.value for f in library.entries[0].fields}
    assert fields["author"] == "{Test Desk}" and fields["date"] == "2026-03-02"
    pypandoc = pytest.importorskip("pypandoc")
    import subprocess
    read = json.loads(subprocess.run([pypandoc.get_pandoc_path(), "-f", "biblatex", "-t", "csljson",
                                      str(out / "cited.bib")], capture_output=True, text=True, check=True).stdout)
    assert read[0]["title"] == "Costs & 100% of {braces}: a_test"
    assert read[0]["author"] == [{"literal": "Test Desk"}] and read[0]["type"] == "report"

    items = json.loads((out / "cited.json").read_text(encoding="utf-8"))
    schema = json.loads((CORPUS.parent / "csl-data.json").read_text(encoding="utf-8"))
    jsonschema.validate(items, schema)
    assert items[0]["title"] == "Costs & 100% of {braces}: a_test"
    assert items[0]["issued"] == {"date-parts": [[2026, 3, 2]]}
    bad = [dict(items[0], issued="2026")]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {f["file"] for f in manifest["files"]} == {"cited.html", "cited.bib", "cited.json"}


def test_a_style_file_of_the_briefs_own(tmp_path: Path) -> None:
    from briefpress.references import _styles_dir

    root = _brief(tmp_path)
    (root / "house.csl").write_text((_styles_dir() / "apa.csl").read_text(encoding="utf-8"), encoding="utf-8")
    _edit(root / "brief.yaml", "csl: chicago-notes-bibliography", "csl: house.csl")
    out = tmp_path / "dist"
    assert _build(root, out, "--format", "html") == 0
    html = lxml_html.fromstring((out / "cited.html").read_bytes())
    cites = [normalise(s.text_content()) for s in html.xpath('//section[@id="findings"]//span[@class="citation"]')]
    assert "(Cummings, 2005, p. 12)" in cites
