"""Features of a brief, each seen in the built outputs: front and back matter, the brief's own templates,
stylesheet and cover, links out of the brief, and the dates every edition carries.

The briefs are ``tests/briefs/matter`` (a front, two body and a back section; ``date`` and ``modified``; an
``https`` and a ``mailto`` link) and ``tests/briefs/own-design`` (its own ``templates/_cover.html.j2``,
``styles/print.css`` and ``images/cover.svg``).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pikepdf
import pytest
import yaml
from lxml import etree, html as lxml_html
from pypdf import PdfReader

from briefpress.cli import main
from tools.checks import PdfReport, epub_problems, pdf_problems
from tools.paths import ROOT

BRIEFS = ROOT / "tests" / "briefs"
MATTER = BRIEFS / "matter"
OWN = BRIEFS / "own-design"
NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops",
      "opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
REGISTER = "https://example.org/register?year=2024&kind=full"
MAILTO = "mailto:desk@example.org?subject=Outlook"


def _meta(brief: Path) -> dict:
    return yaml.safe_load((brief / "brief.yaml").read_text(encoding="utf-8"))


def _sections(brief: Path) -> list[dict]:
    """Each listed section's front matter, in brief.yaml order."""
    return [yaml.safe_load((brief / entry).read_text(encoding="utf-8").split("---", 2)[1])
            for entry in _meta(brief)["sections"]]


