"""Every citation and bibliography entry reads as pandoc's citeproc writes it, for the same references and CSL file.

The oracle is pandoc (PyPI ``pypandoc-binary``) with ``--citeproc`` and ``link-citations: true``, as briefpress
links each citation to its entry (a link ends a quotation, so a full stop after it stays outside the quotation
marks, in pandoc as here). The corpus (tests/data/references) holds 44
references: reports by organisations, journal, news and magazine articles, web pages with access dates, books
and chapters, laws, addresses, items with no date, transliterated Kazakh, Russian and Chinese names, two works by
one author in one year, and works by six and seven authors. The citations cite each once, then with locators,
prefixes, several works, suppressed authors, narrative forms and repeats (which note styles shorten).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from lxml import html as lxml_html

from briefpress.build import prepare
from briefpress.errors import Diagnostics
from briefpress.references import _styles_dir

DATA = Path(__file__).parents[1] / "data" / "references"
STYLES = ("chicago-author-date", "apa", "chicago-notes-bibliography")

pypandoc = pytest.importorskip("pypandoc", reason="pandoc (PyPI pypandoc-binary) is the oracle")


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", " ", text).strip()


def _text(element) -> str:
    return _norm(element.text_content())


def _pandoc(style: str, lang: str = "en-US") -> tuple[list[str], list[str], dict[str, str]]:
    """Return pandoc's in-text citations, its notes, and its bibliography entries by key."""
    source = f"---\nlang: {lang}\n---\n" + (DATA / "citations.md").read_text(encoding="utf-8")
    out = subprocess.run(
        [pypandoc.get_pandoc_path(), "-f", "markdown", "-t", "html", "--wrap=none", "--citeproc",
         "-M", "link-citations=true",
         "--csl", str(_styles_dir() / f"{style}.csl"), "--bibliography", str(DATA / "corpus.yaml")],
        input=source, capture_output=True, text=True, check=True).stdout
    tree = lxml_html.fromstring(f"<div>{out}</div>")
    for ref in tree.xpath('//a[contains(@class, "footnote-ref") or contains(@class, "footnote-back")]'):
        ref.drop_tree()
    # Under a note style a citation's span holds only its note's call (dropped above), or a narrative author.
    main = '//p[not(ancestor::section[@id="footnotes"])]/span[@class="citation"]'
    cites = [t for t in (_text(span) for span in tree.xpath(main)) if t]
    # ...and citations inside the text's own notes (a note that is a citation holds no span)
    cites += [_text(span) for span in tree.xpath('//section[@id="footnotes"]//span[@class="citation"]')]
    notes = [_text(li) for li in tree.xpath('//section[@id="footnotes"]//li')]
    # pandoc writes an empty entry for a reference the style prints nothing for; briefpress leaves it out, and
    # warns.
    entries = {div.get("id")[4:]: _text(div) for div in tree.xpath('//div[contains(@class, "csl-entry")]')
               if _text(div)}
    return cites, notes, entries


def _ours(tmp_path: Path, style: str, lang: str = "en-US") -> tuple[list[str], list[str], dict[str, str]]:
    brief = tmp_path / "brief"
    (brief / "sections").mkdir(parents=True)
    shutil.copy(DATA / "corpus.yaml", brief / "corpus.yaml")
    (brief / "brief.yaml").write_text(
        f"title: Fidelity\nlang: {lang}\nidentifier: urn:x:fidelity\ndate: 2026-01-01\n"
        f"sections: [sections/a.md]\nbibliography: corpus.yaml\ncsl: {style}\n", encoding="utf-8")
    (brief / "sections" / "a.md").write_text("---\ntitle: A\n---\n" + (DATA / "citations.md").read_text("utf-8"),
                                              encoding="utf-8")
    diags = Diagnostics()
    rendered = prepare(brief, diags)
    assert not diags.errors
    body, refs = rendered.sections
    tree = lxml_html.fromstring(f"<div>{rendered.html(body, 'html')}</div>")
    for ref in tree.xpath('//a[@class="noteref" or @class="note-back"]'):
        ref.drop_tree()
    cites = [_text(span) for span in tree.xpath('//p[not(ancestor::aside)]/span[@class="citation"]')]
    cites += [_text(span) for span in tree.xpath(
        '//aside[not(contains(@class, "citation-note"))]//span[@class="citation"]')]
    notes = [_text(aside) for aside in tree.xpath('//aside[contains(@class, "footnote")]')]
    bib = lxml_html.fromstring(f"<div>{rendered.html(refs, 'html')}</div>")
    entries = {div.get("id")[4:]: _text(div) for div in bib.xpath('//div[contains(@class, "csl-entry")]')}
    return cites, notes, entries


@pytest.fixture(scope="module", params=STYLES)
def both(request, tmp_path_factory):
    style = request.param
    return style, _pandoc(style), _ours(tmp_path_factory.mktemp(style), style)


