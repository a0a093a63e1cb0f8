"""The Kazakhstan brief itself: its five sections, chronology, chart, cleanliness and every key fact."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import pikepdf
import pytest
import yaml
from lxml import etree, html as lxml_html

from tools.checks import PdfReport, normalise
from tools.paths import BRIEF, ROOT

NS = {"x": "http://www.w3.org/1999/xhtml"}
BODY_TITLES = ["Summary", "Reform chronology", "Election motives", "Outlook"]
ARTEFACTS = ("Comments Off", "Content is protected", "error: Content")


def _data(name: str) -> dict:
    return yaml.safe_load((BRIEF / "data" / f"{name}.yaml").read_text(encoding="utf-8"))


def _epub_text(epub: zipfile.ZipFile) -> str:
    parts = []
    for name in sorted(epub.namelist()):
        if name.endswith(".xhtml") or name.endswith(".ncx"):
            parts.append(" ".join(etree.fromstring(epub.read(name)).itertext()))
    return normalise(" ".join(parts))


def _epub_doc(epub: zipfile.ZipFile, section_id: str) -> etree._Element:
    name = next(n for n in epub.namelist() if n.endswith(f"/{section_id}.xhtml"))
    return etree.fromstring(epub.read(name))


def test_five_body_sections_in_order(pdf: PdfReport, built) -> None:
    body = [s for s in built.sections if s.get("role", "body") == "body"]
    assert len(body) == 5
    assert [s["title"] for s in body][:4] == BODY_TITLES
    assert "China" in body[4]["title"] and "Kazakhstan" in body[4]["title"]
    outline = [e.title for e in pdf.outline if e.level == 1]
    assert outline[:5] == [s["title"] for s in body]


def test_summary_fits_on_one_page(pdf: PdfReport) -> None:
    starts = {e.title: e.page_index for e in pdf.outline if e.level == 1}
    assert starts["Reform chronology"] - starts["Summary"] == 1
    assert pdf.pages[starts["Summary"]].count("•") >= 4


def _events_in_date_order() -> list[dict]:
    events = _data("chronology")["events"]
    return sorted(events, key=lambda e: str(e["date"]))


def test_chronology_table_in_epub_has_every_event_in_date_order(epub: zipfile.ZipFile) -> None:
    doc = _epub_doc(epub, "chronology")
    rows = doc.xpath("//x:table/x:tbody/x:tr", namespaces=NS)
    cells = [["".join(td.itertext()).strip() for td in row.xpath("x:td", namespaces=NS)] for row in rows]
    expected = _events_in_date_order()
    assert [c[1] for c in cells] == [normalise(e["event"]).replace("'", "’") for e in expected]
    # the dates printed are in the same order as the ISO dates
    years = [int(re.search(r"\d{4}", c[0]).group()) for c in cells]
    assert years == sorted(years)


def test_chronology_table_in_pdf_has_every_event_in_date_order(pdf: PdfReport) -> None:
    text = pdf.text
    positions = []
    for event in _events_in_date_order():
        phrase = normalise(event["event"])
        assert phrase in text, phrase
        positions.append(text.index(phrase))
    assert positions == sorted(positions)


def test_chart_in_epub_with_alt_text(epub: zipfile.ZipFile) -> None:
    chart = _data("support")
    doc = _epub_doc(epub, "chronology")
    figure = doc.xpath(f"//x:figure[@id='{chart['id']}']", namespaces=NS)
    assert figure, "the chart is a figure"
    img = figure[0].xpath("x:img", namespaces=NS)[0]
    assert img.get("alt") == normalise(chart["alt"])
    caption = "".join(figure[0].xpath("x:figcaption", namespaces=NS)[0].itertext())
    assert caption == "Figure\u00a01: " + normalise(chart["caption"])  # the brief's one figure
    svg = etree.fromstring(epub.read(f"EPUB/{img.get('src')}"))
    bars = svg.xpath("//*[local-name()='rect'][@height < 100]")
    assert len(bars) == len(chart["bars"])
    for bar in chart["bars"]:
        assert bar["display"] in "".join(svg.itertext())


def test_chart_in_pdf_with_alt_text(pdf: PdfReport, built) -> None:
    chart = _data("support")
    text = pdf.text
    assert normalise(chart["caption"]) in text
    for bar in chart["bars"]:
        assert bar["display"] in text and bar["label"] in text
    with pikepdf.open(built.path("pdf")) as doc:
        figures = [str(obj.get("/Alt")) for obj in doc.objects
                   if isinstance(obj, pikepdf.Dictionary) and obj.get("/S") == "/Figure"]
    assert normalise(chart["alt"]) in figures


def test_chart_in_html_with_alt_text(built) -> None:
    chart = _data("support")
    page = lxml_html.fromstring(built.path("html").read_bytes())
    img = page.xpath(f"//figure[@id='{chart['id']}']/img")[0]
    assert img.get("alt") == normalise(chart["alt"])
    assert img.get("src").startswith("data:image/svg+xml;base64,")


def test_cross_references_work(epub: zipfile.ZipFile, pdf: PdfReport, built) -> None:
    # EPUB: every link inside the book leads to a document and an id that exist.
    ids = {}
    for name in epub.namelist():
        if name.endswith(".xhtml"):
            for element in etree.fromstring(epub.read(name)).xpath("//*[@id]"):
                ids.setdefault(name.rsplit("/", 1)[-1], set()).add(element.get("id"))
    summary = _epub_doc(epub, "summary")
    links = summary.xpath("//x:a[contains(@href, 'chronology')]/@href", namespaces=NS)
    assert links, "the summary links to the chronology"
    assert all(link.partition("#")[0] == "chronology.xhtml" for link in links), links
    for name in epub.namelist():
        if name.endswith(".xhtml") and not name.endswith("nav.xhtml"):
            for href in etree.fromstring(epub.read(name)).xpath("//x:a/@href", namespaces=NS):
                if href.startswith("http") or href.startswith("mailto:"):
                    continue
                file, _, frag = href.partition("#")
                file = file or name.rsplit("/", 1)[-1]
                assert file in ids, href
                assert not frag or frag in ids[file], href

    # PDF: every internal link names a destination that exists; the summary's lead to the chronology's page.
    starts = {e.title: e.page_index for e in pdf.outline if e.level == 1}
    with pikepdf.open(built.path("pdf")) as doc:
        pages = {page.obj.objgen: index for index, page in enumerate(doc.pages)}
        dests = {str(name): pages[dest[0].objgen] for name, dest in pikepdf.NameTree(doc.Root.Names.Dests).items()}
        internal = [(index, str(annot.Dest)) for index, page in enumerate(doc.pages)
                    for annot in page.obj.get("/Annots", []) if annot.get("/Subtype") == "/Link" and "/Dest" in annot]
    body_links = [(index, name) for index, name in internal if index >= starts["Summary"]]
    assert len(body_links) >= 3
    missing = [name for _, name in internal if name not in dests]
    assert missing == []
    from_summary = [name for index, name in internal if index == starts["Summary"] and name == "chronology"]
    assert from_summary and dests["chronology"] == starts["Reform chronology"]

    # HTML: every fragment link leads to an id on the page.
    page = lxml_html.fromstring(built.path("html").read_bytes())
    page_ids = set(page.xpath("//@id"))
    fragments = [href[1:] for href in page.xpath("//a/@href") if href.startswith("#")]
    assert "#chronology" in page.xpath("//section[@id='summary']//a/@href")
    assert [f for f in fragments if f not in page_ids] == []


@pytest.mark.parametrize("fmt", ["pdf", "epub", "html"])
def test_no_scraping_artefacts(built, fmt: str, pdf: PdfReport, epub: zipfile.ZipFile) -> None:
    if fmt == "pdf":
        text = pdf.text
    elif fmt == "epub":
        text = _epub_text(epub)
    else:
        text = normalise(lxml_html.fromstring(built.path("html").read_bytes()).text_content())
    for artefact in ARTEFACTS:
        assert artefact not in text


KEY_FACTS = yaml.safe_load((ROOT / "tests" / "data" / "key_facts.yaml").read_text(encoding="utf-8"))


def test_key_facts_list_is_substantial() -> None:
    assert len(KEY_FACTS) >= 40


def test_every_key_fact_reaches_the_pdf(pdf: PdfReport) -> None:
    text = pdf.text
    missing = [fact for fact in KEY_FACTS if fact not in text]
    assert missing == []


def test_every_key_fact_reaches_the_epub(epub: zipfile.ZipFile) -> None:
    text = _epub_text(epub)
    missing = [fact for fact in KEY_FACTS if fact not in text]
    assert missing == []


def test_editorial_note_lists_corrections() -> None:
    about = (BRIEF / "sections" / "90-about.md").read_text(encoding="utf-8")
    for original, corrected in [("Zhanaojin", "Zhanaozen"), ("Korgos-Dongdaemun", "Khorgos"), ("Kayev", "Tokayev")]:
        assert original in about and corrected in about


def test_brief_metadata_is_complete(built) -> None:
    meta = built.meta
    for key in ("title", "subtitle", "authors", "date", "lang", "identifier", "publisher", "rights",
                "description", "subjects", "slug"):
        assert meta.get(key), key
    assert meta["lang"] == "en" and isinstance(meta["date"], dt.date)