def _build(brief: Path, out: Path, *args: str) -> tuple[int, str, str]:
    """Build in this process with the command line; return the status, stdout and stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        status = main(["build", str(brief), "--out", str(out), *args])
    return status, stdout.getvalue(), stderr.getvalue()


def _built(brief: Path, out: Path) -> Path:
    with pytest.MonkeyPatch.context() as env:
        env.delenv("SOURCE_DATE_EPOCH", raising=False)
        status, _, err = _build(brief, out, "--strict")
    assert status == 0, err
    return out


@pytest.fixture(scope="module")
def matter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The matter brief, built in every format with --strict."""
    return _built(MATTER, tmp_path_factory.mktemp("matter"))


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The own-design brief, built in every format with --strict."""
    return _built(OWN, tmp_path_factory.mktemp("own-design"))


def _epub_doc(epub: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(epub) as book:
        return etree.fromstring(book.read(f"EPUB/{name}"))


def _opf(epub: Path) -> etree._Element:
    with zipfile.ZipFile(epub) as book:
        return etree.fromstring(book.read(next(n for n in book.namelist() if n.endswith(".opf"))))


def _html(out: Path, slug: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring((out / f"{slug}.html").read_bytes())


def _title_sizes(path: Path, page_index: int) -> dict[str, float]:
    """Each run of text drawn on a page, with its size in points (the largest, for text drawn more than once,
    as a title is again in the running head)."""
    sizes: dict[str, float] = {}

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            points = round(abs(size * (tm[1] * cm[2] + tm[3] * cm[3])), 2)
            sizes[text.strip()] = max(points, sizes.get(text.strip(), 0))

    PdfReader(str(path)).pages[page_index].extract_text(visitor_text=visit)
    return sizes


# Front, body and back matter.

def test_front_body_and_back_sections_pass_the_checks(matter: Path) -> None:
    titles = [s["title"] for s in _sections(MATTER)]
    assert pdf_problems(matter / "matter.pdf", titles) == []
    assert epub_problems(matter / "matter.epub") == []


def test_sections_of_every_role_keep_the_brief_order_in_every_edition(matter: Path) -> None:
    sections = _sections(MATTER)
    assert [s.get("role", "body") for s in sections] == ["front", "body", "body", "back"]
    ids, titles = [s["id"] for s in sections], [s["title"] for s in sections]

    report = PdfReport(matter / "matter.pdf")
    chapters = [e for e in report.outline if e.level == 1]
    assert [e.title for e in chapters] == titles
    pages = [e.page_index for e in chapters]
    assert pages == sorted(set(pages)), "each section starts on a later page than the one before"
    assert [title for title, _ in report.toc_entries() if title in titles] == titles

    opf = _opf(matter / "matter.epub")
    manifest = {item.get("id"): item.get("href") for item in opf.iterfind(".//opf:manifest/opf:item", NS)}
    spine = [manifest[ref.get("idref")] for ref in opf.iterfind(".//opf:spine/opf:itemref", NS)]
    assert spine[-len(ids):] == [f"{i}.xhtml" for i in ids]
    assert spine.index("nav.xhtml") < spine.index(f"{ids[0]}.xhtml"), "the front section follows the contents"

    page = _html(matter, "matter")
    assert page.xpath("//main/section/@id") == ids
    assert page.xpath("//nav[@id='contents']/ol/li/a/@href") == [f"#{i}" for i in ids]


def test_pdf_sets_back_matter_titles_smaller_and_front_matter_as_the_body(matter: Path) -> None:
    path = matter / "matter.pdf"
    report = PdfReport(path)
    start = {e.title: e.page_index for e in report.outline if e.level == 1}
    size = {title: _title_sizes(path, index)[title] for title, index in start.items()}
    assert size["Foreword"] == size["Findings"] == size["Outlook"]
    assert size["Notes on sources"] < size["Findings"]
    contents = _title_sizes(path, next(i for i, text in enumerate(report.pages) if text.startswith("Contents")))
    assert contents["Foreword"] == contents["Findings"] == contents["Outlook"]
    assert contents["Notes on sources"] < contents["Findings"]


def test_epub_marks_front_body_and_back_matter(matter: Path) -> None:
    epub = matter / "matter.epub"
    kinds = {}
    for section in _sections(MATTER):
        doc = _epub_doc(epub, f"{section['id']}.xhtml")
        body = doc.find("x:body", NS)
        element = body.find("x:section", NS)
        assert element.get("id") == section["id"]
        assert f"role-{section.get('role', 'body')}" in element.get("class").split()
        kinds[section["id"]] = (body.get(EPUB_TYPE), element.get(EPUB_TYPE), element.get("role"))
    assert kinds["foreword"] == ("frontmatter", "preface", "doc-preface")
    assert kinds["findings"] == kinds["outlook"] == ("bodymatter", "chapter", "doc-chapter")
    assert kinds["notes"] == ("backmatter", "appendix", "doc-appendix")


def test_epub_landmarks_begin_the_text_at_the_first_body_section(matter: Path) -> None:
    epub = matter / "matter.epub"
    nav = _epub_doc(epub, "nav.xhtml")
    landmarks = nav.xpath("//x:nav[@epub:type='landmarks']//x:a", namespaces=NS)
    by_type = {a.get(EPUB_TYPE): a.get("href") for a in landmarks}
    assert by_type["bodymatter"] == "findings.xhtml"
    assert by_type["toc"] == "nav.xhtml"
    guide = {ref.get("type"): ref.get("href") for ref in _opf(epub).iterfind(".//opf:guide/opf:reference", NS)}
    assert guide["text"] == "findings.xhtml"


def test_html_marks_each_section_and_contents_entry_with_its_role(matter: Path) -> None:
    page = _html(matter, "matter")
    for section in _sections(MATTER):
        role = section.get("role", "body")
        element = page.xpath(f"//main/section[@id='{section['id']}']")[0]
        assert f"role-{role}" in element.get("class").split()
        entry = page.xpath(f"//nav[@id='contents']/ol/li[a/@href='#{section['id']}']")[0]
        assert entry.get("class").split() == [f"toc-{role}"]


# The brief's own templates, stylesheet and cover.

def test_brief_template_overrides_the_package_template_in_every_edition(own: Path) -> None:
    mark = "Cover set by the brief’s own template"
    assert (OWN / "templates" / "_cover.html.j2").read_text(encoding="utf-8").count(mark) == 1
    report = PdfReport(own / "own-design.pdf")
    assert report.pages[0].splitlines()[0] == mark
    assert sum(text.count(mark) for text in report.pages) == 1
    page = _html(own, "own-design")
    assert [p.text for p in page.xpath("//p[@class='own-cover-mark']")] == [mark]
    titlepage = _epub_doc(own / "own-design.epub", "titlepage.xhtml")
    assert [p.text for p in titlepage.xpath("//x:p[@class='own-cover-mark']", namespaces=NS)] == [mark]
    # The package's cover is not drawn as well.
    assert page.xpath("//*[contains(@class, 'cover-kind')]") == []
    assert titlepage.xpath("//*[contains(@class, 'cover-kind')]") == []


def test_brief_print_stylesheet_replaces_the_package_one(own: Path) -> None:
    report = PdfReport(own / "own-design.pdf")
    title = _meta(OWN)["title"]
    assert len(report.pages) >= 3
    # The front (its cover and contents) is numbered apart; the first section's page is 1.
    front = next(i for i, text in enumerate(report.pages) if text.startswith("The only chapter"))
    assert front == 2
    for index, text in enumerate(report.pages):
        number = index + 1 if index < front else index + 1 - front
        assert f"Own print stylesheet, page {number}" in text, index
    # The package's print.css runs the brief's title at the head of every page after the cover; it is unused.
    for text in report.pages[1:]:
        assert title not in text
    # The print stylesheet is the PDF's alone.
    assert b"Own print stylesheet" not in (own / "own-design.html").read_bytes()
    with zipfile.ZipFile(own / "own-design.epub") as book:
        assert not any(b"Own print stylesheet" in book.read(name) for name in book.namelist())


def _cover_item(epub: Path) -> tuple[str, str, bytes]:
    """The EPUB's cover image: its path in the book, media type and bytes."""
    opf = _opf(epub)
    items = [item for item in opf.iterfind(".//opf:manifest/opf:item", NS)
             if "cover-image" in (item.get("properties") or "").split()]
    assert len(items) == 1
    cover_id = opf.find(".//opf:metadata/opf:meta[@name='cover']", NS).get("content")
    assert cover_id == items[0].get("id")
    with zipfile.ZipFile(epub) as book:
        return items[0].get("href"), items[0].get("media-type"), book.read(f"EPUB/{items[0].get('href')}")


