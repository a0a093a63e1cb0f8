"""The EPUB, checked the way reading systems and stores meet it: EPUBCheck, OPF, nav, notes."""

from __future__ import annotations

import shutil
import subprocess
import zipfile

import pytest
from lxml import etree

from tools.checks import letters_after, normalise, page_letters
from tools.paths import BRIEF

NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
}


def _opf(epub: zipfile.ZipFile) -> etree._Element:
    container = etree.fromstring(epub.read("META-INF/container.xml"))
    path = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
    return etree.fromstring(epub.read(path)), path.rsplit("/", 1)[0]


def test_epubcheck_reports_nothing(epubcheck_messages: list[dict]) -> None:
    serious = [m for m in epubcheck_messages if m["severity"] in ("WARNING", "ERROR", "FATAL")]
    assert serious == []


def test_mimetype_is_first_and_stored(epub: zipfile.ZipFile) -> None:
    first = epub.infolist()[0]
    assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    assert epub.read("mimetype") == b"application/epub+zip"


def test_spine_follows_brief_yaml(epub: zipfile.ZipFile, built) -> None:
    opf, base = _opf(epub)
    manifest = {item.get("id"): item.get("href") for item in opf.xpath("//opf:manifest/opf:item", namespaces=NS)}
    spine = [manifest[ref] for ref in opf.xpath("//opf:spine/opf:itemref/@idref", namespaces=NS)]
    titles = []
    for href in spine:
        doc = etree.fromstring(epub.read(f"{base}/{href}"))
        h1 = doc.xpath("//x:section[contains(@class, 'section ')]/x:h1", namespaces=NS)
        if h1:
            titles.append("".join(h1[0].itertext()))
    assert titles == [section["title"] for section in built.sections]


def test_nav_lists_every_section_and_landmarks(epub: zipfile.ZipFile, built) -> None:
    opf, base = _opf(epub)
    nav_href = opf.xpath("//opf:item[contains(@properties, 'nav')]/@href", namespaces=NS)[0]
    nav = etree.fromstring(epub.read(f"{base}/{nav_href}"))
    toc = nav.xpath("//x:nav[@epub:type='toc']//x:a", namespaces=NS)
    toc_titles = ["".join(a.itertext()).strip() for a in toc]
    for section in built.sections:
        assert section["title"] in toc_titles
    landmarks = nav.xpath("//x:nav[@epub:type='landmarks']//x:a/@epub:type", namespaces=NS)
    assert "bodymatter" in landmarks and "toc" in landmarks
    assert any(name.endswith(".ncx") for name in epub.namelist()), "an NCX for EPUB 2 readers"


def test_metadata_round_trips(epub: zipfile.ZipFile, built) -> None:
    opf, _ = _opf(epub)
    meta = built.meta

    def dc(name: str) -> list[str]:
        return [el.text for el in opf.xpath(f"//dc:{name}", namespaces=NS)]

    assert dc("identifier") == [meta["identifier"]]
    assert dc("title") == [meta["title"]]
    assert dc("language") == [meta["lang"]]
    assert dc("creator") == meta["authors"]
    assert dc("publisher") == [meta["publisher"]]
    assert dc("rights") == [meta["rights"]]
    assert dc("description") == [meta["description"]]
    assert sorted(dc("subject")) == sorted(meta["subjects"])
    assert dc("date") == [meta["date"].isoformat()]
    assert opf.get("{http://www.w3.org/XML/1998/namespace}lang") == meta["lang"]


def test_every_document_has_xml_lang_and_css(epub: zipfile.ZipFile, built) -> None:
    docs = [n for n in epub.namelist() if n.endswith(".xhtml")]
    assert len(docs) >= len(built.sections)
    for name in docs:
        root = etree.fromstring(epub.read(name))
        assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == built.meta["lang"], name
        if name.rsplit("/", 1)[-1].startswith(tuple(s.get("id", "") for s in built.sections)):
            assert root.xpath("//x:link[@rel='stylesheet']", namespaces=NS), name


def test_cover_image(epub: zipfile.ZipFile) -> None:
    opf, base = _opf(epub)
    cover = opf.xpath("//opf:item[contains(@properties, 'cover-image')]/@href", namespaces=NS)
    assert cover and epub.read(f"{base}/{cover[0]}")


def test_notes_are_epub3_footnotes_with_backlinks(epub: zipfile.ZipFile) -> None:
    refs, notes = {}, {}
    for name in epub.namelist():
        if name.endswith(".xhtml"):
            root = etree.fromstring(epub.read(name))
            for a in root.xpath("//x:a[@epub:type='noteref']", namespaces=NS):
                refs[a.get("href").lstrip("#")] = (name, a.get("id"))
            for aside in root.xpath("//x:aside[@epub:type='footnote']", namespaces=NS):
                back = aside.xpath(".//x:a[@role='doc-backlink']/@href", namespaces=NS)
                notes[aside.get("id")] = (name, back[0].lstrip("#") if back else None)
    assert len(refs) >= 3
    assert set(refs) == set(notes)
    for note_id, (doc, back) in notes.items():
        assert refs[note_id] == (doc, back), "each note links back to its call, in the same document"


