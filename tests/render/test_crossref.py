"""Figures, tables, boxes and sections: parsed in Quarto's syntax, numbered once, referred to; and the errors."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from lxml import etree

from briefpress.errors import Diagnostics
from briefpress.load import load_brief
from briefpress.references import attach
from briefpress.render import render_brief

NS = {"x": "http://www.w3.org/1999/xhtml"}
IMAGE = Path(__file__).parents[1] / "briefs" / "minimal" / "images" / "square.png"


def make_brief(root: Path, sections: list[str], extra: str = "") -> Path:
    """A brief of the given section bodies (the first two are body sections, any third is back matter)."""
    (root / "sections").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "images" / "square.png").write_bytes(IMAGE.read_bytes())
    names = []
    for index, body in enumerate(sections, start=1):
        role = "back" if index == 3 else "body"
        name = f"sections/s{index}.md"
        (root / name).write_text(f"---\ntitle: Part {index}\nid: part{index}\nrole: {role}\n---\n\n"
                                 + textwrap.dedent(body), encoding="utf-8")
        names.append(name)
    listing = "".join(f"  - {name}\n" for name in names)
    (root / "brief.yaml").write_text(
        f"title: T\nlang: en\ndate: 2024-01-01\nidentifier: urn:x:1\n{extra}sections:\n{listing}", encoding="utf-8")
    return root


def render(root: Path):
    diags = Diagnostics()
    brief = load_brief(root, diags)
    assert brief is not None, [d.message for d in diags.items]
    brief = attach(brief, diags)  # the bibliography, when brief.yaml names one
    assert brief is not None, [d.message for d in diags.items]
    return render_brief(brief, diags), diags


def body(rendered, index: int, fmt: str = "html") -> etree._Element:
    return etree.fromstring(f'<div xmlns="http://www.w3.org/1999/xhtml">'
                            f'{rendered.html(rendered.sections[index], fmt)}</div>')


def texts(doc: etree._Element, xpath: str) -> list[str]:
    """Each match's text, whitespace collapsed but for the no-break space Quarto puts before a number."""
    return [_collapse("".join(e.itertext())) for e in doc.xpath(xpath, namespaces=NS)]


def _collapse(text: str) -> str:
    return re.sub(r"[^\S\u00a0]+", " ", text).strip()


FIGURES_AND_TABLES = ["""
    ![First *square*](images/square.png){#fig-a}

    | A | B |
    |---|---|
    | 1 | 2 |

    : First table {#tbl-a}

    See @fig-b, [@tbl-b], [-@fig-a] and @box-b, and @sec-part2 and @sec-two.
    """, """
    ## Two {#sec-two}

    ![Second](images/square.png){#fig-b}

    | A | B |
    |---|---|
    | 1 | 2 |
    : Second table {#tbl-b}

    ::: {#box-b .callout-warning title="Careful"}
    Inside.
    :::
    """]


def test_numbers_captions_and_references(tmp_path: Path) -> None:
    rendered, diags = render(make_brief(tmp_path, FIGURES_AND_TABLES))
    assert diags.items == []
    first, second = body(rendered, 0), body(rendered, 1)
    assert texts(first, "//x:figcaption") == ["Figure\u00a01: First square"]
    assert first.xpath("//x:figcaption/x:em", namespaces=NS), "a caption keeps its inline markup"
    assert first.xpath("//x:img/@alt", namespaces=NS) == ["First square"]
    assert texts(first, "//x:table/x:caption") == ["Table\u00a01: First table"]
    assert texts(second, "//x:figcaption") == ["Figure\u00a02: Second"]
    assert texts(second, "//x:table/x:caption") == ["Table\u00a02: Second table"], "a caption line right under a table"
    assert len(second.xpath("//x:table//x:tr", namespaces=NS)) == 2, "the caption is not a row"
    assert texts(second, "//x:section[@id='box-b']/x:h3") == ["Box\u00a01: Careful"]
    links = [(a.get("href"), "".join(a.itertext())) for a in first.xpath("//x:a[@class]", namespaces=NS)]
    # Sections are not numbered in this brief, so a section reference reads its title.
    assert links == [("#fig-b", "Figure\u00a02"), ("#tbl-b", "Table\u00a02"), ("#fig-a", "1"), ("#box-b", "Box\u00a01"),
                     ("#part2", "Part 2"), ("#sec-two", "Two")]
    assert [t.id for t in rendered.numbers.listing("fig")] == ["fig-a", "fig-b"]


