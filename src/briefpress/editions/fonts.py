"""Font subsets merged: a PDF joined from parts embeds each face once, as a whole layout does.

WeasyPrint embeds, per document, a subset of each face it uses: a CID-keyed TrueType font (``Type0`` over a
``CIDFontType2``, ``Identity-H``) whose program keeps every glyph at its original index (both HarfBuzz and
fontTools subset it that way) with the unused glyphs empty, a ``/W`` array of the used glyphs' widths and a
``ToUnicode`` map of their text. The parts of one brief use the same fonts, so their subsets of a face
differ only in which glyphs they hold, and the content streams refer to glyphs by that original index.
Merging is then exact: the union of the glyphs (with fontTools), of the widths and of the text mappings,
under one font object every part's pages point to.
"""

from __future__ import annotations

import io
import re
from typing import Any, Iterator

import pikepdf
from pikepdf import Array, Dictionary, Name

_TAGGED = re.compile(r"^/?[A-Z]{6}\+(.+)$")
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = re.compile(rb"<([0-9a-fA-F]+)>")


def merge_fonts(pdf: pikepdf.Pdf) -> int:
    """Give every face one font object, merging the subsets of each; return how many faces were merged.

    A face whose subsets cannot be merged exactly (no ``glyf`` table, differing glyph counts' fonts that are
    not subsets of one font) keeps its separate subsets: the text is right either way.
    """
    holders: dict[str, list[tuple[Any, str]]] = {}  # face: (font resource dict, resource name)
    fonts: dict[str, dict[tuple[int, int], Any]] = {}  # face: distinct font objects, in order
    for resources in _font_resources(pdf):
        for key, font in resources.items():
            face = _face(font)
            if face is None:
                continue
            holders.setdefault(face, []).append((resources, key))
            fonts.setdefault(face, {}).setdefault(font.objgen, font)
    merged = 0
    for face, distinct in fonts.items():
        if len(distinct) < 2:
            continue
        try:
            font = _merged(pdf, list(distinct.values()))
        except (ImportError, AttributeError, TypeError, KeyError, ValueError, IndexError):
            font = None  # fontTools or the subsets not as expected: keep them apart, the text is right
        if font is None:
            continue
        for resources, key in holders[face]:
            resources[key] = font
        merged += 1
    return merged


def _font_resources(pdf: pikepdf.Pdf) -> Iterator[Any]:
    """Every ``/Font`` resource dictionary reachable from the pages (their forms and patterns included)."""
    seen: set[tuple[int, int]] = set()

    def visit(resources: Any) -> Iterator[Any]:
        if not isinstance(resources, Dictionary):
            return
        if resources.is_indirect:
            if resources.objgen in seen:
                return
            seen.add(resources.objgen)
        font = resources.get("/Font")
        if isinstance(font, Dictionary):
            yield font
        for kind in ("/XObject", "/Pattern"):
            children = resources.get(kind)
            if isinstance(children, Dictionary):
                for child in children.values():
                    if isinstance(child, (Dictionary, pikepdf.Stream)) and "/Resources" in child:
                        yield from visit(child.Resources)

    for page in pdf.pages:
        yield from visit(page.obj.get("/Resources"))
        for annotation in page.obj.get("/Annots", []):
            appearance = annotation.get("/AP")
            if isinstance(appearance, Dictionary):
                for stream in appearance.values():
                    if isinstance(stream, pikepdf.Stream) and "/Resources" in stream:
                        yield from visit(stream.Resources)


def _face(font: Any) -> str | None:
    """The face of a subset ``Type0`` TrueType font (its ``BaseFont`` without the subset tag), else None."""
    if not isinstance(font, Dictionary) or font.get("/Subtype") != Name.Type0:
        return None
    descendants = font.get("/DescendantFonts")
    if not isinstance(descendants, Array) or len(descendants) != 1:
        return None
    descendant = descendants[0]
    if descendant.get("/Subtype") != Name.CIDFontType2 or descendant.get("/CIDToGIDMap") != Name.Identity:
        return None
    if "/FontFile2" not in descendant.get("/FontDescriptor", Dictionary()):
        return None
    match = _TAGGED.match(str(font.get("/BaseFont", "")))
    return match.group(1) if match else None


