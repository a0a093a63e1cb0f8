"""Citations carry no markup from their sources: a reference's id, its fields, and a citation's prefix and
suffix reach every edition as text, with only the markup the style makes. The engine runs under an
address-space limit, and a build it is part of stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import posixpath
import re
import resource
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from lxml import etree
from lxml import html as lxml_html
from pypdf import PdfReader

from briefpress.cli import main
from tools.checks import epubcheck
from tools.processes import children_named

EVIL_ID = 'x"><a href="https://evil.example/">owned</a><b x="'
REFS_JSON = [
    {"id": EVIL_ID, "type": "book", "title": "A book", "author": [{"family": "Doe", "given": "Jane"}],
     "issued": {"date-parts": [[2020]]}},
    {"id": "plain", "type": "book", "title": "Rich <script>alert(1)</script> and <span onclick=\"x()\">span</span>",
     "author": [{"family": "Roe", "given": "Rick"}], "issued": {"date-parts": [[2019]]}},
]
REFS_YAML = """\
references:
- id: marked
  type: article-journal
  title: "A <b>bold</b> <img src=x onerror=alert(1)> title"
  container-title: "<iframe src='https://evil.example/'></iframe>Journal"
  author: [{family: Poe, given: Pat}]
  issued: {date-parts: [[2018]]}
"""
SECTION = f"""\
---
title: Findings
---

