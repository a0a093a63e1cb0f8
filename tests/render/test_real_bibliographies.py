"""Citations on bibliographies nobody wrote for the test read exactly as pandoc writes them, in every edition.

The corpus (tests/data/references/real, sources in its SOURCES.md) is nine bibliography files of eight public
projects, kept unchanged: law (UK, EU and international cases and legislation, biblatex-oscola's examples),
political science, French sociology, linguistics, computer science (arXiv eprints, software), and two CSL-JSON
files; 250 references. ``citations.md`` cites every one in pandoc's forms: locators and ranges, prefixes and
suffixes, clusters, narrative and author-suppressed citations, repeats, and citations inside notes.

The oracle is pandoc (the same ``pypandoc-binary``) reading the same Markdown and files, with
``link-citations: true`` as briefpress links citations. The comparison is paragraph by paragraph, after NFC
and whitespace normalisation: every paragraph of the text with its note calls, every note, and every
bibliography entry, in order, in the HTML edition and the EPUB; and the same paragraphs, notes and entries, in
order, in the PDF's text as printed.
"""

from __future__ import annotations

import difflib
import re
import subprocess
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from briefpress.cli import main
from briefpress.references import _styles_dir
from briefpress.render.citeproc import anchor

REAL = Path(__file__).parents[1] / "data" / "references" / "real"
FILES = REAL.joinpath("corpus.txt").read_text(encoding="utf-8").split()
STYLES = ("ieee", "elsevier-vancouver", "apa", "chicago-author-date", "chicago-notes-bibliography",
          "modern-language-association")
XHTML = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
TITLE = "Real bibliographies"

#: The entries a style prints nothing for, by design, with the reason. pandoc writes them as empty entries
#: (and warns "Bibliography entry with no printed form"); briefpress leaves them out of the bibliography and
#: warns that the reference has no bibliography entry in the style. Every other entry is compared.
EMPTY_BY_DESIGN = {
    # An unsigned entry in a reference work (``@inreference`` without an author: Halsbury's Laws, vol. 57):
    # the Chicago styles list only signed ones (the style cites CMOS 18th ed., 14.132).
    "chicago-author-date": {"halsbury5:57"},
    "chicago-notes-bibliography": {
        "halsbury5:57",
        # An unpublished conference paper (``@inproceedings`` with no proceedings title, publisher, DOI or
        # URL): Chicago's note style leaves those out of the bibliography (the style cites CMOS 18th ed.,
        # 14.115).
        "reliance",
    },
}

pypandoc = pytest.importorskip("pypandoc", reason="pandoc (PyPI pypandoc-binary) is the oracle")


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", " ", text).strip()


def _text(element) -> str:
    return _norm("".join(element.itertext()))


def _call(number: str) -> str:
    """A note's call, written out in a paragraph's text (the same in pandoc's document and ours)."""
    return f"[^{number.strip()}]"


@dataclass
class Texts:
    """What a reader reads: the paragraphs of the text (note calls written ``[^n]``), the notes, in order, and
    the bibliography's entries, in order, as (the id citations link to, text)."""

    paragraphs: list[str]
    notes: list[str]
    entries: list[tuple[str, str]]