def test_brief_cover_image_is_the_epub_cover(own: Path) -> None:
    epub = own / "own-design.epub"
    href, media_type, data = _cover_item(epub)
    assert (href, media_type) == ("images/cover.svg", "image/svg+xml")
    assert data == (OWN / "images" / "cover.svg").read_bytes()
    cover_page = _epub_doc(epub, "cover.xhtml")
    assert cover_page.xpath("//x:img/@src", namespaces=NS) == [href]


def _jpeg() -> bytes:
    from PIL import Image

    stream = io.BytesIO()
    Image.new("RGB", (160, 256), (122, 31, 61)).save(stream, "JPEG")
    return stream.getvalue()


@pytest.mark.parametrize("name, media_type", [("cover.png", "image/png"), ("cover.jpg", "image/jpeg")])
def test_brief_cover_image_in_png_or_jpeg_is_the_epub_cover(tmp_path: Path, name: str, media_type: str) -> None:
    brief = tmp_path / "brief"
    shutil.copytree(OWN, brief)
    (brief / "images" / "cover.svg").unlink()
    data = (BRIEFS / "minimal" / "images" / "square.png").read_bytes() if name.endswith(".png") else _jpeg()
    (brief / "images" / name).write_bytes(data)
    status, _, err = _build(brief, tmp_path / "out", "--strict", "--format", "epub")
    assert status == 0, err
    epub = tmp_path / "out" / "own-design.epub"
    assert _cover_item(epub) == (f"images/{name}", media_type, data)
    assert _epub_doc(epub, "cover.xhtml").xpath("//x:img/@src", namespaces=NS) == [f"images/{name}"]


