"""WeasyPrint's C declarations kept parsed beside the package (``briefpress.cdefs``)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import cffi
import pycparser
import pytest
from cffi import cparser

import briefpress.cdefs as cdefs
import briefpress.kept as kept

DECLARATIONS = """
typedef uint32_t hb_codepoint_t;
typedef struct { int x; int y; int width; int height; } PangoRectangle;
typedef unsigned char FcChar8;
int pango_version (void);
"""
TYPES = ("PangoRectangle *", "FcChar8 **", "hb_codepoint_t[1728]", "hb_codepoint_t[5]", "char[]")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(kept, "FOLDER", tmp_path)
    return tmp_path


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, pycparser cannot parse: only kept trees can serve."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pycparser was asked to parse")

    monkeypatch.setattr(pycparser, "CParser", refuse)


def _types_through(parser: object, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, object]]:
    """cffi's view of the declarations and of TYPES, parsed through ``parser``."""
    monkeypatch.setattr(cparser, "_parser_cache", parser)
    ffi = cffi.FFI()
    ffi.cdef(DECLARATIONS)
    views = []
    for name in TYPES:
        ctype = ffi.typeof(name)
        fields = [(f, t.offset, t.type.cname) for f, t in ctype.item.fields] if ctype.kind == "pointer" and \
            ctype.item.kind == "struct" else None
        views.append((ctype.cname, ctype.length if ctype.kind == "array" else -1, fields))
    return views


def _shown(tree: object) -> str:
    buf = io.StringIO()
    tree.show(buf=buf, attrnames=True, nodenames=True, showcoord=True)  # type: ignore[attr-defined]
    return buf.getvalue()


def test_kept_trees_are_pycparsers_own(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = _types_through(pycparser.CParser(), monkeypatch)
    assert _types_through(cdefs.KeptParser(write=True), monkeypatch) == reference
    assert [view[:2] for view in reference[2:4]] == [("uint32_t[1728]", 1728), ("uint32_t[5]", 5)]

    text = "typedef int hb_codepoint_t;\nvoid __dummy(\nhb_codepoint_t[42]\n);\n"
    own = _shown(pycparser.CParser().parse(text))
    cdefs.KeptParser(write=True).parse(text)
    _no_parsing(monkeypatch)
    assert _types_through(cdefs.KeptParser(), monkeypatch) == reference  # every tree from the kept files
    assert _shown(cdefs.KeptParser().parse(text)) == own


def test_an_arrays_length_adds_no_entry(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _types_through(cdefs.KeptParser(write=True), monkeypatch)
    entries = sorted(folder.glob("cdef-*.pickle"))
    assert len(entries) == 1 + len(TYPES) - 1  # the declarations, and the two arrays of one type as one entry

    _no_parsing(monkeypatch)
    monkeypatch.setattr(cparser, "_parser_cache", cdefs.KeptParser(write=True))
    ffi = cffi.FFI()
    ffi.cdef(DECLARATIONS)
    assert ffi.sizeof("hb_codepoint_t[7]") == 7 * 4
    assert len(ffi.new("hb_codepoint_t[3]", [1, 2, 3])) == 3
    assert sorted(folder.glob("cdef-*.pickle")) == entries


def test_a_damaged_entry_is_parsed_again(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = _types_through(cdefs.KeptParser(write=True), monkeypatch)
    for entry in folder.glob("cdef-*.pickle"):
        entry.write_bytes(b"\x80\x05not a tree")
    assert _types_through(cdefs.KeptParser(write=True), monkeypatch) == reference
    _no_parsing(monkeypatch)
    assert _types_through(cdefs.KeptParser(), monkeypatch) == reference  # and kept again, repaired


def test_nothing_is_written_unless_allowed(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _types_through(cdefs.KeptParser(write=False), monkeypatch)
    assert not list(folder.iterdir())


SAMPLE = """
import os, sys
from pathlib import Path
import briefpress.kept as kept
kept.FOLDER = Path(os.environ["KEPT"])
mode = os.environ["MODE"]
if mode != "plain":
    from briefpress import cdefs
    cdefs.install(write=mode == "keep")
if mode == "kept":
    import pycparser
    pycparser.CParser = None  # nothing may be parsed: every tree comes from the kept files
from briefpress.pdf import font_faces
from briefpress.typeset import import_weasyprint
weasyprint = import_weasyprint()
from weasyprint.text.fonts import FontConfiguration
fonts = FontConfiguration()
faces = "".join(f"@font-face {{ font-family: S; src: url({f['url']}); font-weight: {f['weight']};"
                f" font-style: {f['style']} }}" for f in font_faces()[:5])
css = weasyprint.CSS(string=faces + "body { font-family: S; hyphens: auto }", font_config=fonts)
html = "<html lang=en><body><p>Presidential <i>elections</i> in <b>Kazakhstan</b>, 20 November 2022</p></body></html>"
sys.stdout.buffer.write(weasyprint.HTML(string=html).write_pdf(stylesheets=[css], font_config=fonts,
                                                                 pdf_identifier=b"same"))
"""


def test_a_pdf_is_the_same_from_kept_trees(tmp_path: Path) -> None:
    """WeasyPrint in a new process: with cffi's own parses, keeping the trees, and served from them."""
    def pdf(mode: str) -> bytes:
        env = {**os.environ, "KEPT": str(tmp_path), "MODE": mode}
        run = subprocess.run([sys.executable, "-c", SAMPLE], env=env, capture_output=True, check=False)
        assert run.returncode == 0, run.stderr.decode()
        assert run.stdout.startswith(b"%PDF")
        return run.stdout

    plain = pdf("plain")
    assert pdf("keep") == plain
    assert len(list(tmp_path.glob("cdef-*.pickle"))) >= 5  # the declarations and the types drawing needs
    assert pdf("kept") == plain