def test_numbering_per_section_and_numbered_sections(tmp_path: Path) -> None:
    extra = "number-sections: true\ncrossref:\n  chapters: true\n"
    rendered, diags = render(make_brief(tmp_path, FIGURES_AND_TABLES, extra))
    assert diags.items == []
    first, second = body(rendered, 0), body(rendered, 1)
    assert texts(first, "//x:figcaption") == ["Figure\u00a01.1: First square"]
    assert texts(second, "//x:figcaption") == ["Figure\u00a02.1: Second"]
    assert texts(second, "//x:h2") == ["2.1 Two"]
    links = ["".join(a.itertext()) for a in first.xpath("//x:a[@class]", namespaces=NS)]
    assert links == ["Figure\u00a02.1", "Table\u00a02.1", "1.1", "Box\u00a02.1", "Section\u00a02", "Section\u00a02.1"]


def test_epub_references_cross_documents(tmp_path: Path) -> None:
    rendered, _ = render(make_brief(tmp_path, FIGURES_AND_TABLES))
    hrefs = body(rendered, 0, "epub").xpath("//x:a[@class]/@href", namespaces=NS)
    assert hrefs == ["part2.xhtml#fig-b", "part2.xhtml#tbl-b", "#fig-a", "part2.xhtml#box-b", "part2.xhtml",
                     "part2.xhtml#sec-two"]


def test_pdf_references_ask_for_the_page_only_when_the_brief_does(tmp_path: Path) -> None:
    plain, _ = render(make_brief(tmp_path / "a", FIGURES_AND_TABLES))
    paged, _ = render(make_brief(tmp_path / "b", FIGURES_AND_TABLES, "crossref:\n  pages: true\n"))
    assert "xref-page" not in plain.html(plain.sections[0], "pdf")
    assert body(paged, 0, "pdf").xpath("//x:a[contains(@class, 'xref-page')]", namespaces=NS)
    assert "xref-page" not in paged.html(paged.sections[0], "html"), "pages are the PDF's alone"


def test_box_kinds(tmp_path: Path) -> None:
    rendered, diags = render(make_brief(tmp_path, ["""
        ::: {.callout-note}
        A note.
        :::

        ::: {.box}
        Plain.
        :::

        ::: {#box-x .callout-important title="Read this"}
        Important.
        :::

        ::: {.aside-ish}
        A div.
        :::

        ::: {#box-y .callout-warning}
        Titled by its kind.
        :::
        """]))
    assert diags.items == []
    doc = body(rendered, 0)
    boxes = doc.xpath("//x:section", namespaces=NS)
    assert [b.get("class") for b in boxes] == ["box callout callout-note", "box", "box callout callout-important",
                                               "box callout callout-warning"]
    assert [b.get("aria-label") for b in boxes[:2]] == ["Note", "Box"]
    assert boxes[2].get("aria-labelledby") == "box-x-title"
    assert texts(doc, "//x:section/x:h2") == ["Note", "Box\u00a01: Read this", "Box\u00a02: Warning"]
    assert [t.entry for t in rendered.numbers.listing("box")] == ["Box\u00a01: Read this", "Box\u00a02: Warning"]
    assert doc.xpath("//x:div[@class='aside-ish']", namespaces=NS)


@pytest.mark.parametrize("source, line, message", [
    ("See @fig-sqare.\n\n![S](images/square.png){#fig-square}\n", 1,
     "no figure with the id 'fig-sqare' (did you mean 'fig-square'?)"),
    ("See @tbl-square.\n\n![S](images/square.png){#fig-square}\n", 1,
     "no table with the id 'tbl-square' (did you mean 'fig-square'?)"),
    ("Text.\n\nSee @box-zzzzzz.\n", 3, "no box with the id 'box-zzzzzz' (the brief has no box with an id)"),
    ("See @eq-one.\n", 1, "'@eq-one': equations are not numbered in a brief"),
    ("::: {#box-a .box}\nNever closed.\n", 1, "this box or div is never closed: end it with a line ':::'"),
    ("Text.\n\n: A lost caption {#tbl-lost}\n", 3, "table caption 'A lost caption' has no table before it"),
    ("![S](images/square.png){#tbl-s}\n", 1, "figure id 'tbl-s' must start with 'fig-' (the prefix names the kind)"),
    ("| a |\n|---|\n| 1 |\n\n: C {#fig-c}\n", 5, "table id 'fig-c' must start with 'tbl-' (the prefix names the kind)"),
    ("::: {#fig-d}\nx\n:::\n", 1, "div id 'fig-d' must start with 'box-' to number it as a box (or nte-, tip-, "
                                    "wrn-, imp- or cau- on a callout)"),
    ("::: {.callout-hint}\nx\n:::\n", 1, "unknown callout 'callout-hint': use callout-note, callout-tip, "
                                         "callout-warning, callout-important, callout-caution, or box"),
    ("![S](images/square.png){#fig-s}\n\n![T](images/square.png){#fig-s}\n", 3,
     "duplicate id 'fig-s' (already used in section 'part1')"),
])
def test_errors_at_their_line(tmp_path: Path, source: str, line: int, message: str) -> None:
    root = make_brief(tmp_path, [source])
    rendered, diags = render(root)
    assert rendered is None
    errors = [(d.line, d.message) for d in diags.items if d.severity == "error"]
    # The section's text starts on line 7 of its file (after six lines of front matter and a blank line).
    assert (6 + line, message) in errors, errors