def test_a_cover_image_also_shown_in_a_section_is_packed_once(tmp_path: Path) -> None:
    brief = tmp_path / "brief"
    shutil.copytree(OWN, brief)
    section = brief / "sections" / "01-only.md"
    section.write_text(section.read_text(encoding="utf-8") + "\n![The cover](images/cover.svg \"The cover\")\n",
                       encoding="utf-8")
    status, _, err = _build(brief, tmp_path / "out", "--strict", "--format", "epub")
    assert status == 0, err
    epub = tmp_path / "out" / "own-design.epub"
    with zipfile.ZipFile(epub) as book:
        names = book.namelist()
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    hrefs = [item.get("href") for item in _opf(epub).iterfind(".//opf:manifest/opf:item", NS)]
    assert len(hrefs) == len(set(hrefs))


# Links out of the brief.

def _pdf_uris(path: Path) -> list[str]:
    with pikepdf.open(path) as pdf:
        return [str(annot.A.URI) for page in pdf.pages for annot in page.obj.get("/Annots", [])
                if annot.get("/Subtype") == "/Link" and "/A" in annot and annot.A.get("/S") == "/URI"]


@pytest.mark.parametrize("url, section", [(REGISTER, "findings"), (MAILTO, "outlook")])
def test_a_link_out_reaches_every_edition_as_a_link(matter: Path, url: str, section: str) -> None:
    source = next((MATTER / "sections").glob(f"*-{section}.md")).read_text(encoding="utf-8")
    assert f"]({url})" in source
    assert _pdf_uris(matter / "matter.pdf").count(url) >= 1
    doc = _epub_doc(matter / "matter.epub", f"{section}.xhtml")
    assert len(doc.xpath("//x:a[@href=$url]", namespaces=NS, url=url)) == 1
    page = _html(matter, "matter")
    assert len(page.xpath(f"//section[@id='{section}']//a[@href=$url]", url=url)) == 1


@pytest.mark.parametrize("href", ["javascript:alert(1)", "JavaScript:void(0)"])
def test_a_javascript_link_is_refused_at_its_line(tmp_path: Path, href: str) -> None:
    brief = tmp_path / "brief"
    shutil.copytree(MATTER, brief)
    section = brief / "sections" / "02-outlook.md"
    lines = section.read_text(encoding="utf-8").splitlines()
    lines += ["", f"[Run it]({href}) now."]
    section.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    status, stdout, err = _build(brief, out)
    assert status == 1
    assert err.splitlines() == [
        f"{os.path.relpath(section)}:{len(lines)}: error: link to '{href}': links must be '#id' "
        "cross-references or http(s)/mailto addresses"]
    assert stdout == "" and not out.exists()


def test_a_refused_link_inside_a_paragraph_is_reported_at_its_own_line(tmp_path: Path) -> None:
    brief = tmp_path / "brief"
    shutil.copytree(MATTER, brief)
    section = brief / "sections" / "02-outlook.md"
    lines = section.read_text(encoding="utf-8").splitlines()
    lines += ["", "A paragraph over two lines, whose second line", "holds [a script](javascript:alert(1))."]
    section.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, _, err = _build(brief, tmp_path / "out")
    assert status == 1
    assert err.startswith(f"{os.path.relpath(section)}:{len(lines)}: error: link to 'javascript:alert(1)'"), err


# Dates.

def _pdf_dates(path: Path) -> dict[str, str]:
    """The PDF's dates: its document information's and its XMP metadata's."""
    with pikepdf.open(path) as pdf:
        info = {key: str(pdf.docinfo[key]) for key in ("/CreationDate", "/ModDate")}
        xmp = pdf.Root.Metadata.read_bytes().decode("utf-8")
    for key in ("CreateDate", "ModifyDate"):
        found = re.findall(rf"<xmp:{key}>([^<]*)</xmp:{key}>", xmp)
        assert len(found) == 1, (key, xmp)
        info[key] = found[0]
    return info


def _epub_dates(path: Path) -> dict[str, str]:
    opf = _opf(path)
    dates = opf.findall(".//opf:metadata/dc:date", NS)
    modified = opf.findall(".//opf:metadata/opf:meta[@property='dcterms:modified']", NS)
    assert len(dates) == 1 and len(modified) == 1
    return {"dc:date": dates[0].text, "dcterms:modified": modified[0].text}