One [@{{{EVIL_ID}}}]. Two [<b>see</b> @plain, <sup>p.</sup> 3]. Three [@marked, <i>emphasis</i> added].
"""


def _brief(tmp_path: Path, csl: str = "chicago-author-date", section: str = SECTION) -> Path:
    root = tmp_path / "brief"
    (root / "sections").mkdir(parents=True)
    (root / "refs.json").write_text(json.dumps(REFS_JSON), encoding="utf-8")
    (root / "refs.yaml").write_text(REFS_YAML, encoding="utf-8")
    (root / "sections" / "a.md").write_text(section, encoding="utf-8")
    (root / "brief.yaml").write_text(
        "title: Hostile\nlang: en-US\nidentifier: urn:x:hostile\ndate: 2026-01-01\nslug: hostile\n"
        f"sections: [sections/a.md]\nbibliography: [refs.json, refs.yaml]\ncsl: {csl}\n", encoding="utf-8")
    return root


def _markup(html: str | bytes) -> list[str]:
    tree = lxml_html.fromstring(html.encode("utf-8") if isinstance(html, str) else html)
    bad = [e.tag for e in tree.iter() if e.tag in ("script", "iframe", "img", "b", "sup")]
    bad += [f"{a}={e.get(a)}" for e in tree.iter() for a in e.attrib if a.startswith("on")]
    bad += [e.get("href") for e in tree.iter("a") if "evil" in (e.get("href") or "")]
    return bad


def test_ids_fields_and_affixes_reach_every_edition_as_text(tmp_path: Path, capsys) -> None:
    out = tmp_path / "dist"
    assert main(["build", str(_brief(tmp_path)), "--format", "all", "--out", str(out)]) == 0
    html = (out / "hostile.html").read_text(encoding="utf-8")
    assert not _markup(html)
    text = " ".join(lxml_html.fromstring(html).text_content().split())
    # A prefix's or suffix's markup stays as written (raw HTML is off, as in the text). A CSL-YAML field's is
    # dropped (pandoc reads it as Markdown's raw HTML); CSL-JSON knows only its own few tags, the rest is text.
    assert "<b>see</b>" in text and "<sup>p.</sup> 3" in text and "<i>emphasis</i> added" in text
    assert "“A Bold Title.”Journal" in text
    assert "Rich <Script>alert(1)</Script> and <Span Onclick=“x()”>span</Span>" in text
    # Every citation links to its entry, whose id is an XML name made of the key.
    tree = lxml_html.fromstring(html)
    ids = {e.get("id") for e in tree.xpath('//div[contains(@class, "csl-entry")]')}
    links = {a.get("href")[1:] for a in tree.xpath('//span[@class="citation"]//a')}
    assert len(ids) == 2 and links == ids and all(i.replace("-", "").isalnum() for i in ids)
    # The key pandoc's syntax cannot cite is printed as written, as text, with a warning at its line.
    assert f"One [@{{{EVIL_ID}}}]." in text
    assert re.search(r"a\.md:5: warning: citation '\[@\{x\"><a href", capsys.readouterr().err)
    with zipfile.ZipFile(out / "hostile.epub") as epub:
        for name in epub.namelist():
            if name.endswith(".xhtml") and "cover" not in name:
                doc = epub.read(name)
                assert not _markup(doc), name
                etree.fromstring(doc)
    errors = [m for m in epubcheck(out / "hostile.epub") if m["severity"] in ("ERROR", "FATAL")]
    assert not errors, errors
    assert (out / "hostile.pdf").stat().st_size > 0


#: Keys pandoc cites (braced, or written plainly where its syntax allows), each with markup or a path in it,
#: from each kind of bibliography file. A ``.bib`` key cannot hold ``<``, ``"`` or ``,``; pandoc reads a
#: CSL-YAML id as Markdown (``'`` and ``"`` become curly quotes, tags are dropped), so that file's keys hold
#: neither quotes nor tags.
HOSTILE_KEYS = {
    "bib": ["a'onmouseover:alert(1)&x", "q/../frag"],
    "yaml": ["q/../frag2", "a:b&c<d", "x>y<2", "m#n$o%p+q?r~s/t"],
    "json": ["j'><script>alert(1)</script>", 'x"><b>y', "a'onmouseover=\"alert(1)\"", "#top"],
}
#: A style that prints the key, in the citation and at the head of its entry.
KEY_STYLE = (
    '<?xml version="1.0" encoding="utf-8"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" '
    'version="1.0"><info><title>Keys</title><id>k</id><updated>2020-01-01T00:00:00+00:00</updated></info>'
    '<citation><layout prefix="(" suffix=")" delimiter="; "><text variable="citation-key"/></layout></citation>'
    '<bibliography><layout><group delimiter=". "><text variable="citation-key" prefix="[" suffix="]"/>'
    '<text variable="title"/></group></layout></bibliography></style>\n')
_NCNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")  # (the ASCII part of XML's NCName)


def _hostile_keys_brief(tmp_path: Path) -> Path:
    root = tmp_path / "keys"
    (root / "sections").mkdir(parents=True)
    (root / "refs.bib").write_text("".join(
        f"@book{{{key},\n  title = {{Bib {n}}},\n  author = {{Doe, Jane}},\n  year = {{2020}},\n}}\n\n"
        for n, key in enumerate(HOSTILE_KEYS["bib"])), encoding="utf-8")
    (root / "refs.yaml").write_text("references:\n" + "".join(
        f"- id: {json.dumps(key)}\n  type: book\n  title: Yaml {n}\n  issued: {{date-parts: [[2018]]}}\n"
        for n, key in enumerate(HOSTILE_KEYS["yaml"])), encoding="utf-8")
    (root / "refs.json").write_text(json.dumps([
        {"id": key, "type": "book", "title": f"Json {n}", "issued": {"date-parts": [[2019]]}}
        for n, key in enumerate(HOSTILE_KEYS["json"])]), encoding="utf-8")
    keys = [key for kind in HOSTILE_KEYS.values() for key in kind]
    cites = " ".join(f"C{n} [@{{{key}}}]." for n, key in enumerate(keys))
    # and two written as pandoc's plain keys, one in a bracket and one narrative
    (root / "sections" / "a.md").write_text(
        f"---\ntitle: Findings\n---\n\n{cites}\n\nPlain [@m#n$o%p+q?r~s/t] and @a:b&c<d says.\n", encoding="utf-8")
    (root / "keys.csl").write_text(KEY_STYLE, encoding="utf-8")
    (root / "brief.yaml").write_text(
        "title: Keys\nlang: en-US\nidentifier: urn:x:keys\ndate: 2026-01-01\nslug: keys\n"
        "sections: [sections/a.md]\nbibliography: [refs.bib, refs.yaml, refs.json]\ncsl: keys.csl\n",
        encoding="utf-8")
    return root


def _no_markup_from_keys(tree: etree._Element) -> None:
    tags = {e.tag.rsplit("}", 1)[-1] for e in tree.iter() if isinstance(e.tag, str)}
    assert not tags & {"script", "b", "iframe", "img"}, tags
    assert not [(e.tag, a) for e in tree.iter() for a in e.attrib if a.lower().startswith("on")]


def test_citable_hostile_keys_link_to_their_entries_in_every_edition(tmp_path: Path, capsys) -> None:
    """Keys with quotes, tags, ``&``, ``/../`` and ``#`` in them, each citable, from a ``.bib``, a CSL-YAML and a
    CSL-JSON file: every citation links to an entry that exists, by an id that is an XML name, in the HTML, the
    EPUB and the PDF; nothing of a key becomes markup, and the key is printed as text where the style prints
    it."""
    out = tmp_path / "dist"
    assert main(["build", str(_hostile_keys_brief(tmp_path)), "--format", "all", "--out", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err
    keys = [key for kind in HOSTILE_KEYS.values() for key in kind]

    # HTML: each citation's href is "#" and the id of an entry there, an XML name; the key is its text.
    tree = lxml_html.fromstring((out / "keys.html").read_bytes())
    _no_markup_from_keys(tree)
    entries = {e.get("id"): " ".join(e.text_content().split())
               for e in tree.xpath('//div[contains(concat(" ", @class, " "), " csl-entry ")]')}
    assert len(entries) == len(keys) and all(_NCNAME.match(i) for i in entries), entries
    assert all(len(tree.xpath("//*[@id=$i]", i=i)) == 1 for i in entries)
    links = [(a.get("href"), " ".join(a.text_content().split()))
             for a in tree.xpath('//span[contains(@class, "citation")]//a')]
    assert len(links) == len(keys) + 2
    assert all(href.startswith("#") and href[1:] in entries for href, _ in links), links
    assert {href[1:] for href, _ in links} == set(entries)
    assert sorted(text for _, text in links) == sorted([*keys, "m#n$o%p+q?r~s/t", "a:b&c<d"])
    for href, text in links:
        assert entries[href[1:]].startswith(f"[{text}]."), (href, text, entries[href[1:]])

    # EPUB: valid, and each citation's href names a document of the book and an element of it.
    assert not [m for m in epubcheck(out / "keys.epub") if m["severity"] in ("ERROR", "FATAL")]
    with zipfile.ZipFile(out / "keys.epub") as epub:
        docs = {name: etree.fromstring(epub.read(name)) for name in epub.namelist() if name.endswith(".xhtml")}
    xhtml = "{http://www.w3.org/1999/xhtml}"
    epub_links = [(name, a.get("href")) for name, doc in docs.items() for a in doc.iter(f"{xhtml}a")
                  if (a.get("class") or "") == "citation-link"]
    assert len(epub_links) == len(keys) + 2
    epub_ids = set()
    for name, href in epub_links:
        target, _, fragment = href.partition("#")
        target_doc = docs[posixpath.normpath(posixpath.join(posixpath.dirname(name), target))]
        assert _NCNAME.match(fragment) and target_doc.xpath("//*[@id=$i]", i=fragment), href
        epub_ids.add(fragment)
    assert epub_ids == set(entries)
    for name, doc in docs.items():
        if "cover" not in name:  # (the cover is an image)
            _no_markup_from_keys(doc)
    epub_text = "".join("".join(doc.itertext()) for doc in docs.values())
    assert all(f"[{key}]." in epub_text for key in keys)

    # PDF: each citation's link goes to a named destination, the same ids; the keys are printed as text.
    pdf = PdfReader(str(out / "keys.pdf"))
    dests = [str(annot.get_object().get("/Dest")) for page in pdf.pages for annot in page.get("/Annots") or []
             if str(annot.get_object().get("/Dest")).startswith("ref-")]
    assert len(dests) == len(keys) + 2 and set(dests) == set(entries)
    assert set(dests) <= set(pdf.named_destinations)
    pdf_text = "".join("".join(page.extract_text() for page in pdf.pages).split())
    assert all(f"[{key}]." in pdf_text for key in keys)


def _limited(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


def test_a_brief_that_cites_builds_under_an_address_space_limit(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    out = tmp_path / "dist"
    run = subprocess.run(
        [sys.executable, "-m", "briefpress", "build", str(_brief(tmp_path)), "--format", "all", "--out", str(out)],
        capture_output=True, text=True, preexec_fn=_limited(4 << 30), env={**os.environ, "TMPDIR": str(temp)},
        timeout=600)
    assert run.returncode == 0, run.stderr
    assert {"hostile.epub", "hostile.html", "hostile.pdf"} <= {p.name for p in out.iterdir()}
    assert not list(temp.iterdir()), "the engine's temporary files are removed"


def _pandoc_children(pid: int) -> list[int]:
    return children_named("pandoc", pid)


def test_sigterm_while_citations_are_formatted_stops_cleanly(tmp_path: Path) -> None:
    many = "\n\n".join(f"Text [@plain, p. {n}; @marked, {n}]." for n in range(1, 3000))
    root = _brief(tmp_path, section=f"---\ntitle: Findings\n---\n\n{many}\n")
    temp = tmp_path / "tmp"
    temp.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "briefpress", "build", str(root), "--format", "html", "--out", str(tmp_path / "d")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(temp)})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _pandoc_children(process.pid):
        time.sleep(0.01)
    assert process.poll() is None, "the build ended before its citations were formatted"
    pandoc = _pandoc_children(process.pid)[0]
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in err and "Error" not in err, err
    time.sleep(0.5)
    assert not list(temp.iterdir())
    assert not _pandoc_children(process.pid) and not Path(f"/proc/{pandoc}").exists()
    assert not (tmp_path / "d").exists() or not list((tmp_path / "d").iterdir())


def _cli(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "briefpress", *args], capture_output=True, text=True, timeout=600)


def test_deeply_nested_csl_json_is_an_error_at_the_file(tmp_path: Path) -> None:
    root = _brief(tmp_path, section="---\ntitle: Findings\n---\n\nText.\n")
    (root / "refs.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    run = _cli(["build", str(root), "--format", "html", "--out", str(tmp_path / "d")])
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert re.search(r"refs\.json:1: error: invalid CSL-JSON: values are nested too deeply", run.stderr), run.stderr


def test_a_character_no_output_can_hold_spelled_as_an_escape_is_an_error_at_the_reference(tmp_path: Path) -> None:
    """CSL-JSON's ``\\ufffe`` (a noncharacter, which the print edition also uses as a marker) and ``\\u0001``
    pass the check of the file's own text; the formatted reference holds them: an error at the reference,
    in every edition's build, and nothing written."""
    for char in ("\ufffe", "\u0001"):
        root = _brief(tmp_path / f"u{ord(char):04x}")
        refs = [dict(REFS_JSON[1], id="plain", title=f"A{char}B")] + [REFS_JSON[0]]
        (root / "refs.json").write_text(json.dumps(refs, ensure_ascii=True), encoding="utf-8")
        assert char not in (root / "refs.json").read_text(encoding="utf-8")
        for fmt in ("pdf", "html"):
            out = tmp_path / f"d-{ord(char)}-{fmt}"
            run = _cli(["build", str(root), "--format", fmt, "--out", str(out)])
            assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
            assert re.search(rf"refs\.json:\d+: error: reference 'plain': control character U\+{ord(char):04X} ",
                             run.stderr), run.stderr
            assert not out.exists()