def test_nearest_ids_are_listed_when_none_is_close(tmp_path: Path) -> None:
    root = make_brief(tmp_path, ["![S](images/square.png){#fig-alpha}\n\n![T](images/square.png){#fig-beta}\n\n"
                                 "See @fig-zzzzzzzzzz.\n"])
    _, diags = render(root)
    assert [d.message for d in diags.items] == [
        "no figure with the id 'fig-zzzzzzzzzz' (the figures are fig-alpha, fig-beta)"]


def _cited(tmp_path: Path, text: str) -> Path:
    """A brief with a figure ``fig-s`` and one work to cite, ``doe2020``, whose section ends with ``text``."""
    root = make_brief(tmp_path, ["![S](images/square.png){#fig-s}\n\n" + text], "bibliography: refs.yaml\n")
    (root / "refs.yaml").write_text("- id: doe2020\n  type: book\n  title: A Book\n"
                                    "  author: [{family: Doe, given: Jane}]\n  issued: {date-parts: [[2020]]}\n",
                                    encoding="utf-8")
    return root


def test_citations_and_cross_references_share_the_at_sign(tmp_path: Path) -> None:
    """With a bibliography, ``@fig-x`` is still a cross-reference and ``@key`` a citation."""
    rendered, diags = render(_cited(tmp_path, "As @doe2020 shows in @fig-s [@doe2020, p. 3].\n"))
    assert [d.message for d in diags.items] == []
    html = rendered.html(rendered.sections[0], "html")
    assert re.search(r'<a class="xref xref-fig" href="#fig-s">Figure\u00a01</a>', html)
    assert html.count('class="citation"') == 2


def test_a_box_nests_in_one_with_more_colons(tmp_path: Path) -> None:
    rendered, diags = render(make_brief(tmp_path, ["""
        :::: {#box-outer .box title="Outer"}
        Outer text.

        ::: {.callout-note}
        Inner note.
        :::

        More outer.
        ::::

        After.
        """]))
    assert diags.items == []
    doc = body(rendered, 0)
    outer = doc.xpath("//x:section[@id='box-outer']", namespaces=NS)[0]
    assert texts(outer, "x:section/x:h3") == ["Note"], "the inner box, with its heading a level below"
    assert texts(outer, "x:p") == ["Outer text.", "More outer."]
    assert texts(doc, "/x:div/x:p") == ["After."]


def test_capitalised_references_beside_citations(tmp_path: Path) -> None:
    """``@Fig-x`` (Quarto: the prefix capitalised) is a cross-reference even where ``@key`` cites a work."""
    rendered, diags = render(_cited(tmp_path, "As @doe2020 shows in @Fig-s.\n"))
    assert [d.message for d in diags.items] == []
    assert '<a class="xref xref-fig" href="#fig-s">Figure\u00a01</a>' in rendered.html(rendered.sections[0], "html")


def test_a_prefix_of_ones_own(tmp_path: Path) -> None:
    rendered, diags = render(make_brief(tmp_path, ["![S](images/square.png){#fig-s}\n\n"
                                                   "[Fig. @fig-s], [see fig. @fig-s], [-@fig-s], [x](#fig-s).\n"]))
    assert diags.items == []
    links = ["".join(a.itertext()) for a in body(rendered, 0).xpath("//x:a[@class]", namespaces=NS)]
    assert links == ["Fig.\u00a01", "see fig.\u00a01", "1"]