def _html_dates(out: Path, slug: str) -> dict[str, str]:
    page = _html(out, slug)
    return {name: page.xpath(f"//head/meta[@name='{name}']/@content")
            for name in ("dcterms.created", "dcterms.modified")}


def test_date_is_the_creation_date_and_modified_the_modification_date(matter: Path) -> None:
    meta = _meta(MATTER)
    date, modified = meta["date"], meta["modified"]
    assert isinstance(date, dt.date) and isinstance(modified, dt.date) and modified != date
    assert _pdf_dates(matter / "matter.pdf") == {
        "/CreationDate": f"D:{date:%Y%m%d}", "/ModDate": f"D:{modified:%Y%m%d}",
        "CreateDate": date.isoformat(), "ModifyDate": modified.isoformat()}
    assert _epub_dates(matter / "matter.epub") == {
        "dc:date": date.isoformat(), "dcterms:modified": f"{modified.isoformat()}T00:00:00Z"}
    assert _html_dates(matter, "matter") == {
        "dcterms.created": [date.isoformat()], "dcterms.modified": [modified.isoformat()]}


EPOCH = 1700000000
EPOCH_TIME = dt.datetime.fromtimestamp(EPOCH, dt.timezone.utc)


@pytest.fixture(scope="module")
def matter_at_epoch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The matter brief built in every format with ``SOURCE_DATE_EPOCH`` set."""
    out = tmp_path_factory.mktemp("matter-epoch")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
        status, _, err = _build(MATTER, out, "--strict")
    assert status == 0, err
    return out


def test_source_date_epoch_overrides_the_dates_of_every_edition(matter_at_epoch: Path) -> None:
    meta = _meta(MATTER)
    assert EPOCH_TIME.date() not in (meta["date"], meta["modified"])
    stamp = EPOCH_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    pdf_stamp = EPOCH_TIME.strftime("D:%Y%m%d%H%M%SZ")
    assert _pdf_dates(matter_at_epoch / "matter.pdf") == {
        "/CreationDate": pdf_stamp, "/ModDate": pdf_stamp, "CreateDate": stamp, "ModifyDate": stamp}
    assert _epub_dates(matter_at_epoch / "matter.epub")["dcterms:modified"] == stamp
    assert _html_dates(matter_at_epoch, "matter") == {"dcterms.created": [stamp], "dcterms.modified": [stamp]}


def test_source_date_epoch_gives_the_epub_the_creation_date_of_the_other_editions(matter_at_epoch: Path) -> None:
    created = _html_dates(matter_at_epoch, "matter")["dcterms.created"][0]
    assert created == EPOCH_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _epub_dates(matter_at_epoch / "matter.epub")["dc:date"][:10] == EPOCH_TIME.date().isoformat()


@pytest.mark.parametrize("in_parts", [False, True])
def test_a_refused_file_in_a_stylesheet_is_reported_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         in_parts: bool) -> None:
    """A brief's own print.css that asks for a file outside the brief (through a link, which only reading it
    finds): one error line, however many layouts (the stylesheet is parsed once, and a brief in parts is laid
    out several times) the PDF takes."""
    if in_parts:
        import briefpress.editions.pdf as pdf

        monkeypatch.setattr(pdf, "WHOLE_CHARS", 1)
        monkeypatch.setattr(pdf, "PART_CHARS", 1)
    brief = tmp_path / "brief"
    shutil.copytree(OWN, brief)
    css = brief / "styles" / "print.css"
    (brief / "images" / "evil.png").symlink_to("/etc/hostname")
    css.write_text(css.read_text(encoding="utf-8") + "\nbody { background: url(../images/evil.png); }\n",
                   encoding="utf-8")
    status, stdout, err = _build(brief, tmp_path / "out", "--format", "pdf")
    assert status == 1
    lines = [line for line in err.splitlines() if "refused to load" in line]
    assert len(lines) == 1, err
    assert "images/evil.png" in lines[0] and lines[0].startswith(f"{os.path.relpath(brief)}: error: ")
    assert not (tmp_path / "out").exists()
