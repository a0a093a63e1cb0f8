"""Quarto's forms of cross-references, callouts and fenced divs, read in each edition as a reader meets them.

The fixture brief (tests/briefs/quarto-forms) writes each form as Quarto's documentation and its own test
documents do (quarto-cli's ``tests/docs/crossrefs/`` and ``tests/docs/smoke-all/``); each test checks the text
Quarto's filters print for it (``src/resources/filters/crossref/``, ``customnodes/callout.lua``), in the HTML,
the EPUB and the PDF's text.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pikepdf
import pytest
from lxml import etree
from lxml import html as lxml_html

from briefpress.cli import main
from tools.checks import PdfReport, epub_problems, normalise, pdf_problems, structure_problems
from tools.paths import ROOT

BRIEF = ROOT / "tests" / "briefs" / "quarto-forms"
SLUG = "quarto-forms"
EDITIONS = ("html", "epub", "pdf")


def built(brief: Path, folder: Path) -> Path:
    """``folder``, with the brief built into it, warnings as errors."""
    assert main(["build", str(brief), "--out", str(folder), "--strict"]) == 0
    return folder


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built(BRIEF, tmp_path_factory.mktemp("quarto-forms"))


@pytest.fixture(scope="module")
def text(out: Path) -> dict[str, str]:
    """Each edition's text as a reader meets it."""
    return edition_text(out, SLUG)


def edition_text(out: Path, slug: str) -> dict[str, str]:
    """Each edition's text as a reader meets it, whitespace collapsed: the HTML page's body, the EPUB's
    documents in reading order, the PDF's pages."""
    page = lxml_html.parse(str(out / f"{slug}.html")).getroot()
    html_text = page.xpath("//body")[0].text_content()
    with zipfile.ZipFile(out / f"{slug}.epub") as book:
        opf_name = next(n for n in book.namelist() if n.endswith(".opf"))
        opf = etree.fromstring(book.read(opf_name))
        ns = {"o": "http://www.idpf.org/2007/opf"}
        hrefs = {item.get("id"): item.get("href") for item in opf.xpath("//o:manifest/o:item", namespaces=ns)}
        folder = str(Path(opf_name).parent)
        docs = [book.read(f"{folder}/{hrefs[ref]}" if folder != "." else hrefs[ref])
                for ref in opf.xpath("//o:spine/o:itemref/@idref", namespaces=ns)]
    epub_text = " ".join("".join(etree.fromstring(doc).xpath("//*[local-name()='body']")[0].itertext())
                         for doc in docs)
    pdf_text = PdfReport(out / f"{slug}.pdf").text
    # Quarto's no-break space between a word and its number is kept; the PDF's text layer reads it as a space.
    return {"html": _collapse(html_text), "epub": _collapse(epub_text), "pdf": normalise(pdf_text)}


def _collapse(text: str) -> str:
    """Whitespace collapsed, but for the no-break space (U+00A0) Quarto puts between a word and its number."""
    return re.sub(r"[^\S\u00a0]+", " ", re.sub(r"(\w)-\n(\w)", r"\1\2", text))


def in_every_edition(text: dict[str, str], phrase: str) -> None:
    for edition in EDITIONS:
        expected = phrase.replace("\u00a0", " ") if edition == "pdf" else phrase
        assert expected in text[edition], f"{expected!r} not in the {edition} edition"


def test_epub_passes_epubcheck(out: Path) -> None:
    assert epub_problems(out / f"{SLUG}.epub") == []


def test_capitalised_references(text: dict[str, str]) -> None:
    """``@Fig-x`` prints the prefix capitalised (quarto-cli refs.lua: ``refPrefix(type, upper)``; its test
    ``tests/docs/crossrefs/syntax.qmd`` expects "Figure 1" for ``@Fig-elephant``)."""
    in_every_edition(text, "Capitalised: Figure\u00a01, Table\u00a01 and Section\u00a02.")