def test_the_corpus_covers_what_briefs_cite():
    import yaml
    refs = yaml.safe_load((DATA / "corpus.yaml").read_text("utf-8"))["references"]
    types = {r["type"] for r in refs}
    assert len(refs) >= 40
    assert {"report", "article-journal", "article-newspaper", "webpage", "book", "chapter", "legislation",
            "speech"} <= types
    assert any("issued" not in r for r in refs)
    assert any(len(r.get("author", [])) >= 6 for r in refs)


def test_citations_match_pandoc(both):
    style, (p_cites, p_notes, _), (o_cites, o_notes, _) = both
    assert o_cites == p_cites
    assert o_notes == p_notes


def test_bibliography_matches_pandoc(both):
    style, (_, _, p_entries), (_, _, o_entries) = both
    assert list(o_entries) == list(p_entries), "the same entries in the same order"
    mismatched = {k: (o_entries[k], p_entries[k]) for k in p_entries if o_entries[k] != p_entries[k]}
    assert not mismatched


@pytest.mark.parametrize("style", ["chicago-author-date", "apa"])
def test_the_given_name_rule_relaxed_for_many_citations_changes_nothing(style, tmp_path, monkeypatch):
    """With many citations, a style's global given-name rule is run cite by cite where no family name of the
    works cited stands for two people (pandoc's global rule costs the square of the citations). The corpus's
    names are such: the text is still pandoc's with the style as written."""
    from briefpress.render import citenames

    relaxed: list[bool] = []
    real = citenames.by_cite_when_unambiguous

    def spy(style_xml, *args):
        out = real(style_xml, *args)
        relaxed.append(out != style_xml)
        return out

    monkeypatch.setattr(citenames, "MANY_CLUSTERS", 0)
    monkeypatch.setattr(citenames, "by_cite_when_unambiguous", spy)
    assert _ours(tmp_path, style) == _pandoc(style)
    assert relaxed == [True]


def test_the_given_name_rule_is_kept_where_a_family_name_stands_for_two_people(tmp_path):
    from briefpress.references import _styles_dir
    from briefpress.render import citenames

    refs = [{"id": "a", "type": "book", "title": "A", "author": [{"family": "Jones", "given": "Eric"}]},
            {"id": "b", "type": "book", "title": "B", "author": [{"family": "Jones", "given": "Gareth"}]},
            {"id": "c", "type": "book", "title": "C", "author": [{"family": "Zhao", "given": "Li"}]}]
    (tmp_path / "bibliography-0.json").write_text(__import__("json").dumps(refs), encoding="utf-8")
    style = (_styles_dir() / "chicago-author-date.csl").read_text(encoding="utf-8")
    both = citenames.by_cite_when_unambiguous(style, str(tmp_path), ["bibliography-0.json"], {"a", "b"})
    assert both == style
    one = citenames.by_cite_when_unambiguous(style, str(tmp_path), ["bibliography-0.json"], {"a", "c"})
    assert one != style and 'givenname-disambiguation-rule="by-cite"' in one


def test_math_in_a_title_reads_as_pandoc_writes_it(tmp_path):
    """TeX math in a .bib title (``$\\beta$``) is set as pandoc's HTML sets it: Unicode, italics, scripts."""
    brief = tmp_path / "brief"
    (brief / "sections").mkdir(parents=True)
    (brief / "refs.bib").write_text("@article{m1, author={Doe, Jane}, title={On the $\\beta$-function and $x^2$ "
                                    "in $H_2O$}, journal={J}, year={2020}}\n", encoding="utf-8")
    (brief / "sections" / "a.md").write_text("---\ntitle: A\n---\nSee [@m1].\n", encoding="utf-8")
    (brief / "brief.yaml").write_text("title: M\nlang: en-US\nidentifier: urn:x:m\ndate: 2026-01-01\n"
                                      "sections: [sections/a.md]\nbibliography: refs.bib\n", encoding="utf-8")
    rendered = prepare(brief, Diagnostics())
    ours = lxml_html.fromstring(f"<div>{rendered.html(rendered.sections[1], 'html')}</div>")
    out = subprocess.run([pypandoc.get_pandoc_path(), "-f", "markdown", "-t", "html", "--citeproc",
                          "--bibliography", str(brief / "refs.bib")], input="See [@m1].\n",
                         capture_output=True, text=True, check=True).stdout
    theirs = lxml_html.fromstring(f"<div>{out}</div>")
    entry = '//div[contains(@class, "csl-entry")]'
    assert _text(ours.xpath(entry)[0]) == _text(theirs.xpath(entry)[0]) == \
        "Doe, Jane. 2020. “On the β-Function and x2 in H2O.” J."
    assert ours.xpath(entry)[0].xpath(".//sup")[0].text == "2"