def _replace(element, text: str) -> None:
    """Put ``text`` in an element's place, keeping the text after it."""
    parent = element.getparent()
    tail = text + (element.tail or "")
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def _pandoc(style: str, body: str | None = None) -> Texts:
    source = (REAL / "citations.md").read_text(encoding="utf-8") if body is None else body
    out = subprocess.run(
        [pypandoc.get_pandoc_path(), "-f", "markdown", "-t", "html", "--wrap=none", "--citeproc",
         "-M", "link-citations=true", "--csl", str(_styles_dir() / f"{style}.csl"),
         *(f"--bibliography={REAL / name}" for name in FILES)],
        input=source, capture_output=True, text=True, check=True).stdout
    tree = lxml_html.fromstring(f"<div>{out}</div>")
    for ref in tree.xpath('//a[contains(@class, "footnote-ref")]'):
        _replace(ref, _call(ref.text_content()))
    for back in tree.xpath('//a[contains(@class, "footnote-back")]'):
        _replace(back, "")
    paragraphs = [_text(p) for p in tree.xpath(
        '//p[not(ancestor::section[@id="footnotes"]) and not(ancestor::div[@id="refs"])]')]
    notes = [_text(li) for li in tree.xpath('//section[@id="footnotes"]/ol/li')]
    entries = [(d.get("id"), _text(d)) for d in tree.xpath('//div[@id="refs"]/div[contains(@class, "csl-entry")]')]
    return Texts(paragraphs, notes, entries)


def _ours(tree, ns: dict[str, str] | None = None) -> Texts:
    """The same texts from one of our documents (the HTML page, or the EPUB's documents joined)."""
    x = "x:" if ns else ""
    for call in tree.xpath(f'//{x}a[@class="noteref"]', namespaces=ns):
        _replace(call, _call("".join(call.itertext())))
    for back in tree.xpath(f'//{x}a[@class="note-back"]', namespaces=ns):
        _replace(back, "")
    paragraphs = [_text(p) for p in tree.xpath(
        f'//{x}section[contains(@class, "role-body")]//{x}p[not(ancestor::{x}aside)]', namespaces=ns)]
    notes = [_text(a) for a in tree.xpath(f'//{x}aside[contains(@class, "footnote")]', namespaces=ns)]
    entries = [(d.get("id"), _text(d)) for d in tree.xpath(f'//{x}div[contains(@class, "csl-entry")]',
                                                           namespaces=ns)]
    return Texts(paragraphs, notes, entries)


def _html(out: Path) -> Texts:
    return _ours(lxml_html.fromstring((out / "real.html").read_bytes()))


def _epub(out: Path) -> Texts:
    root = etree.Element("{http://www.w3.org/1999/xhtml}body")
    with zipfile.ZipFile(out / "real.epub") as epub:
        for name in sorted(n for n in epub.namelist() if n.endswith(".xhtml") and "nav" not in n):
            doc = etree.fromstring(epub.read(name))
            root.extend(doc.xpath("//x:body/*", namespaces=XHTML))
    return _ours(root, XHTML)


def _brief(tmp_path: Path, style: str, body: str | None = None) -> Path:
    root = tmp_path / "brief"
    (root / "sections").mkdir(parents=True)
    for name in FILES:
        (root / name).write_bytes((REAL / name).read_bytes())
    body = (REAL / "citations.md").read_text(encoding="utf-8") if body is None else body
    (root / "sections" / "a.md").write_text(f"---\ntitle: Citations\n---\n{body}", encoding="utf-8")
    listed = ", ".join(FILES)
    (root / "brief.yaml").write_text(
        f"title: {TITLE}\nlang: en-US\nidentifier: urn:x:real\ndate: 2026-01-01\nslug: real\n"
        f"sections: [sections/a.md]\nbibliography: [{listed}]\ncsl: {style}\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module", params=STYLES)
def built(request, tmp_path_factory) -> tuple[str, Texts, Path]:
    tmp = tmp_path_factory.mktemp(request.param)
    out = tmp / "dist"
    assert main(["build", str(_brief(tmp, request.param)), "--format", "all", "--out", str(out)]) == 0
    return request.param, _pandoc(request.param), out


def printed_entries(style: str, theirs: Texts) -> list[tuple[str, str]]:
    """pandoc's entries that print something, with the ids our editions give them; the entries that print
    nothing are exactly the style's ones listed in EMPTY_BY_DESIGN (of those cited)."""
    keys = [ref_id[len("ref-"):] for ref_id, _ in theirs.entries]
    assert len(set(keys)) == len(keys)
    empty = {key for key, (_, text) in zip(keys, theirs.entries) if not text}
    assert empty == EMPTY_BY_DESIGN.get(style, set()) & set(keys)
    return [(anchor(key), text) for key, (_, text) in zip(keys, theirs.entries) if text]


