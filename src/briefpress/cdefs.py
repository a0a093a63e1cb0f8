"""WeasyPrint's C declarations, parsed once and kept beside the package's compiled modules.

WeasyPrint reaches Pango, HarfBuzz and fontconfig through cffi, which parses C with pycparser: WeasyPrint's
declarations when it is imported, and then each C type the first time a process allocates one
(``PangoRectangle *``, ``hb_codepoint_t[1728]``). Every such parse repeats a ``typedef`` line for each type
the declarations name. In a PDF build of the brief the parses take about 0.2 s, all of it on the printer's
path, and the same every time.

pycparser's syntax trees (plain Python objects) are kept, pickled, in the package's ``__pycache__`` (see
``kept``), keyed by the exact text cffi hands pycparser and by both libraries' versions. An array's length
is left out of its key and written into the tree as it is read, so that the glyph counts of each new
document do not add entries. cffi builds its types from the tree as it would from a fresh parse, and the
PDF comes out the same, byte for byte. A missing or damaged entry is parsed again.
"""

from __future__ import annotations

import hashlib
import pickle
import re
import sys
from typing import Any

from . import kept

# How cffi's Parser.parse_type ends the text it parses: its type as the only parameter of a dummy function.
_ARRAY = re.compile(r"\nvoid __dummy\(\n[^\n\[\]]+\[(\d+)\]\n\);\n\Z")


class KeptParser:
    """Stands in for cffi's pycparser parser (``cffi.cparser._parser_cache``), serving kept trees."""

    def __init__(self, write: bool | None = None, real: Any = None):
        import cffi
        import pycparser

        self.write = kept.may_write(write)
        self.real = real  # pycparser's own parser, made on the first miss
        self.versions = f"cffi {cffi.__version__}, pycparser {pycparser.__version__}\0".encode()
        self.read: dict[str, bytes] = {}

    def parse(self, text: str, filename: str = "", debug: bool = False) -> Any:
        array = _ARRAY.search(text)
        key = text if array is None else text[: array.start(1)] + "1" + text[array.end(1) :]
        name = f"cdef-{self._key(key)}.{sys.implementation.cache_tag}.pickle"
        tree = self._load(name)
        if tree is None:
            tree = self._parse(key)
            self.read[name] = data = pickle.dumps(tree, protocol=5)
            if self.write:
                kept.keep(kept.FOLDER / name, lambda f: f.write(data))
        if array is not None and not _set_length(tree, array.group(1)):
            return self._parse(text)  # not the shape cffi gives a type: no shortcut
        return tree

    def _key(self, text: str) -> str:
        return hashlib.sha256(self.versions + text.encode()).hexdigest()[:24]

    def _load(self, name: str) -> Any:
        """The kept tree, unpickled afresh (the caller may change it); ``None`` if missing or damaged."""
        from pycparser import c_ast

        try:
            data = self.read.get(name) or (kept.FOLDER / name).read_bytes()
            tree = pickle.loads(data)
        except Exception:  # any failure to read or unpickle means parsing again
            return None
        if not isinstance(tree, c_ast.FileAST):
            return None
        self.read[name] = data
        return tree

    def _parse(self, text: str) -> Any:
        if self.real is None:
            import pycparser

            self.real = pycparser.CParser()
        return self.real.parse(text)


def _set_length(tree: Any, length: str) -> bool:
    """Write an array's length into the tree of ``void __dummy(T[1]);``; whether it had that shape."""
    from pycparser import c_ast

    try:
        array = tree.ext[-1].type.args.params[0].type
    except (AttributeError, IndexError, TypeError):
        return False
    if not (isinstance(array, c_ast.ArrayDecl) and isinstance(array.dim, c_ast.Constant) and array.dim.value == "1"):
        return False
    array.dim.value = length
    return True


def install(write: bool | None = None) -> None:
    """Have cffi parse through the kept trees from now on (before WeasyPrint's import, to cover it too)."""
    try:
        from cffi import cparser
    except ImportError:  # no cffi parser here (cffi or pycparser missing): leave things as they are
        return
    if not isinstance(cparser._parser_cache, KeptParser):
        cparser._parser_cache = KeptParser(write, real=cparser._parser_cache)


if __name__ == "__main__":
    # ``python -m briefpress.cdefs``: keep the trees of WeasyPrint's declarations and of the types a PDF
    # build allocates, by typesetting a sample in the design's fonts.
    from .pdf import font_faces
    from .typeset import import_weasyprint

    install(write=True)
    weasyprint = import_weasyprint()
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    faces = "".join(f"@font-face {{ font-family: '{f['family']}'; src: url({f['url']}); font-weight: {f['weight']};"
                    f" font-style: {f['style']} }}" for f in font_faces())
    sample = "<p>Presidential elections in <b>Kazakhstan</b></p><p style='font-family: Source Sans Pro'>Reform</p>"
    style = weasyprint.CSS(string=faces + "body { font-family: 'Source Serif Pro' }", font_config=fonts)
    weasyprint.HTML(string=f"<html lang=en><body style='hyphens: auto'>{sample}</body></html>").write_pdf(
        stylesheets=[style], font_config=fonts)
    print(f"kept: {len(list(kept.FOLDER.glob('cdef-*.pickle')))} parsed C declarations")