def test_references_with_a_prefix_of_their_own(text: dict[str, str]) -> None:
    """``[Fig. @fig-x]`` prints the author's prefix, then the number; ``[-@fig-x]`` the number alone (refs.lua:
    ``cite.prefix`` replaces ``refPrefix``; ``SuppressAuthor`` prints no prefix; syntax.qmd's
    ``[Figure @fig-elephant]`` and ``[-@fig-elephant]``)."""
    in_every_edition(text, "Prefixed: Figure\u00a01, Fig.\u00a01, Tab.\u00a01 and 1 alone.")


def test_callouts_numbered_by_their_ids(text: dict[str, str]) -> None:
    """``#nte-``, ``#tip-``, ``#wrn-``, ``#imp-``, ``#cau-`` number callouts, each kind in its own sequence
    (quarto-cli ``mainstateinit.lua``'s crossref categories Note, Tip, Warning, Important, Caution); the title
    reads "Note 1: Title", or "Note 1" with none (``callouts.lua``: ``titlePrefix``, no delimiter when
    uncaptioned); a reference "Note 1" (``smoke-all/2025/10/21/13589-valid.qmd``)."""
    for title in ("Note\u00a01: A first note", "Tip\u00a01 Tipped.", "Note\u00a02 Noted again.", "Warning\u00a01: Mind",
                  "Important\u00a01 Important.", "Caution\u00a01 Careful."):
        in_every_edition(text, title)
    in_every_edition(text, "Callouts: Note\u00a01, Note\u00a02, Tip\u00a01, Warning\u00a01, Important\u00a01 and "
                           "Caution\u00a01; Note\u00a01.")


def test_a_callouts_first_heading_is_its_title(out: Path, text: dict[str, str]) -> None:
    """``::: callout-tip`` then ``## Title``: the heading is the callout's title (quarto-cli ``callout.lua``
    parse: ``resolveHeadingCaption`` takes a first Header out of the div), not a heading of the document: it is
    in no edition's contents, nor the PDF's outline."""
    in_every_edition(text, "A tip from its heading Headed.")
    in_every_edition(text, "Note\u00a03: Headed note Numbered and headed.")
    in_every_edition(text, "Headed: Note\u00a03.")
    assert not [e for e in PdfReport(out / f"{SLUG}.pdf").outline if "Head" in e.title]
    with zipfile.ZipFile(out / f"{SLUG}.epub") as book:
        nav = next(book.read(n).decode() for n in book.namelist() if n.endswith("nav.xhtml"))
    assert "Headed note" not in nav and "A tip from" not in nav
    page = (out / f"{SLUG}.html").read_text(encoding="utf-8")
    contents = lxml_html.fromstring(page).xpath("//nav")
    assert contents and not any("Headed note" in nav.text_content() for nav in contents)


def test_conditional_content(text: dict[str, str]) -> None:
    """``.content-visible`` and ``.content-hidden`` with ``when-format`` and ``unless-format`` (quarto-cli
    ``customnodes/content-hidden.lua``, ``propertiesMatch``; formats matched by ``_format.lua``'s ``isFormat``:
    "html" is every HTML-based format, EPUB's included, "html:js" not EPUB; "pdf" and "latex" are print)."""
    expected = {
        "Shown where the format is html.": {"html", "epub"},
        "Shown in the web page alone.": {"html"},
        "Shown in print alone.": {"pdf"},
        "Shown unless in print.": {"html", "epub"},
        "Hidden from the e-book.": {"html", "pdf"},
        "Shown in the e-book alone.": {"epub"},
    }
    for phrase, editions in expected.items():
        assert {e for e in EDITIONS if phrase in text[e]} == editions, phrase