def differences(ours: list, theirs: list) -> list[tuple[int, object, object]]:
    """Each place where two lists differ: (index in pandoc's, ours, pandoc's); ``None`` for what one lacks."""
    found: list[tuple[int, object, object]] = []
    matcher = difflib.SequenceMatcher(a=ours, b=theirs, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            for k in range(max(i2 - i1, j2 - j1)):
                found.append((j1 + k, ours[i1 + k] if i1 + k < i2 else None,
                              theirs[j1 + k] if j1 + k < j2 else None))
    return found


def _same(style: str, ours: Texts, theirs: Texts) -> None:
    assert differences(ours.paragraphs, theirs.paragraphs) == []
    assert differences(ours.notes, theirs.notes) == []
    assert differences(ours.entries, printed_entries(style, theirs)) == []


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


def test_the_comparison_covers_the_corpus(built) -> None:
    """The oracle's texts hold what citations.md cites: no comparison below is made on an empty list."""
    style, theirs, _ = built
    assert len(theirs.paragraphs) == 83
    assert len(theirs.notes) == (212 if style == "chicago-notes-bibliography" else 15)
    assert len(theirs.entries) == 250


def test_html_edition_is_pandocs_text(built) -> None:
    style, theirs, out = built
    _same(style, _html(out), theirs)


def test_epub_is_pandocs_text(built) -> None:
    style, theirs, out = built
    _same(style, _epub(out), theirs)


# --- The PDF, as its text is printed -----------------------------------------------------------------------

_HYPHENS = "-\u2010\u00ad"


def pdf_lines(pdf: Path) -> str:
    """The PDF's text as printed, one line of print a line, without the pages' running heads and folios.

    poppler's pdftotext (``make test`` installs it): pypdf misreads the body of this PDF, whose fonts' ToUnicode
    maps are sound (poppler, Chromium's viewer and copying from a reader give the text). With ``-raw`` (the text
    in the order it is drawn): in its reading-order mode, pdftotext joins a line that ends with a hyphen to the
    next and drops the hyphen, whether hyphenation added it or the word has it ("Multi-Armed")."""
    printed = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True,
                             check=True).stdout
    kept: list[str] = []
    for page in printed.split("\f"):
        lines = [" ".join(line.split()) for line in unicodedata.normalize("NFC", page).splitlines()]
        lines = [line for line in lines if line]
        # Each page of the brief ends with its running head (the brief's title and the section's) and its
        # folio: the page's, not the text's.
        if len(lines) >= 2 and lines[-2].startswith(f"{TITLE} ") and lines[-1].isdigit():
            lines = lines[:-2]
        kept.extend(lines)
    return "\n".join(kept)


def find_printed(text: str, lines: str, start: int = 0) -> tuple[int, int] | None:
    """Where ``text`` (normalised) is printed in the PDF's lines, from ``start`` on: (start, end), or None.

    - A space is printed as a space, or as the end of a line.
    - A line may also end inside a word (an address breaks after a slash; hyphenation breaks a word, and adds
      a hyphen). A soft hyphen (U+00AD, which pandoc writes for ``\\-``) is such a place, printed only there.
    - A note's call, ``[^n]``, is printed as its number, raised (pdftotext ends the line after it)."""
    expected = re.sub(r"\[\^(\d+)\]", r"\1", text)
    at = lines.find(expected[0], start)
    while at >= 0:
        end = _printed_from(expected, lines, at)
        if end is not None:
            return at, end
        at = lines.find(expected[0], at + 1)
    return None


