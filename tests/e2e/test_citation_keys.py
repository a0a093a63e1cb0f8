"""Citation keys read as pandoc reads them, and never cited silently wrong: a bracket whose keys hold ``;`` or
``]`` in braces is one citation, as in pandoc; a CSL-YAML id pandoc reads otherwise than it is written stops the
build at its own line; a key pandoc finds no reference for is an error at the citation's line, never printed as
pandoc's bold ``key?``; and a run that takes too long names its cause."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from lxml import html as lxml_html

from briefpress.cli import main
from briefpress.model import BibFile
from briefpress.references import _styles_dir, default_style
from briefpress.render import citenames, citeproc, pandoc
from briefpress.render.cites import CiteSyntax
from briefpress.render.markdown import create_parser
from tools.checks import normalise

pypandoc = pytest.importorskip("pypandoc", reason="pandoc (PyPI pypandoc-binary) is the oracle")

REFS = [{"id": key, "type": "book", "title": f"Work {n}", "author": [{"family": family, "given": given}],
         "issued": {"date-parts": [[2010 + n]]}}
        for n, (key, family, given) in enumerate([("a;b", "Roe", "Rick"), ("a]b", "Doe", "Jane"),
                                                  ("c", "Poe", "Pat"), ("&amp;", "Loe", "Lou"),
                                                  ("a{b}c", "Moe", "Max"), ("d", "Noe", "Ned")])]


def _write_brief(tmp_path: Path, section: str, bibliography: str = "refs.json", refs: str | None = None,
                 csl: str = "chicago-author-date") -> Path:
    root = tmp_path / "brief"
    (root / "sections").mkdir(parents=True)
    (root / bibliography).write_text(refs if refs is not None else json.dumps(REFS), encoding="utf-8")
    (root / "sections" / "a.md").write_text(f"---\ntitle: A\n---\n\n{section}", encoding="utf-8")
    (root / "brief.yaml").write_text(
        "title: Keys\nlang: en-US\nidentifier: urn:x:keys\ndate: 2026-01-01\nslug: keys\n"
        f"sections: [sections/a.md]\nbibliography: {bibliography}\ncsl: {csl}\n", encoding="utf-8")
    return root


def _pandoc_cites(text: str) -> list[tuple[list[str], bool]]:
    """pandoc's citations in ``text``: the keys of each, and whether it is narrative."""
    reader = citeproc.READER
    tree = json.loads(subprocess.run([pypandoc.get_pandoc_path(), "-f", reader, "-t", "json"], input=text,
                                     capture_output=True, text=True, check=True).stdout)
    found: list[tuple[list[str], bool]] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("t") == "Cite":
                citations = node["c"][0]
                found.append(([c["citationId"] for c in citations],
                              citations[0]["citationMode"]["t"] == "AuthorInText"))
                return
            walk(node.get("c"))
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(tree["blocks"])
    return found


def _our_cites(text: str) -> list[tuple[list[str], bool]]:
    found = []
    for token in create_parser().parse(text, {"cite_syntax": CiteSyntax()}):
        for child in token.children or []:
            if child.type == "citation":
                found.append(([item.id for item in child.meta["items"]], child.meta["narrative"]))
    return found


#: Brackets and narrative citations, each read by pandoc as the comment says.
READINGS = [
    "[@{a;b}]",  # a semicolon in a key in braces
    "[@{a;b}; @c]",
    "[@c; @{a;b}, p. 3]",
    "[-@{a;b}]",
    "[@{a;b}, p. 3; -@{c;d}]",
    "[see @{a]b}, p. 3]",  # a closing bracket in braces
    "[@{a{b}c}]",  # balanced braces
    "[@{&amp;}]",
    "[@{x}y}]",  # the key ends where its braces balance
    "[@{a\\}b}]",  # a backslash does not escape in braces
    "[{x;y} @c]",  # a semicolon in braces in a prefix or suffix is no key's: not a citation
    "[@c, {p. 3; 4}]",
    "[@c, `a;b`]",  # a code span, an escape, a character reference, an autolink, a link
    "[@c, a\\;b]",
    "[@c, a &amp; b; @d]",
    "[@c, <http://x;y>]",
    "[@c, [x;y](http://a;b)]",
    "[see @a; @b, `x;y` z; c @d]",
    "@{a;b} [p. 3]",  # narrative, with a locator, and with citations after it
    "@c [p. 3; @d]",
    "@c [see @d]",
    "@c [p. 3; 4]",
    "[@a..b]",  # a key's punctuation stands between two word characters
    "x.@a and [see.@a]",
]