def test_callouts_numbered_by_quartos_ids(tmp_path: Path) -> None:
    rendered, diags = render(make_brief(tmp_path, ["""
        ::: {#nte-a .callout-note}
        A.
        :::

        ::: {#tip-a .callout-tip title="Try"}
        B.
        :::

        ::: {#nte-b .callout-note}
        C.
        :::

        See @nte-b, @tip-a.
        """]))
    assert diags.items == []
    doc = body(rendered, 0)
    assert texts(doc, "//x:section/x:h2") == ["Note\u00a01", "Tip\u00a01: Try", "Note\u00a02"]
    assert ["".join(a.itertext()) for a in doc.xpath("//x:a[@class]", namespaces=NS)] == ["Note\u00a02", "Tip\u00a01"]


@pytest.mark.parametrize("source, line, message", [
    ("::: {#nte-a .callout-note}\nA.\n:::\n\nSee @nte-b.\n", 5,
     "no note callout with the id 'nte-b' (did you mean 'nte-a'?)"),
    ("::: {#nte-a .box}\nA.\n:::\n", 1, "div id 'nte-a' numbers a callout: give the div a callout's class "
                                        "(.callout-note)"),
])
def test_callout_reference_errors(tmp_path: Path, source: str, line: int, message: str) -> None:
    rendered, diags = render(make_brief(tmp_path, [source]))
    assert rendered is None
    assert (6 + line, message) in [(d.line, d.message) for d in diags.items]


def test_a_callouts_first_heading_is_its_title(tmp_path: Path) -> None:
    rendered, diags = render(make_brief(tmp_path, ["""
        ::: callout-note
        ## The *title* {#sec-gone}

        Body.
        :::

        ::: {.callout-warning title="Given"}
        ## A heading kept

        Body.
        :::
        """]))
    assert diags.items == []
    doc = body(rendered, 0)
    assert texts(doc, "//x:section/x:h2[@class='box-title']") == ["The title", "Given"]
    assert doc.xpath("//x:h2[@class='box-title']/x:em", namespaces=NS), "the heading's markup is kept"
    assert [h.text for h in rendered.sections[0].headings] == ["A heading kept"]


def test_conditional_content_per_edition(tmp_path: Path) -> None:
    rendered, diags = render(make_brief(tmp_path, [
        "::: {.content-visible when-format=\"pdf\"}\nPrint.\n:::\n\n"
        "::: {.content-hidden when-format=\"html\"}\nNot HTML-based.\n:::\n\nAll.\n"]))
    assert diags.items == []
    assert [texts(body(rendered, 0, fmt), "//x:p") for fmt in ("html", "epub", "pdf")] == [
        ["All."], ["All."], ["Print.", "Not HTML-based.", "All."]]
    assert "<div" not in rendered.html(rendered.sections[0], "pdf"), "the content, without its div"


def test_no_heading_inside_conditional_content(tmp_path: Path) -> None:
    rendered, diags = render(make_brief(tmp_path, ["::: {.content-visible when-format=\"html\"}\n## H\n:::\n"]))
    assert rendered is None
    assert [(d.line, d.message) for d in diags.items] == [
        (8, "a heading inside conditional content (.content-visible, .content-hidden) would be in every edition's "
            "contents: make it bold text")]


#: Fenced divs nested with the same number of colons, and pandoc's other readings of their fences.
NESTED_DIVS = {
    "same colons": "::: {.box}\nBox text.\n\n::: {.callout-note}\nNote text.\n:::\n\nMore box text.\n:::\n\nAfter.\n",
    "a longer close": "::: {.box}\nA text.\n\n::: {.callout-note}\nB text.\n::::::\n\nC text.\n:::\n\nD text.\n",
    "a shorter close": ":::: {.box}\nA text.\n:::\n\nB text.\n",
    "three deep": "::: {.box}\nA text.\n\n::: {.x}\nB text.\n\n::: {.callout-tip}\nC text.\n:::\n\nD text.\n:::\n\n"
                  "E text.\n:::\n\nF text.\n",
    "one after another inside": "::: {.box}\n::: {.x}\nA text.\n:::\n\n::: {.y}\nB text.\n:::\n:::\n\nC text.\n",
    "a fence in code": "::: {.box}\n```\n:::\n```\n\nA text.\n:::\n\nB text.\n",
    "in a list item": "- Item.\n\n  ::: {.box}\n  A text.\n\n  ::: {.x}\n  B text.\n  :::\n\n  C text.\n  :::\n\n"
                      "D text.\n",
    "unclosed inside a closed one": "::: {.box}\nA text.\n\n::: {.callout-note}\nB text.\n:::\n\nC text.\n",
    "both unclosed": "::: {.box}\nA text.\n\n::: {.callout-note}\nB text.\n",
}