def test_nested_divs_with_the_same_colons(out: Path, text: dict[str, str]) -> None:
    """A bare ``:::`` closes the innermost div open, as pandoc's reader does (``Div`` inside ``Div``; a close
    with more colons than the opening closes it too): the box holds its text after the note, and no fence is
    left as text. The callout inside is titled and numbered as Quarto's ``callouts.lua`` titles it."""
    in_every_edition(text, "Box\u00a01: Same colons Box text before the note. Note\u00a04: Inside Inner note text. "
                           "Box text after the note. Nested: Box\u00a01 holds Note\u00a04.")
    in_every_edition(text, "A longer close Closed by more colons than it opened with. After the longer close.")
    for edition in EDITIONS:
        assert ":::" not in text[edition], edition
    page = lxml_html.parse(str(out / f"{SLUG}.html")).getroot()
    with zipfile.ZipFile(out / f"{SLUG}.epub") as book:
        chapters = [etree.fromstring(book.read(n)) for n in book.namelist() if n.endswith(".xhtml")]
    boxes = page.xpath("//section[@id='box-nested']") + [
        box for doc in chapters for box in doc.xpath("//*[local-name()='section'][@id='box-nested']")]
    assert len(boxes) == 2
    for box in boxes:
        paragraphs = [" ".join("".join(p.itertext()).split()) for p in box.xpath("./*[local-name()='p']")]
        assert paragraphs == ["Box text before the note.", "Box text after the note."]
        assert box.xpath("./*[local-name()='section'][@id='nte-inner']")


OPTIONS = ROOT / "tests" / "briefs" / "quarto-crossref-options"
OPTIONS_SLUG = "quarto-crossref-options"


@pytest.fixture(scope="module")
def options_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built(OPTIONS, tmp_path_factory.mktemp("quarto-crossref-options"))


def test_crossref_options(options_out: Path) -> None:
    """brief.yaml's ``crossref:`` takes Quarto's options, as quarto-cli's ``crossref/format.lua`` reads them:
    ``fig-prefix``, ``tbl-prefix``, ``sec-prefix`` and ``nte-prefix`` (``refPrefix``; a capital ``@Nte-x``
    capitalises it), ``fig-title`` and ``nte-title`` (``titlePrefix``), ``title-delim`` after the number, and
    ``ref-hyperlink: false``. The brief's text is ``smoke-all/crossrefs/float/html/html-float-options-1.qmd``'s,
    whose expectations are "Figure&nbsp;1— Elephant", "See F.&nbsp;1.", "See T.&nbsp;1." and no link."""
    text = edition_text(options_out, OPTIONS_SLUG)
    for phrase in ("Supplementary Figure\u00a01\u2014 Elephant See F.\u00a01 for an illustration.",
                   "Table\u00a01\u2014 My Caption", "See T.\u00a01.", "Remark\u00a01\u2014 Mind Noted.",
                   "Then remark\u00a01, Remark\u00a01, sect.\u00a01 and Sect.\u00a01."):
        in_every_edition(text, phrase)
    page = lxml_html.parse(str(options_out / f"{OPTIONS_SLUG}.html")).getroot()
    assert not page.xpath("//main//a[contains(@class, 'xref')]") and len(page.xpath("//span[contains(@class, "
                                                                                    "'xref')]")) == 6
    with zipfile.ZipFile(options_out / f"{OPTIONS_SLUG}.epub") as book:
        documents = [book.read(n).decode() for n in book.namelist() if n.endswith(".xhtml")]
    assert not any('<a class="xref' in d for d in documents)
    assert epub_problems(options_out / f"{OPTIONS_SLUG}.epub") == []
    pdf = PdfReport(options_out / f"{OPTIONS_SLUG}.pdf")
    links = [str(annot.get_object().get("/Dest") or annot.get_object().get("/A"))
             for page_ in pdf.reader.pages for annot in page_.get("/Annots") or []]
    assert not [link for link in links if any(key in link for key in ("fig-elephant", "tbl-letters", "nte-mind"))]