#: The block elements a page can begin with, in the EPUB's documents.
BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "figure", "blockquote", "pre", "caption")


def _opening(element: etree._Element) -> str:
    """The first 30 characters of an element's text, whitespace collapsed."""
    return normalise("".join(element.itertext())).strip()[:30].strip()


def test_page_list_cites_the_pdf_pages(epub: zipfile.ZipFile, pdf, built) -> None:
    """The page list names every printed page from the first section's on (numbered from 1, the front
    apart), in order, each linked to a
    page-break marker in a block, at the place where that page of the PDF begins: the text that follows the
    marker is the text the page begins with, wherever that is (inside a paragraph, a list item, a link)."""
    opf, base = _opf(epub)
    nav = etree.fromstring(epub.read(f"{base}/nav.xhtml"))
    entries = nav.xpath("//x:nav[@epub:type='page-list']//x:a", namespaces=NS)
    front = min(e.page_index for e in pdf.outline if e.level == 1)  # numbered apart: i, ii…
    assert [int(a.text) for a in entries] == list(range(1, len(pdf.pages) - front + 1))
    printed = pdf_pages(pdf.path)
    for a in entries:
        page = int(a.text)
        doc_name, _, anchor = a.get("href").partition("#")
        doc = etree.fromstring(epub.read(f"{base}/{doc_name}"))
        markers = doc.xpath(f"//*[@id='{anchor}']", namespaces=NS)
        assert len(markers) == 1, anchor
        marker = markers[0]
        assert marker.get("{http://www.idpf.org/2007/ops}type") == "pagebreak" and marker.get("aria-label") == str(page)
        assert any(etree.QName(e).localname in BLOCKS for e in marker.iterancestors()), f"page {page}: in a block"
        assert letters_after(marker) == page_letters(printed[pdf.index_of(page)], built.meta["title"]), \
            f"page {page} begins where its marker is"
        assert pdf.printed_number(pdf.index_of(page)) == page


def pdf_pages(path) -> list[str]:
    """The text of every page of a PDF, by poppler's ``pdftotext`` (which make test installs), laid out."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def _before(doc: etree._Element, block: etree._Element) -> str:
    blocks = [el for el in doc.iter(*(f"{{{NS['x']}}}{tag}" for tag in BLOCKS)) if _opening(el)]
    return _opening(blocks[blocks.index(block) - 1])


def test_page_list_marks_the_first_block_whose_text_is_on_the_page(epub: zipfile.ZipFile, pdf) -> None:
    """The block before each page's marker began on an earlier page of the sections (not the contents, which
    list the headings): no block printed on the page comes before its marker."""
    opf, base = _opf(epub)
    nav = etree.fromstring(epub.read(f"{base}/nav.xhtml"))
    first = min(e.page_index for e in pdf.outline if e.level == 1) + 1
    late = []
    for a in nav.xpath("//x:nav[@epub:type='page-list']//x:a", namespaces=NS):
        page = int(a.text)
        doc_name, _, anchor = a.get("href").partition("#")
        doc = etree.fromstring(epub.read(f"{base}/{doc_name}"))
        marker = doc.xpath(f"//*[@id='{anchor}']", namespaces=NS)[0]
        block = next(e for e in marker.iterancestors() if etree.QName(e).localname in BLOCKS)
        if etree.QName(block).localname == "h1":
            continue
        before, index = _before(doc, block), pdf.index_of(page)  # the front is numbered apart
        if before not in normalise("\n".join(pdf.pages[first - 1:index])) \
                or normalise(pdf.pages[index]).startswith(before):
            late.append(page)
    assert late == []


@pytest.mark.parametrize("how", ["speed-ups on", "speed-ups off", "page map kept"])
def test_epub_built_alone_is_the_epub_built_beside_the_pdf(built, tmp_path, monkeypatch, how: str) -> None:
    """An EPUB built without the PDF (laying the print edition out for its page list, or reading the page
    map an earlier build kept) is, byte for byte, the one built with it."""
    from briefpress.cli import main

    if how == "speed-ups off":
        monkeypatch.setenv("BRIEFPRESS_SPEEDUPS", "off")
    else:
        monkeypatch.delenv("BRIEFPRESS_SPEEDUPS", raising=False)
    out = tmp_path / "alone"
    if how == "page map kept":
        shutil.copytree(built.out / ".briefpress-cache", out / ".briefpress-cache")
    assert main(["build", str(BRIEF), "--format", "epub", "--out", str(out), "--strict"]) == 0
    name = built.path("epub").name
    assert sorted(path.name for path in out.iterdir()) == [".briefpress-cache", name]
    assert (out / name).read_bytes() == built.path("epub").read_bytes()