def _pandoc_divs(source: str) -> list:
    """pandoc's reading of ``source``: each div as (classes, contents), each paragraph or code block as its
    text, lists flattened."""
    import json
    import subprocess

    pypandoc = pytest.importorskip("pypandoc", reason="pandoc (PyPI pypandoc-binary) is the oracle")
    tree = json.loads(subprocess.run([pypandoc.get_pandoc_path(), "-f", "markdown", "-t", "json"], input=source,
                                     capture_output=True, text=True, check=True).stdout)

    def text(inlines: list) -> str:
        return "".join(i["c"] if i["t"] == "Str" else " " for i in inlines if i["t"] in ("Str", "Space", "SoftBreak"))

    def blocks(items: list) -> list:
        out: list = []
        for block in items:
            if block["t"] == "Div":
                out.append((tuple(block["c"][0][1]), blocks(block["c"][1])))
            elif block["t"] in ("Para", "Plain"):
                out.append(text(block["c"]))
            elif block["t"] == "CodeBlock":
                out.append(block["c"][1].rstrip("\n"))
            elif block["t"] == "BulletList":
                out += [b for item in block["c"] for b in blocks(item)]
        return out

    return blocks(tree["blocks"])


def _briefpress_divs(source: str) -> list:
    """briefpress's reading of ``source``, in the same shape as ``_pandoc_divs``."""
    from briefpress.render.divs import parse_attributes
    from briefpress.render.markdown import create_parser

    stack: list[list] = [[]]
    for token in create_parser().parse(source, {}):
        if token.type == "container_div_open":
            contents: list = []
            stack[-1].append((parse_attributes(token.info).classes, contents))
            stack.append(contents)
        elif token.type == "container_div_close":
            stack.pop()
        elif token.type == "inline":
            stack[-1].append(" ".join(token.content.split()))
        elif token.type == "fence":
            stack[-1].append(token.content.rstrip("\n"))
    return stack[0]


@pytest.mark.parametrize("name", NESTED_DIVS)
def test_fenced_divs_nest_as_pandoc_reads_them(name: str) -> None:
    """A bare ``:::`` closes the innermost div open, whatever its number of colons (pandoc's reader)."""
    assert _briefpress_divs(NESTED_DIVS[name]) == _pandoc_divs(NESTED_DIVS[name])


def test_nested_boxes_with_the_same_colons(tmp_path: Path) -> None:
    rendered, diags = render(make_brief(tmp_path, [NESTED_DIVS["same colons"].replace(
        "::: {.box}", '::: {#box-outer .box title="Outer"}')]))
    assert diags.items == []
    doc = body(rendered, 0)
    outer = doc.xpath("//x:section[@id='box-outer']", namespaces=NS)[0]
    assert texts(outer, "x:p") == ["Box text.", "More box text."]
    assert texts(outer, "x:section/x:p") == ["Note text."]
    assert texts(doc, "/x:div/x:p") == ["After."]


@pytest.mark.parametrize("name, lines", [("unclosed inside a closed one", [1]), ("both unclosed", [1, 4])])
def test_unclosed_nested_divs_at_the_end_of_a_section(tmp_path: Path, name: str, lines: list[int]) -> None:
    """pandoc closes them at the end and warns; a brief says which is never closed, at its line."""
    rendered, diags = render(make_brief(tmp_path, [NESTED_DIVS[name]]))
    assert rendered is None
    assert [(d.line, d.message) for d in diags.items] == [
        (6 + line, "this box or div is never closed: end it with a line ':::'") for line in lines]


#: quarto-cli's ``tests/docs/smoke-all/crossrefs/float/html/html-float-options-1.qmd``, as a brief writes it.
QUARTO_OPTIONS = ("crossref:\n  fig-prefix: F.\n  tbl-prefix: T.\n  title-delim: \u2014\n  ref-hyperlink: false\n")
QUARTO_OPTIONS_DOC = """
    ![Elephant](images/square.png){#fig-elephant}

    See @fig-elephant for an illustration.

    | Col1 | Col2 | Col3 |
    |------|------|------|
    | A    | B    | C    |

    : My Caption {#tbl-letters}

    See @tbl-letters.
    """