def test_brackets_are_read_as_pandoc_reads_them() -> None:
    """Each text's citations, their keys and whether each is narrative, as pandoc reads them."""
    assert {text: _our_cites(text) for text in READINGS} == {text: _pandoc_cites(text) for text in READINGS}


def test_a_key_in_braces_with_a_semicolon_is_cited_as_pandoc_cites_it(tmp_path: Path) -> None:
    """``[@{a;b}]`` was read as a narrative citation inside literal brackets: "[Roe (2010)]"."""
    text = ("One [@{a;b}]. Two [@{a;b}, p. 3; @c]. Three [see @{a]b}]. Four [@{&amp;}; @{a{b}c}]. Five @d [p. 4; "
            "@c]. Six @d [p. 4; 5].\n")
    out = tmp_path / "dist"
    assert main(["build", str(_write_brief(tmp_path, text)), "--format", "html", "--out", str(out)]) == 0
    ours = lxml_html.fromstring((out / "keys.html").read_bytes()).xpath('//section[@id="a"]//p')[0]
    (tmp_path / "refs.json").write_text(json.dumps(REFS), encoding="utf-8")
    html = subprocess.run([pypandoc.get_pandoc_path(), "-f", citeproc.READER, "-t", "html", "--citeproc",
                           "--bibliography", str(tmp_path / "refs.json")], input=text, capture_output=True,
                          text=True, check=True).stdout
    theirs = lxml_html.fromstring(f"<div>{html}</div>").xpath("//p")[0]
    assert normalise(ours.text_content()) == normalise(theirs.text_content()) == (
        "One (Roe 2010). Two (Roe 2010, 3; Poe 2012). Three (see Doe 2011). Four (Loe 2013; Moe 2014). Five Noe "
        "(2015, 4; Poe 2012). Six Noe (2015) [p. 4; 5].")


