"""Citation keys read as pandoc reads them: a bracket whose keys hold ``;`` or ``]`` in braces is one citation,
as in pandoc."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from lxml import html as lxml_html

from briefpress.cli import main
from briefpress.render import citeproc
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