def _merged(pdf: pikepdf.Pdf, fonts: list[Any]) -> Any | None:
    """One font holding every glyph, width and text mapping of ``fonts`` (subsets of one face), or None."""
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.tables._g_l_y_f import Glyph

    descendants = [font.DescendantFonts[0] for font in fonts]
    programs = [TTFont(io.BytesIO(d.FontDescriptor.FontFile2.read_bytes()), recalcTimestamp=False)
                for d in descendants]
    if not all("glyf" in program and "hmtx" in program for program in programs):
        return None
    widths = [_widths(d.get("/W", Array())) for d in descendants]
    # The subset with the most glyphs is the base: a subset keeps glyphs up to the last one it uses.
    base_index = max(range(len(programs)), key=lambda i: (len(programs[i].getGlyphOrder()), -i))
    base = programs[base_index]
    base_order = base.getGlyphOrder()
    base_glyf, base_hmtx = base["glyf"], base["hmtx"]
    used = set(widths[base_index])
    for index, program in enumerate(programs):
        if index == base_index:
            continue
        order = program.getGlyphOrder()
        if len(order) > len(base_order):
            return None
        glyf = program["glyf"]
        pending = sorted(set(widths[index]) - used)
        while pending:
            gid = pending.pop()
            if gid in used or gid >= len(order):
                continue
            used.add(gid)
            glyph = glyf[order[gid]]
            if glyph.isComposite():  # its components, by their (shared) glyph ids
                pending += [program.getGlyphID(component.glyphName) for component in glyph.components]
            data = glyph.compile(glyf, recalcBBoxes=False)
            base_glyf[base_order[gid]] = Glyph(data)
            base_hmtx[base_order[gid]] = program["hmtx"][order[gid]]
    all_widths: dict[int, float] = {}
    for found in widths:
        for gid, width in found.items():
            all_widths.setdefault(gid, width)
    text: dict[int, bytes] = {}
    for font in fonts:
        for gid, unicode in _to_unicode(font.get("/ToUnicode")).items():
            text.setdefault(gid, unicode)
    buffer = io.BytesIO()
    base.save(buffer, reorderTables=False)
    program_bytes = buffer.getvalue()

    template = fonts[base_index]
    descriptor = Dictionary({key: value for key, value in template.DescendantFonts[0].FontDescriptor.items()})
    boxes = [[float(v) for v in d.FontDescriptor.FontBBox] for d in descendants if "/FontBBox" in d.FontDescriptor]
    if boxes:
        descriptor.FontBBox = Array([min(b[0] for b in boxes), min(b[1] for b in boxes),
                                     max(b[2] for b in boxes), max(b[3] for b in boxes)])
    file2 = pikepdf.Stream(pdf, program_bytes)
    file2.Length1 = len(program_bytes)
    descriptor.FontFile2 = file2
    descendant = Dictionary({key: value for key, value in template.DescendantFonts[0].items()})
    descendant.FontDescriptor = pdf.make_indirect(descriptor)
    descendant.W = _width_array(all_widths)
    font = Dictionary({key: value for key, value in template.items()})
    font.DescendantFonts = Array([pdf.make_indirect(descendant)])
    font.ToUnicode = pikepdf.Stream(pdf, _cmap(text))
    return pdf.make_indirect(font)


def _widths(array: Any) -> dict[int, float]:
    """A ``/W`` array as glyph id: width (``c [w1 w2 …]`` and ``first last w`` forms)."""
    items = list(array)
    found: dict[int, float] = {}
    i = 0
    while i < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], Array):
            for offset, width in enumerate(items[i + 1]):
                found[first + offset] = float(width)
            i += 2
        else:
            for gid in range(first, int(items[i + 1]) + 1):
                found[gid] = float(items[i + 2])
            i += 3
    return found


def _width_array(widths: dict[int, float]) -> Array:
    """Glyph widths as a ``/W`` array, one ``c [w1 w2 …]`` entry per run of consecutive ids."""
    array: list[Any] = []
    run: list[float] = []
    start = previous = None
    for gid in sorted(widths):
        if previous is None or gid != previous + 1:
            if run:
                array += [start, Array([_number(w) for w in run])]
            start, run = gid, []
        run.append(widths[gid])
        previous = gid
    if run:
        array += [start, Array([_number(w) for w in run])]
    return Array(array)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _to_unicode(stream: Any) -> dict[int, bytes]:
    """A ``ToUnicode`` CMap as glyph id: UTF-16BE text (``bfchar`` and ``bfrange`` entries)."""
    if not isinstance(stream, pikepdf.Stream):
        return {}
    data = stream.read_bytes()
    found: dict[int, bytes] = {}
    for block in _BFCHAR.findall(data):
        values = _HEX.findall(block)
        for source, target in zip(values[::2], values[1::2]):
            found[int(source, 16)] = bytes.fromhex(target.decode("ascii"))
    for block in _BFRANGE.findall(data):
        for line in block.splitlines():
            values = _HEX.findall(line)
            if len(values) < 3:
                continue
            first, last = int(values[0], 16), int(values[1], 16)
            if b"[" in line:
                for offset, target in enumerate(values[2:]):
                    found[first + offset] = bytes.fromhex(target.decode("ascii"))
            else:
                start = int(values[2], 16)
                width = len(values[2]) // 2
                for offset in range(last - first + 1):
                    found[first + offset] = (start + offset).to_bytes(width, "big")
    return found


def _cmap(text: dict[int, bytes]) -> bytes:
    """A ``ToUnicode`` CMap of ``bfchar`` entries, in blocks of at most 100 as the format requires."""
    entries = [f"<{gid:04x}> <{text[gid].hex()}>" for gid in sorted(text)]
    blocks = "".join(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar\n"
                     for chunk in (entries[i:i + 100] for i in range(0, len(entries), 100)))
    return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo\n"
            "<< /Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n/CMapName /Adobe-Identity-UCS def\n"
            "/CMapType 2 def\n1 begincodespacerange\n<0000> <ffff>\nendcodespacerange\n" + blocks +
            "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n").encode("ascii")