def test_crossref_option_errors_name_their_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Errors in the options' values are reported at their line of brief.yaml."""
    brief = tmp_path / "brief"
    shutil.copytree(OPTIONS, brief)
    yaml = (brief / "brief.yaml").read_text(encoding="utf-8")
    (brief / "brief.yaml").write_text(yaml.replace("fig-prefix: F.", "fig-prefix: [F]").replace(
        "  nte-prefix", "  lst-title: L.\n  nte-prefix"), encoding="utf-8")
    assert main(["build", str(brief), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "brief.yaml:14: error: 'crossref.fig-prefix' must be text (quote it if YAML reads it as something " \
           "else)" in err
    assert "brief.yaml:20: error: 'crossref.lst-title' is an option of Quarto's that a brief does not take" in err


CALLOUTS = ROOT / "tests" / "briefs" / "quarto-callouts"
CALLOUTS_SLUG = "quarto-callouts"


@pytest.fixture(scope="module")
def callouts_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built(CALLOUTS, tmp_path_factory.mktemp("quarto-callouts"))


def _callout_boxes(callouts_out: Path) -> dict[str, list[etree._Element]]:
    """The callouts of the HTML page and of the EPUB's chapter, in reading order."""
    page = lxml_html.parse(str(callouts_out / f"{CALLOUTS_SLUG}.html")).getroot()
    with zipfile.ZipFile(callouts_out / f"{CALLOUTS_SLUG}.epub") as book:
        chapter = etree.fromstring(book.read(next(n for n in book.namelist() if n.endswith("callouts.xhtml"))))
    return {"html": page.xpath("//section[contains(@class, 'callout')]"),
            "epub": chapter.xpath("//*[local-name()='section'][contains(@class, 'callout')]")}


def test_callout_options_print_quartos_titles(callouts_out: Path) -> None:
    """Titles as quarto-cli's ``modules/callouts.lua`` writes them: a callout's own title or first heading
    whatever its options; with none, its kind's name ("Important") in the default appearance, and nothing in
    the simple and minimal ones (``calloutDiv``: ``displayName`` only when ``kCalloutAppearanceDefault``); a
    numbered one "Warning 1: Folded", or "Note 1" untitled (``decorate_callout_title_with_crossref``). A
    collapsed callout's text is in every edition, the PDF printing it open."""
    text = edition_text(callouts_out, CALLOUTS_SLUG)
    for phrase in ("A small note You should note that this is a note. An open tip Open from the start. "
                   "Warning\u00a01: Folded Numbered and folded. No icon Without its icon. Simple A simple callout. "
                   "Minimal A minimal callout. An untitled simple callout. An untitled minimal callout, which "
                   "nothing can open. Note\u00a01 A numbered simple callout. Important The defaults, written out.",
                   "See Warning\u00a01 and Note\u00a01."):
        in_every_edition(text, phrase)


def test_collapsible_callouts_are_details(callouts_out: Path) -> None:
    """``collapse="true"`` and ``"false"`` (quarto-cli ``calloutDiv``: a titled callout only; "true" starts
    collapsed, "false" shown): in the HTML and EPUB a ``details`` element whose ``summary`` is the title, open
    for "false"; the box keeps its role and name (its label, or ``aria-labelledby`` the summary). An untitled
    callout is not collapsible."""
    for edition, boxes in _callout_boxes(callouts_out).items():
        details = {_collapse("".join(box.xpath("./*[local-name()='details']/*[local-name()='summary']")[0]
                                     .itertext())).strip(): box.xpath("./*[local-name()='details']")[0].get("open")
                   for box in boxes if box.xpath("./*[local-name()='details']")}
        assert details == {"A small note": None, "An open tip": "open", "Warning\u00a01: Folded": None}, edition
        names = [box.get("aria-label") or box.get("aria-labelledby") for box in boxes]
        assert names == ["A small note", "An open tip", "wrn-folded-title", "No icon", "Simple", "Minimal", "Tip",
                         "Note", "nte-plain-title", "Important"], edition
        folded = boxes[2].xpath(".//*[@id='wrn-folded-title']")
        assert len(folded) == 1 and etree.QName(folded[0]).localname == "summary", edition
        for box in boxes[:3]:
            assert box.get("role") is None and etree.QName(box).localname == "section"


def test_callout_icons_and_appearance(callouts_out: Path) -> None:
    """``icon="false"`` and ``appearance="minimal"`` leave the icon out (callout.lua's constructor: minimal is
    simple with ``icon = false``); ``appearance="simple"`` and "minimal" are styled as Quarto's
    ``callout-style-simple``."""
    for edition, boxes in _callout_boxes(callouts_out).items():
        classes = [set(box.get("class").split()) for box in boxes]
        assert ["no-icon" in c for c in classes] == [False, False, False, True, False, True, False, True, False,
                                                     False], edition
        assert ["callout-style-simple" in c for c in classes] == [False, False, False, False, True, True, True,
                                                                  True, True, False], edition


def test_callouts_with_options_are_tagged_and_pass_epubcheck(callouts_out: Path) -> None:
    """Each titled callout, collapsible or not, is a Sect whose first child is its heading in the tagged PDF, as
    every box is; the icon is no text in it. The EPUB passes EPUBCheck with ``details`` and ``summary``."""
    path = callouts_out / f"{CALLOUTS_SLUG}.pdf"
    assert structure_problems(path) == [] and pdf_problems(path) == []
    sects = []
    with pikepdf.open(path) as doc:
        stack = [doc.Root.StructTreeRoot.K]
        while stack:
            node = stack.pop()
            if isinstance(node, pikepdf.Array):
                stack.extend(node)
            elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
                kids = node.get("/K")
                kid_list = list(kids) if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]
                tags = [str(k.S) for k in kid_list if isinstance(k, pikepdf.Dictionary) and "/S" in k]
                if str(node.S) == "/Sect" and tags and tags[0] == "/H2":
                    sects.append(tags)
                if kids is not None:
                    stack.append(kids)
    assert len(sects) == 8  # the ten callouts but the two untitled ones
    assert epub_problems(callouts_out / f"{CALLOUTS_SLUG}.epub") == []


@pytest.mark.parametrize(("written", "message"), [
    ('collapse="yes"', 'callout option collapse="yes" is not one Quarto takes: use collapse="true" or '
                       'collapse="false"'),
    ('icon="none"', 'callout option icon="none" is not one Quarto takes: use icon="true" or icon="false"'),
    ('appearance="plain"', 'callout option appearance="plain" is not one Quarto takes: use appearance="default" '
                           'or appearance="simple" or appearance="minimal"'),
])
def test_a_callout_option_written_wrongly_names_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         written: str, message: str) -> None:
    brief = tmp_path / "brief"
    shutil.copytree(CALLOUTS, brief)
    section = brief / "sections" / "01-callouts.md"
    section.write_text(section.read_text(encoding="utf-8").replace(
        '{.callout-note icon="false"}', "{.callout-note " + written + "}"), encoding="utf-8")
    assert main(["build", str(brief), "--out", str(tmp_path / "out")]) == 1
    assert f"01-callouts.md:29: error: {message}" in capsys.readouterr().err