@pytest.mark.parametrize("written, yaml_id, read", [
    ("a*b*c", "a*b*c", "abc"),
    ("a'b", '"a\'b"', "a’b"),
    ('x"><b>y', "'x\"><b>y'", "x”>y"),
    ("x&lt;y", "x&lt;y", "x<y"),
])
def test_a_csl_yaml_id_pandoc_reads_otherwise_stops_the_build(tmp_path: Path, capsys, written: str,
                                                               yaml_id: str, read: str) -> None:
    """pandoc reads a CSL-YAML field as Markdown, its id too; the citation of the id as written found nothing,
    and pandoc printed its bold ``key?`` with no warning."""
    refs = ("references:\n- id: plain\n  type: book\n  title: Plain\n  issued: {date-parts: [[2020]]}\n"
            f"- id: {yaml_id}\n  type: book\n  title: Marked\n  author: [{{family: Roe, given: Rick}}]\n"
            "  issued: {date-parts: [[2019]]}\n")
    root = _write_brief(tmp_path, f"One [@plain]. Two [@{{{written}}}].\n", "refs.yaml", refs)
    out = tmp_path / "dist"
    assert main(["build", str(root), "--format", "html", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert re.match(rf"\S*refs\.yaml:6: error: reference id '{re.escape(written)}' is read by pandoc as "
                    rf"'{re.escape(read)}'.*: use an id of letters and digits", err), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and not out.exists()


def test_each_csl_yaml_id_pandoc_reads_otherwise_is_reported_at_its_line(tmp_path: Path, capsys) -> None:
    """Every id pandoc misreads, in every file, is an error at the reference's own line (it was one error at the
    first file, naming no line)."""
    root = _write_brief(tmp_path, "One [@plain]. Two [@{a*b*}]. Three [@{c'd}]. Four [@{e&amp;f}].\n", "one.yaml",
                        "references:\n- id: plain\n  type: book\n- id: a*b*\n  type: book\n"
                        "- id: \"c'd\"\n  type: book\n")
    (root / "two.yaml").write_text("- id: ok\n  type: book\n- id: e&amp;f\n  type: book\n", encoding="utf-8")
    yaml_text = (root / "brief.yaml").read_text(encoding="utf-8")
    (root / "brief.yaml").write_text(yaml_text.replace("bibliography: one.yaml", "bibliography: [one.yaml, two.yaml]"),
                                     encoding="utf-8")
    out = tmp_path / "dist"
    assert main(["build", str(root), "--format", "html", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    lines = [re.sub(r"^\S*/", "", line) for line in err.strip().splitlines() if ": error: " in line]
    assert [line.split(" (it reads")[0] for line in lines] == [
        "one.yaml:4: error: reference id 'a*b*' is read by pandoc as 'ab'",
        "one.yaml:6: error: reference id 'c'd' is read by pandoc as 'c’d'",
        "two.yaml:3: error: reference id 'e&amp;f' is read by pandoc as 'e&f'",
    ], err
    assert "Traceback" not in err and not out.exists()


def test_plain_csl_yaml_ids_are_not_given_to_pandoc_to_check(tmp_path: Path, monkeypatch) -> None:
    """The check costs a brief whose ids are all plain no pandoc run."""
    (tmp_path / "bibliography-0.yaml").write_text(
        "references:\n- id: smith2020\n  type: book\n- id: doe-2019:a_b/c.d\n  type: book\n", encoding="utf-8")
    (tmp_path / "bibliography-1.json").write_text('[{"id": "a*b", "type": "book"}]', encoding="utf-8")

    def refuse(*args, **kwargs):
        raise AssertionError("pandoc run")

    monkeypatch.setattr(pandoc.Runs, "start", refuse)
    assert citenames.misread(str(tmp_path), ["bibliography-0.yaml", "bibliography-1.json"]) == []


def test_a_key_pandoc_finds_no_reference_for_is_reported_and_not_printed_in_bold() -> None:
    """pandoc prints a key it has no reference for in bold with a question mark (``<strong>nope?</strong>``);
    the engine's answer says which clusters cite one, and prints them as written."""
    files = [BibFile("refs.json", json.dumps(REFS))]
    clusters = [citeproc.Cluster((citeproc.CiteItem("nope"),), source="[@nope]"),
                citeproc.Cluster((citeproc.CiteItem("c"),), source="[@c]")]
    out = citeproc.format_brief(default_style(), "en-US", files, clusters, False)
    assert out.missing == ((0, "nope"),) and 0 in out.unread
    assert out.clusters[0].text == "[@nope]" and "<" not in out.clusters[0].text
    assert normalise(out.clusters[1].text.replace("</a>", "")).endswith("Poe 2012)")


def test_a_csl_yaml_bibliography_is_read_for_its_names(tmp_path: Path) -> None:
    """The names of a CSL-YAML file were read as none (pandoc read it as a document of no metadata), so the
    global given-name rule was relaxed even where two cited people share a family name."""
    (tmp_path / "bibliography-0.yaml").write_text(
        "references:\n- id: a\n  type: book\n  author: [{family: Jones, given: Eric}]\n"
        "- id: b\n  type: book\n  author: [{family: Jones, given: Gareth}]\n", encoding="utf-8")
    style = default_style()
    assert citenames.by_cite_when_unambiguous(style, str(tmp_path), ["bibliography-0.yaml"], {"a", "b"}) == style


def test_under_a_primary_name_rule_only_first_names_are_compared(tmp_path: Path, monkeypatch) -> None:
    """Under ``primary-name`` rules pandoc compares only the first name of each name variable: co-authors of
    one family, or a second author of the family of another work's first, leave the text as it is under
    ``by-cite``, so the rule is relaxed there, and kept where two first names share a family."""
    refs = [{"id": "a", "type": "book", "title": "A", "issued": {"date-parts": [[2020]]},
             "author": [{"family": "Jones", "given": "Mary"}, {"family": "Smith", "given": "John"}]},
            {"id": "b", "type": "book", "title": "B", "issued": {"date-parts": [[2021]]},
             "author": [{"family": "Smith", "given": "Peter"}]},
            {"id": "c", "type": "book", "title": "C", "issued": {"date-parts": [[2010]]},
             "author": [{"family": "Junisbai", "given": "Barbara"}, {"family": "Junisbai", "given": "Azamat"}]},
            {"id": "d", "type": "book", "title": "D", "issued": {"date-parts": [[2012]]},
             "author": [{"family": "Lee", "given": "Ann"}]},
            {"id": "e", "type": "book", "title": "E", "issued": {"date-parts": [[2013]]},
             "editor": [{"family": "Lee", "given": "Carl"}]}]
    (tmp_path / "bibliography-0.json").write_text(json.dumps(refs), encoding="utf-8")
    style = default_style()
    relaxed = citenames.by_cite_when_unambiguous(style, str(tmp_path), ["bibliography-0.json"], {"a", "b", "c"})
    assert relaxed != style
    kept = citenames.by_cite_when_unambiguous(style, str(tmp_path), ["bibliography-0.json"], {"a", "d", "e"})
    assert kept == style
    text = "[@a; @b]\n\n[@c]\n\n@a\n\n@c [p. 3]\n"
    theirs = subprocess.run([pypandoc.get_pandoc_path(), "-f", citeproc.READER, "-t", "plain", "--citeproc",
                             "--bibliography", str(tmp_path / "bibliography-0.json")], input=text,
                            capture_output=True, text=True, check=True).stdout.split("\n\n")[:4]
    monkeypatch.setattr(citenames, "MANY_CLUSTERS", 0)
    sources = ["[@a; @b]", "[@c]", "@a", "@c [p. 3]"]
    clusters = [citeproc.Cluster(tuple(citeproc.CiteItem(k) for k in keys), source=source,
                                 narrative=source.startswith("@"))
                for keys, source in zip([("a", "b"), ("c",), ("a",), ("c",)], sources)]
    out = citeproc.format_brief(style, "en-US", [BibFile("refs.json", json.dumps(refs))], clusters, False)
    ours = [normalise(lxml_html.fromstring(f"<p>{c.text}</p>").text_content()) for c in out.clusters]
    assert ours == [normalise(t) for t in theirs] == ["(Jones and Smith 2020; Smith 2021)",
                                                       "(Junisbai and Junisbai 2010)", "Jones and Smith (2020)",
                                                       "Junisbai and Junisbai (2010, 3)"]


@pytest.mark.parametrize("given, cause", [
    (("John", "Peter"), r": with two cited people of one family name \(John Smith, Peter Smith\), this style's "
                        r"global given-name rule has pandoc compare every name with every other; to cite this many, use a "
                        r"copy of the style whose <citation> sets givenname-disambiguation-rule=\"by-cite\", which "
                        r"pandoc applies cite by cite"),
    (("John", "John"), r"$"),
])
def test_a_run_that_takes_too_long_names_its_cause(tmp_path: Path, capsys, monkeypatch, given, cause) -> None:
    """Where the style's global given-name rule is kept (two cited people share a family name), pandoc
    compares every name with every other: the message says so, not only that the style took too long. The
    limit is lowered so that it is reached at once. The error stands at the ``csl:`` line, but does not say the
    style cannot be used: the style is sound, the run was too long."""
    refs = [{"id": f"s{n}", "type": "book", "title": f"T{n}", "author": [{"family": "Smith", "given": name}],
             "issued": {"date-parts": [[2000 + n]]}} for n, name in enumerate(given)]
    root = _write_brief(tmp_path, "One [@s0]. Two [@s1].\n", refs=json.dumps(refs))
    monkeypatch.setattr(citenames, "MANY_CLUSTERS", 0)
    monkeypatch.setattr(pandoc, "TIMEOUT", 0.001)
    out = tmp_path / "dist"
    assert main(["build", str(root), "--format", "html", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(r"\S*brief\.yaml:8: error: pandoc was stopped: "
                        rf"formatting 2 citations took longer than 0\.001 s{cause}", err, re.S), err
    assert "style 'chicago-author-date' cannot be used" not in err
    assert "Traceback" not in err and not out.exists()


def _paragraphs_and_notes_ours(path: Path) -> tuple[list[str], list[str]]:
    tree = lxml_html.fromstring(path.read_bytes())
    for back in tree.xpath('//a[@class="note-back"]'):
        back.drop_tree()
    section = tree.xpath('//section[@id="a"]')[0]
    return ([normalise(p.text_content()).strip() for p in section.xpath('.//p[not(ancestor::aside)]')],
            [f"{n}. {normalise(aside.text_content()).strip()}"
             for n, aside in enumerate(tree.xpath('//aside[contains(@class, "footnote")]'), 1)])


def _paragraphs_and_notes_pandoc(text: str, refs: Path, csl: str) -> tuple[list[str], list[str]]:
    html = subprocess.run([pypandoc.get_pandoc_path(), "-f", "markdown", "-t", "html", "--citeproc",
                           "-M", "link-citations=true", "--csl", str(_styles_dir() / f"{csl}.csl"),
                           "--bibliography", str(refs)], input=text, capture_output=True, text=True,
                          check=True).stdout
    tree = lxml_html.fromstring(f"<div>{html}</div>")
    for back in tree.xpath('//a[contains(@class, "footnote-back")]'):
        back.drop_tree()
    notes = tree.xpath('//section[@id="footnotes"]//li')
    return ([normalise(p.text_content()).strip() for p in tree.xpath('//p[not(ancestor::section[@id="footnotes"])]')],
            [f"{n}. {normalise(li.text_content()).strip()}" for n, li in enumerate(notes, 1)])


@pytest.mark.parametrize("csl", ["chicago-notes-bibliography", "oscola"])
def test_a_narrative_citation_before_a_full_stop_under_a_note_style(tmp_path: Path, capsys, csl: str) -> None:
    """``As argued by @c.`` was given to pandoc as ``@c.`` alone in a paragraph, which pandoc's Markdown reads
    as an example list's item: the citation printed "As argued by .", and every later citation of the key
    printed as written, with a warning."""
    text = ("As argued by @c.\n\nLater [@c]. See also @d, and [@c, p. 3]! So @d) says, and @c: yes.\n\n"
            "Again @d? And [see @c].\n")
    out = tmp_path / "dist"
    assert main(["build", str(_write_brief(tmp_path, text, csl=csl)), "--format", "html", "--out", str(out)]) == 0
    assert "warning: citation" not in capsys.readouterr().err
    (tmp_path / "refs.json").write_text(json.dumps(REFS), encoding="utf-8")
    ours = _paragraphs_and_notes_ours(out / "keys.html")
    assert ours == _paragraphs_and_notes_pandoc(text, tmp_path / "refs.json", csl)
    assert ours[0][0] == "As argued by Pat Poe.1"


@pytest.mark.parametrize("csl", ["chicago-author-date", "chicago-notes-bibliography"])
def test_a_key_pandoc_reads_no_reference_for_is_an_error_at_the_citation(tmp_path: Path, capsys, csl: str) -> None:
    """A BibTeX ``@xdata`` entry holds fields for other entries; pandoc reads it as no work, so a citation of its
    key found nothing. It was a warning, and the citation was printed as written in a built edition."""
    bib = "@xdata{shared, publisher={Press}}\n@book{x, title={X}, author={Roe, Rick}, year={2020}}\n"
    root = _write_brief(tmp_path, "One [@x].\nTwo [see @shared, p. 3] and @shared.\n", "refs.bib", bib, csl)
    out = tmp_path / "dist"
    assert main(["build", str(root), "--format", "html", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    lines = [re.sub(r"^\S*/", "", line) for line in err.strip().splitlines()]
    cause = ("pandoc reads no reference 'shared' from refs.bib (line 1 holds an entry of that key, which pandoc "
             "does not take as a work: an @xdata entry, or a key it reads otherwise), so this citation cannot be "
             "formatted")
    assert lines == [f"a.md:6: error: citation '[see @shared, p. 3]': {cause}",
                     f"a.md:6: error: citation '@shared': {cause}"], err
    assert "Traceback" not in err and not out.exists()


#: Straight quotation marks next to citations, each paragraph as pandoc makes them curly.
QUOTED = ['"Also @c" and more.', '"[@c]" here.', "'See @d' and more.", '"x [@c, p. 3]".', '"@c" and "@d."',
          'End "[see @c]."', "@c's view.", "[@c]'s view.", "and '@c' or", "('[@c]')", '"@c," and', '-"@c"-.',
          "He wrote \"quoted [@c]\" and 'single [@c]'.", '"@c" "@d"', '"A" @c "B"', "It's @c's.",
          'A note.[^n]\n\n[^n]: As "said, [see @d]" here, and "so [@c]".']


@pytest.mark.parametrize("csl", ["chicago-author-date", "chicago-notes-bibliography"])
def test_quotation_marks_next_to_a_citation_are_curled_as_pandoc_curls_them(tmp_path: Path, csl: str) -> None:
    """markdown-it's smart quotes look past a token with no text, and a citation has none: ``"Also @c"`` kept
    its straight quotation marks (the closing one seemed to follow a space), where pandoc prints curly ones."""
    text = "\n\n".join(QUOTED) + "\n"
    out = tmp_path / "dist"
    assert main(["build", str(_write_brief(tmp_path, text, csl=csl)), "--format", "html", "--out", str(out)]) == 0
    (tmp_path / "refs.json").write_text(json.dumps(REFS), encoding="utf-8")
    ours = _paragraphs_and_notes_ours(out / "keys.html")
    assert ours == _paragraphs_and_notes_pandoc(text, tmp_path / "refs.json", csl)
    assert not any('"' in text or "'" in text for text in ours[0] + ours[1])


#: Citations side by side under a note style: pandoc removes the space before a note's call, but not the space
#: right after a call whose own space it removed (``x [@a] [@b]`` reads ``x¹ ²``).
ADJACENT = ["Word [@c] [@d] [@c] end.", "Word [@c] [@d] [@c] [@d] y.", "Word[@c] [@d] y.", "Word [^n] [@c] [@d] y.",
            "Word, [@c] [@d], [@c] word.", "Word [-@c] [@d] word.", "Word [@c]. [@d] word.", "Word [@c]; [@d] y.",
            "Word [@c] @d word.", "Word [@c] [see @d, p. 3] and @c.", "Word [@c]\n[@d]\n[@c] y.",
            "Word\n[@c]\n[@d] y.", "[@c] [@d] y.", "[^n]: A note [@c] [@d] of its own."]


def test_the_space_between_two_note_citations_is_pandoc_s(tmp_path: Path) -> None:
    """``x [@a] [@b]`` printed ``x¹²``, where pandoc prints ``x¹ ²``."""
    text = "\n\n".join(ADJACENT) + "\n"
    out = tmp_path / "dist"
    csl = "chicago-notes-bibliography"
    assert main(["build", str(_write_brief(tmp_path, text, csl=csl)), "--format", "html", "--out", str(out)]) == 0
    (tmp_path / "refs.json").write_text(json.dumps(REFS), encoding="utf-8")
    ours = _paragraphs_and_notes_ours(out / "keys.html")
    assert ours == _paragraphs_and_notes_pandoc(text, tmp_path / "refs.json", csl)
    assert ours[0][0] == "Word1 23 end."
