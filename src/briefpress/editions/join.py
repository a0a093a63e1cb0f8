"""Join the PDFs of a brief's parts into one tagged PDF, as if it had been laid out whole.

WeasyPrint writes each part as a complete PDF/UA document. Joining keeps the first part's catalogue
(metadata, language, viewer preferences) and combines what spans the parts:

- the pages, in order;
- the structure tree: each part's ``Document`` children under one ``Document`` element, and the parent
  tree's keys (on pages and link annotations) shifted past the parts before;
- the named destinations, one tree for all;
- the outline, rebuilt from each part's, pointing at the joined pages;
- links to another part, which leave WeasyPrint as URIs of a private scheme, made internal links again;
- the fonts: each part embeds its own subset of each face, so the subsets of a face are merged into one
  (``fonts.py``), and the joined PDF embeds each face once, as a whole layout does;
- the page labels, given by the caller (the front numbered apart);
- the ``/ID``: its first half from the brief's identifier, as WeasyPrint writes it; the second from the
  content.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any, BinaryIO, Sequence

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from .fonts import merge_fonts


def join(parts: list[bytes], target: Path | BinaryIO, identifier: bytes, cross_part: str,
         labels: Sequence[tuple[int, str]] = ()) -> int:
    """Join the parts' PDFs into ``target``, its pages labelled by ``labels`` ((first page's index, numbering
    style), as ``/PageLabels`` gives them) if any; return the page count.

    Each part after the first is opened when it is joined and closed once copied (pikepdf copies what it
    takes from another ``Pdf`` at once, and documents that the source may then be closed): open together,
    the parts held 40 MB more at 300 pages, the peak of the build's memory."""
    joined = pikepdf.new()
    first = pikepdf.open(io.BytesIO(parts[0]))
    joined.Root.Type = Name.Catalog
    document = joined.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, K=Array()))
    parent_tree: list[Any] = []  # the joined parent tree's numbers: key, value, key, value…
    dests: dict[str, Any] = {}
    next_key = 0
    outline: list[tuple[int, pikepdf.OutlineItem]] = []  # (page offset, item of its part)
    for index, data in enumerate(parts):
        source = first if index == 0 else pikepdf.open(io.BytesIO(data))
        offset = len(joined.pages)
        with warnings.catch_warnings():  # about named destinations, which are joined below
            warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
            joined.pages.extend(source.pages)
        tree = joined.copy_foreign(source.Root.StructTreeRoot)
        for kid in _kids(tree.K):
            kid.P = document
            document.K.append(kid)
        numbers = list(tree.ParentTree.Nums)
        for key, value in zip(numbers[::2], numbers[1::2]):
            parent_tree += [int(key) + next_key, value]
        for page in joined.pages[offset:]:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + next_key
            for annotation in page.obj.get("/Annots", []):
                if "/StructParent" in annotation:
                    annotation.StructParent = int(annotation.StructParent) + next_key
                _internal(annotation, cross_part)
        next_key += max((int(key) for key in numbers[::2]), default=-1) + 1
        names = source.Root.get("/Names")
        if names is not None and "/Dests" in names:
            for name, dest in pikepdf.NameTree(names.Dests).items():
                dests[str(name)] = _copy(joined, dest)
        with source.open_outline() as part_outline:
            outline += [(offset, _plain(source, item)) for item in part_outline.root]
        if source is not first:  # the catalogue's entries are copied from the first below
            source.close()

    joined.Root.StructTreeRoot = joined.make_indirect(Dictionary(
        Type=Name.StructTreeRoot, K=Array([document]),
        ParentTree=joined.make_indirect(Dictionary(Nums=Array(parent_tree))), ParentTreeNextKey=next_key))
    document.P = joined.Root.StructTreeRoot
    tree = pikepdf.NameTree.new(joined)
    for name in sorted(dests):
        tree[name] = dests[name]
    joined.Root.Names = Dictionary(Dests=tree.obj)
    for key in ("/MarkInfo", "/Lang", "/ViewerPreferences", "/Metadata"):
        if key in first.Root:
            joined.Root[key] = _copy(joined, first.Root[key])
    if outline:
        with joined.open_outline() as joined_outline:
            for offset, item in outline:
                joined_outline.root.append(_placed(item, offset))
        joined.Root.PageMode = Name.UseOutlines
    if labels:
        joined.Root.PageLabels = Dictionary(Nums=Array(
            [item for start, style in labels for item in (start, Dictionary(S=Name("/" + style)))]))
    joined.docinfo = joined.make_indirect(_copy(joined, first.docinfo))
    merge_fonts(joined)
    joined.trailer.ID = Array([String(identifier), String(identifier)])  # qpdf keeps the first half
    count = len(joined.pages)
    # The parts keep their small objects (the tagged structure's elements, thousands of them) compressed
    # in object streams; without them again the joined PDF would be three times the size of its parts.
    # Saved in memory, and written here: qpdf's own writing, met with a full disk, throws a C++ exception
    # that can end the process (``terminate``); written by Python, it is an ``OSError`` like any other.
    buffer = io.BytesIO()
    joined.save(buffer, min_version=first.pdf_version, deterministic_id=True,
                object_stream_mode=pikepdf.ObjectStreamMode.generate)
    if isinstance(target, Path):
        target.write_bytes(buffer.getbuffer())
    else:
        target.write(buffer.getbuffer())
    return count


def _copy(joined: pikepdf.Pdf, obj: Any) -> Any:
    """``obj`` of another PDF, usable in ``joined``; indirect objects are copied once per source."""
    if isinstance(obj, pikepdf.Object) and obj.is_indirect:
        return joined.copy_foreign(obj)
    if isinstance(obj, Array):
        return Array([_copy(joined, item) for item in obj])
    if isinstance(obj, Dictionary):
        return Dictionary({key: _copy(joined, value) for key, value in obj.items()})
    return obj


def _kids(k: Any) -> list[Any]:
    """The children of a part's structure tree root's ``Document`` element."""
    root = k[0] if isinstance(k, Array) else k
    return list(root.K) if isinstance(root.K, Array) else [root.K]


def _internal(annotation: Any, cross_part: str) -> None:
    """Make a link WeasyPrint wrote as a ``cross_part`` URI an internal link to the named destination."""
    action = annotation.get("/A")
    uri = str(action.get("/URI", "")) if action is not None else ""
    if uri.startswith(cross_part):
        del annotation["/A"]
        annotation.Dest = String(uri[len(cross_part):])


def _plain(source: pikepdf.Pdf, item: pikepdf.OutlineItem) -> tuple:
    """An outline item as (title, page index in its part, left, top, children)."""
    dest = item.destination
    if isinstance(dest, (String, str)):
        dest = pikepdf.NameTree(source.Root.Names.Dests)[str(dest)]
    left, top = (None if x is None else float(x) for x in list(dest[2:4]))  # an /XYZ view
    return (str(item.title), pikepdf.Page(dest[0]).index, left, top, [_plain(source, kid) for kid in item.children])


def _placed(item: tuple, offset: int) -> pikepdf.OutlineItem:
    """A part's outline item, pointing into the joined pages."""
    title, page, left, top, children = item
    placed = pikepdf.OutlineItem(title, offset + page, "XYZ", left=left, top=top)
    placed.children.extend(_placed(child, offset) for child in children)
    return placed