def test_callout_options_on_a_plain_box_are_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    brief = tmp_path / "brief"
    shutil.copytree(CALLOUTS, brief)
    section = brief / "sections" / "01-callouts.md"
    section.write_text(section.read_text(encoding="utf-8").replace(
        '{.callout-note icon="false"}', '{.box icon="false"}'), encoding="utf-8")
    assert main(["build", str(brief), "--out", str(tmp_path / "out")]) == 1
    assert ("01-callouts.md:29: error: 'icon' is an option of callouts: give the div a callout's class "
            "(.callout-note, .callout-tip, .callout-warning, .callout-important, .callout-caution), or leave it "
            "out") in capsys.readouterr().err


def test_an_image_in_a_link_is_a_figure(out: Path, text: dict[str, str]) -> None:
    """``[![Caption](x.png){#fig-x}](https://…)`` is a figure, numbered and referred to, its link kept around
    the image (quarto-cli ``tests/docs/crossrefs/figure-syntax-link.qmd``; ``layout/pandoc3_figure.lua``'s
    ``html_handle_linked_image`` and ``floatreftarget.lua``'s "linked figure Div")."""
    in_every_edition(text, "Figure\u00a02: A linked square See Figure\u00a02 for more.")
    page = lxml_html.parse(str(out / f"{SLUG}.html")).getroot()
    with zipfile.ZipFile(out / f"{SLUG}.epub") as book:
        chapter = etree.fromstring(book.read(next(n for n in book.namelist() if n.endswith("linked.xhtml"))))
    for root in (page, chapter):
        images = root.xpath("//*[local-name()='figure'][@id='fig-linked']/*[local-name()='a']"
                            "[@href='https://example.org/']/*[local-name()='img'][@alt='A linked square']")
        assert len(images) == 1
    path = out / f"{SLUG}.pdf"
    with pikepdf.open(path) as doc:
        uris = [str(annot.get("/A", {}).get("/URI", "")) for page_ in doc.pages for annot in page_.get("/Annots") or []]
        figures, stack = [], [doc.Root.StructTreeRoot.K]
        while stack:
            node = stack.pop()
            if isinstance(node, pikepdf.Array):
                stack.extend(node)
            elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
                if node.S == "/Figure":
                    figures.append(str(node.get("/Alt", "")))
                if node.get("/K") is not None:
                    stack.append(node.K)
    assert "https://example.org/" in uris
    assert sorted(figures) == ["A grey square", "A linked square"]
    assert structure_problems(path) == [] and pdf_problems(path) == []