def test_a_minimal_style_builds(tmp_path: Path) -> None:
    root = _brief(tmp_path, csl="minimal.csl", section="---\ntitle: Findings\n---\n\nOne [@plain].\n")
    (root / "minimal.csl").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" '
        'version="1.0"><info><title>Minimal</title><id>m</id><updated>2020-01-01T00:00:00+00:00</updated></info>'
        '<citation><layout><text variable="title"/></layout></citation>'
        '<bibliography><layout><text variable="title"/></layout></bibliography></style>\n', encoding="utf-8")
    run = _cli(["build", str(root), "--format", "html", "--out", str(tmp_path / "d")])
    assert run.returncode == 0, run.stderr
    text = " ".join(lxml_html.fromstring((tmp_path / "d" / "hostile.html").read_bytes()).text_content().split())
    assert "One Rich <script>alert(1)</script> and" in text and "References Rich <script>" in text


#: Runs a command (the rest of its arguments) and writes to the file its first argument names the largest
#: resident size, in KiB, that the command or any process it waited for reached.
_PEAK = ("import resource, subprocess, sys\n"
         "run = subprocess.run(sys.argv[2:])\n"
         "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
         "sys.exit(run.returncode)\n")


def test_a_style_whose_macros_multiply_stops_within_its_memory(tmp_path: Path) -> None:
    """Each macro calls the one before twice, 26 deep: 2^25 texts for one citation. The engine stops at its heap
    limit, every process of the build under 1 GB, with one line at the style's line; and the same line under an
    address-space limit of 1 GB, where pandoc says only "out of memory"."""
    macros = ['<macro name="m0"><text variable="title"/></macro>'] + [
        f'<macro name="m{i}"><group><text macro="m{i - 1}"/><text macro="m{i - 1}"/></group></macro>'
        for i in range(1, 26)]
    root = _brief(tmp_path, csl="many.csl", section="---\ntitle: Findings\n---\n\nOne [@plain].\n")
    (root / "many.csl").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" '
        'version="1.0"><info><title>Many</title><id>m</id><updated>2020-01-01T00:00:00+00:00</updated></info>'
        + "".join(macros) + '<citation><layout><text macro="m25"/></layout></citation>'
        '<bibliography><layout><text variable="title"/></layout></bibliography></style>\n', encoding="utf-8")
    stopped = re.compile(r"brief\.yaml:\d+: error: citation style 'many' cannot be used: formatting the citations "
                         r"needed more than 768 MB$")
    peak = tmp_path / "peak"
    run = subprocess.run([sys.executable, "-c", _PEAK, str(peak), sys.executable, "-m", "briefpress", "build",
                          str(root), "--format", "html", "--out", str(tmp_path / "d")],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    errors = [line for line in run.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and stopped.search(errors[0]), run.stderr
    assert int(peak.read_text()) <= 1 << 20, f"a process of the build peaked at {int(peak.read_text()) >> 10} MB"

    temp = tmp_path / "tmp"
    temp.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "briefpress", "build", str(root), "--format", "html", "--out", str(tmp_path / "e")],
        capture_output=True, text=True, preexec_fn=_limited(1 << 30), env={**os.environ, "TMPDIR": str(temp)},
        timeout=600)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    errors = [line for line in run.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and stopped.search(errors[0]), run.stderr
    assert not list(temp.iterdir()), "the engine's temporary folder is removed"
    assert not (tmp_path / "e").exists() or not list((tmp_path / "e").iterdir())


def _dependent(parent: str) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" version="1.0" '
            'default-locale="en-US">\n  <info>\n    <title>A journal</title>\n    <id>j</id>\n'
            f'    <link href="http://www.zotero.org/styles/{parent}" rel="independent-parent"/>\n'
            '    <updated>2020-01-01T00:00:00+00:00</updated>\n  </info>\n</style>\n')


def test_a_dependent_style_is_its_packaged_parent_and_nothing_is_fetched(tmp_path: Path) -> None:
    root = _brief(tmp_path, csl="journal.csl", section="---\ntitle: Findings\n---\n\nOne [@plain].\n")
    (root / "journal.csl").write_text(_dependent("ieee"), encoding="utf-8")
    run = _cli(["build", str(root), "--format", "html", "--out", str(tmp_path / "d")])
    assert run.returncode == 0, run.stderr
    text = " ".join(lxml_html.fromstring((tmp_path / "d" / "hostile.html").read_bytes()).text_content().split())
    assert "One [1]." in text
    (root / "journal.csl").write_text(_dependent("no-such-style"), encoding="utf-8")
    run = _cli(["build", str(root), "--format", "html", "--out", str(tmp_path / "e")])
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert re.search(r"journal\.csl:6: error: this dependent style's parent 'no-such-style' is not a packaged "
                     r"style", run.stderr), run.stderr