def test_quartos_crossref_options(tmp_path: Path) -> None:
    """The text that test expects of Quarto ("Figure&nbsp;1— Elephant", "See T.&nbsp;1.", "See F.&nbsp;1.", no
    link): ``refPrefix`` reads ``fig-prefix``, ``titlePrefix`` puts ``title-delim`` after the number, and
    ``ref-hyperlink: false`` links no reference (``crossref/format.lua``, ``refs.lua``)."""
    rendered, diags = render(make_brief(tmp_path, [QUARTO_OPTIONS_DOC], QUARTO_OPTIONS))
    assert diags.items == []
    for fmt in ("html", "epub", "pdf"):
        doc = body(rendered, 0, fmt)
        assert texts(doc, "//x:figcaption") == ["Figure\u00a01\u2014 Elephant"]
        assert texts(doc, "//x:caption") == ["Table\u00a01\u2014 My Caption"]
        assert texts(doc, "//x:p") == ["See F.\u00a01 for an illustration.", "See T.\u00a01."]
        assert not doc.xpath("//x:a", namespaces=NS)


def test_caption_titles_and_reference_prefixes(tmp_path: Path) -> None:
    """``fig-title`` (quarto-cli's ``latex-fig-title.qmd``: 'Supplementary Figure'), ``tbl-title``, ``sec-prefix``
    and the callouts' ``nte-prefix`` and ``nte-title``, which Quarto's ``refPrefix`` and ``titlePrefix`` read for
    every crossref category; a capital ``@Sec-x`` capitalises the prefix given."""
    extra = ("number-sections: true\ncrossref:\n  fig-title: Supplementary Figure\n  tbl-title: Tab.\n"
             "  sec-prefix: sect.\n  nte-prefix: remark\n  nte-title: Remark\n  tip-title: Hint\n")
    rendered, diags = render(make_brief(tmp_path, [QUARTO_OPTIONS_DOC + """
    ::: {#nte-a .callout-note title="Mind"}
    Noted.
    :::

    ::: {#tip-a .callout-tip}
    Tipped.
    :::

    ::: {.callout-note}
    Plain.
    :::

    See @nte-a, @Nte-a, @tip-a, @sec-part1 and @Sec-part1; @fig-elephant, @tbl-letters.
    """], extra))
    assert diags.items == []
    doc = body(rendered, 0)
    assert texts(doc, "//x:figcaption") == ["Supplementary Figure\u00a01: Elephant"]
    assert texts(doc, "//x:caption") == ["Tab.\u00a01: My Caption"]
    assert texts(doc, "//x:section/x:h2") == ["Remark\u00a01: Mind", "Hint\u00a01", "Note"]
    assert [a.text for a in doc.xpath("//x:a", namespaces=NS)] == [
        "Figure\u00a01", "Table\u00a01", "remark\u00a01", "Remark\u00a01", "Tip\u00a01", "sect.\u00a01", "Sect.\u00a01",
        "Figure\u00a01", "Table\u00a01"]


@pytest.mark.parametrize("yaml, message", [
    ("crossref:\n  fig-prefix: [F]\n", "'crossref.fig-prefix' must be text (quote it if YAML reads it as something "
                                       "else)"),
    ("crossref:\n  ref-hyperlink: no-links\n", "'crossref.ref-hyperlink' must be true or false"),
    ("crossref:\n  fig-title: ''\n", "'crossref.fig-title' must not be empty: it starts each caption"),
    ("crossref:\n  fig-prefx: F.\n", "unknown key 'crossref.fig-prefx' (did you mean 'fig-prefix'?)"),
    ("crossref:\n  lst-prefix: L.\n", "'crossref.lst-prefix' is an option of Quarto's that a brief does not take: "
                                      "a brief numbers figures, tables, boxes, callouts and sections"),
    ("crossref:\n  pages: true\n  ref-hyperlink: false\n", "'crossref.pages' prints each reference's page from its "
                                                           "link: with 'ref-hyperlink: false' there is none; drop one "
                                                           "of the two"),
])
def test_crossref_option_errors(tmp_path: Path, yaml: str, message: str) -> None:
    make_brief(tmp_path, ["Text.\n"], yaml)
    diags = Diagnostics()
    load_brief(tmp_path, diags)
    line = 4 + yaml.count("\n")  # after brief.yaml's four lines of metadata, the key is the last line given
    assert [(d.path.name, d.line, d.message) for d in diags.items] == [("brief.yaml", line, message)]