def test_several_references_in_one_bracket(text: dict[str, str]) -> None:
    """``[@fig-a; @fig-b]`` prints each reference, with Quarto's delimiter before all but the first (quarto-cli
    ``crossref/refs.lua``, ``resolveRefs``: ``refDelim()`` then a space; ``format.lua``: ``ref-delim`` is ","
    by default); ``[-@…; -@…]`` the numbers alone; a prefix of one's own stands for the first reference's
    only (``cite.prefix`` is per citation). ``@fig-a; @fig-b`` is two citations to pandoc, each printed on its
    own, the "; " between them kept."""
    in_every_edition(text, "Together: Figure\u00a01, Figure\u00a02, 1, 2, Figs.\u00a01, Figure\u00a02 and Table\u00a01, "
                           "Section\u00a02, Note\u00a01.")
    in_every_edition(text, "Apart: Figure\u00a01; Figure\u00a02.")


def test_a_bracket_of_references_and_citations_is_an_error(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Quarto's ``resolveRefs`` would drop the citations of such a bracket, printing its references alone."""
    brief = tmp_path / "brief"
    shutil.copytree(BRIEF, brief)
    section = brief / "sections" / "03-linked.md"
    section.write_text(section.read_text(encoding="utf-8").replace("Apart:", "Mixed: [@fig-square; @smith2020].\n\n"
                                                                              "Apart:"), encoding="utf-8")
    assert main(["build", str(brief), "--out", str(tmp_path / "out")]) == 1
    assert ("03-linked.md:14: error: '[@fig-square; @smith2020]' holds cross-references and citations in one "
            "bracket: give each kind a bracket of its own") in capsys.readouterr().err


NUMBERING = ROOT / "tests" / "briefs" / "quarto-numbering"


def test_numbering_styles_and_list_titles(tmp_path: Path) -> None:
    """``crossref``'s ``fig-labels``, ``tbl-labels`` and ``labels`` write numbers as quarto-cli's
    ``crossref/format.lua`` (``formatNumberOption``) does; ``lof-title`` and ``lot-title`` head the lists. The
    brief is ``tests/docs/crossrefs/numbering.qmd`` without its sub-figures (which a brief does not take; its
    ``subref-labels`` changes nothing), whose smoke test expects "Figure&nbsp;x: Elephant" and
    "Table&nbsp;A: My Caption"; a second figure is "y", the letter after "x"."""
    out = built(NUMBERING, tmp_path / "out")
    text = edition_text(out, "quarto-numbering")
    for phrase in ("Figure\u00a0x: Elephant", "See Figure\u00a0x for an illustration.", "Table\u00a0A: My Caption",
                   "See Table\u00a0A.", "Figure\u00a0y: Abbas", "See Figure\u00a0y."):
        in_every_edition(text, phrase)
    assert "Illustrations" in text["pdf"] and "Tabulations" in text["pdf"]
    assert epub_problems(out / "quarto-numbering.epub") == []


@pytest.mark.parametrize("style, numbers", [
    ("roman", ["I", "II", "III", "IV"]), ("roman i", ["i", "ii", "iii", "iv"]), ("alpha a", ["a", "b", "c", "d"]),
    ("arabic", ["1", "2", "3", "4"]), (["*", "†"], ["*", "†", "*", "†"]),
])
def test_each_labels_style_numbers_as_quarto_does(style, numbers) -> None:
    """``formatNumberOption``: ``roman`` upper case unless it ends in ``i``; ``alpha`` from the letter given;
    a list of labels used in turn (``(num - 1) % entryCount + 1``)."""
    from briefpress.model import Numbering

    numbering = Numbering(labels=(("", style if isinstance(style, str) else tuple(style)),))
    assert [numbering.number_label("fig", n) for n in range(1, 5)] == numbers


def test_a_labels_style_quarto_does_not_know_names_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    brief = tmp_path / "brief"
    shutil.copytree(NUMBERING, brief)
    yaml = (brief / "brief.yaml").read_text(encoding="utf-8")
    (brief / "brief.yaml").write_text(yaml.replace("tbl-labels: alpha A", "tbl-labels: greek"), encoding="utf-8")
    assert main(["build", str(brief), "--out", str(tmp_path / "out")]) == 1
    assert "brief.yaml:14: error: 'crossref.tbl-labels' must be arabic, roman, roman i, alpha a" in \
        capsys.readouterr().err


def test_the_briefs_callout_options_are_every_callouts_unless_it_sets_its_own(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``callout-appearance`` and ``callout-icon`` in brief.yaml, as Quarto's callout constructor reads its
    document options (``customnodes/callout.lua``: ``option("callout-appearance", …)`` and
    ``option("callout-icon", …)`` where the callout gives none)."""
    brief = tmp_path / "brief"
    shutil.copytree(CALLOUTS, brief)
    meta = brief / "brief.yaml"
    meta.write_text(meta.read_text(encoding="utf-8") + "callout-appearance: simple\ncallout-icon: false\n",
                     encoding="utf-8")
    out = built(brief, tmp_path / "out")
    source = "".join(p.read_text(encoding="utf-8") for p in sorted((brief / "sections").glob("*.md")))
    own = [re.search(r'appearance="(\w+)"', line) for line in source.splitlines()
           if line.startswith(":::") and ".callout-" in line]
    page = lxml_html.parse(str(out / f"{CALLOUTS_SLUG}.html")).getroot()
    classes = [set(box.get("class").split()) for box in page.xpath("//section[contains(@class, 'callout')]")]
    assert len(classes) == len(own) > 3
    for given, found in zip(own, classes):
        appearance = given.group(1) if given else "simple"
        assert ("callout-style-simple" in found) == (appearance in ("simple", "minimal")), (given, found)
    assert all("no-icon" in c for c, g in zip(classes, own) if not g or g.group(1) != "default")
    meta.write_text(meta.read_text(encoding="utf-8").replace("callout-icon: false", "callout-icon: maybe"),
                    encoding="utf-8")
    assert main(["build", str(brief), "--out", str(tmp_path / "bad")]) == 1
    assert re.search(r"brief\.yaml:\d+: error: 'callout-icon' must be true or false", capsys.readouterr().err)