def _printed_from(expected: str, lines: str, at: int) -> int | None:
    """Where ``expected`` ends if it is printed from ``at`` on (see ``find_printed``); None if it is not."""
    i = 0
    while i < len(expected):
        char = expected[i]
        if char == "\u00ad":
            i += 1
            continue
        printed = lines[at:at + 1]
        if printed == char or (char == " " and printed == "\n"):
            i, at = i + 1, at + 1
        elif i and " " not in (char, expected[i - 1]) and printed == "\n":
            at += 1
        elif i and " " not in (char, expected[i - 1]) and printed in _HYPHENS and lines[at + 1:at + 2] == "\n":
            at += 2
        else:
            return None
    return at


@dataclass
class PrintedCheck:
    """What of pandoc's texts the PDF prints, in order; what it does not."""

    found: int
    missing: list[str]


def pdf_check(lines: str, theirs: Texts, entries: list[tuple[str, str]]) -> dict[str, PrintedCheck]:
    """Find pandoc's notes, then paragraphs, then entries, each in order, in the PDF's lines.

    The PDF sets each note at the foot of the page that calls it (numbered ``n.``), so the notes are found first
    and cut out: what is left of the text runs on from page to page."""
    checks: dict[str, PrintedCheck] = {}
    notes = PrintedCheck(0, [])
    at = 0
    for number, note in enumerate(theirs.notes, 1):
        where = find_printed(f"{number}. {note}", lines, at)
        if where is None:
            notes.missing.append(f"{number}. {note}")
            continue
        notes.found += 1
        before, after = lines[:where[0]].rstrip("\n"), lines[where[1]:].lstrip("\n")
        lines = f"{before}\n{after}" if before and after else before + after
        at = len(before)
    checks["notes"] = notes
    at = 0
    for kind, texts in (("paragraphs", theirs.paragraphs),
                        ("entries", [text for _, text in entries])):
        check = PrintedCheck(0, [])
        for text in texts:
            where = find_printed(text, lines, at)
            if where is None:
                check.missing.append(text)
                continue
            check.found += 1
            at = where[1]
        checks[kind] = check
    return checks


def test_pdf_prints_pandocs_text(built) -> None:
    style, theirs, out = built
    checks = pdf_check(pdf_lines(out / "real.pdf"), theirs, printed_entries(style, theirs))
    assert {kind: check.missing for kind, check in checks.items()} == {"notes": [], "paragraphs": [], "entries": []}


#: Citations a note style makes notes of, next to spaces, line breaks and punctuation: pandoc removes the space
#: before a note's call and moves the punctuation after a citation before it, unless a narrative citation
#: leaves an author's name in the text, whose own full stop ("et al.") then takes the place of a comma. The
#: statute and the cases (``@learner``, ``@T277/08``, ``@antaios85``) leave no name in Chicago's notes style.
AROUND_CALLS = """\
The matter deserves closer attention. @learner [p. 18] makes a related observation.

The matter deserves closer attention.
@learner makes a related observation; so does
[@KinHonJos01] here, and, with a comma, @learner, then @KinHonJos01, or @KinHonJos01 [p. 4]; see also @halsbury5:57!

*See* @learner, or (@learner) and (@KinHonJos01); @T277/08 [para. 3]: the point stands. @antaios85 [p. 19] makes it.
"""


def test_note_calls_stand_where_pandoc_puts_them(tmp_path) -> None:
    style = "chicago-notes-bibliography"
    out = tmp_path / "dist"
    assert main(["build", str(_brief(tmp_path, style, AROUND_CALLS)), "--format", "all", "--out", str(out)]) == 0
    theirs = _pandoc(style, AROUND_CALLS)
    assert len(theirs.paragraphs) == 3 and len(theirs.notes) == 12
    for ours in (_html(out), _epub(out)):
        _same(style, ours, theirs)
    checks = pdf_check(pdf_lines(out / "real.pdf"), theirs, printed_entries(style, theirs))
    assert {kind: check.missing for kind, check in checks.items()} == {"notes": [], "paragraphs": [], "entries": []}
