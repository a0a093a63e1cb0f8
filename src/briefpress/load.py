"""Load stage: read ``brief.yaml``, the section files and the data files, and validate them."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .errors import Diagnostics, did_you_mean
from .model import LISTS, ROLES, Brief, Metadata, Numbering, Section
from .policy import css_problems
from .resources import Refused, not_regular, read_regular, real_path

METADATA_KEYS = {
    "title", "subtitle", "authors", "date", "modified", "lang", "identifier", "publisher",
    "rights", "description", "subjects", "slug", "sections", "paper",
    "bibliography", "csl", "reference-section-title", "number-sections", "crossref", "lists",
    "callout-appearance", "callout-icon",
}
#: Quarto's document options for every callout (``customnodes/callout.lua``), and the values each takes.
CALLOUT_DEFAULTS = {"callout-appearance": ("default", "simple", "minimal"), "callout-icon": (True, False)}
#: The kinds whose reference prefix (``fig-prefix``) and caption title (``fig-title``) ``crossref:`` may set, as
#: Quarto's crossref filter reads them (``refPrefix``, ``titlePrefix``): figures, tables, sections and callouts.
PREFIX_KINDS = ("fig", "tbl", "sec", "nte", "tip", "wrn", "imp", "cau")
TITLE_KINDS = ("fig", "tbl", "nte", "tip", "wrn", "imp", "cau")
CROSSREF_KEYS: dict[str, type] = {
    "chapters": bool, "sections": str, "pages": bool, "title-delim": str, "ref-hyperlink": bool,
    **{f"{kind}-prefix": str for kind in PREFIX_KINDS}, **{f"{kind}-title": str for kind in TITLE_KINDS}}
SECTION_REFS = ("number", "title")
#: Quarto's other ``crossref`` options: for what a brief does not number (equations, listings, theorems …), or
#: numbering schemes and list titles.
_QUARTO_ONLY = re.compile(r"(?:(?:eq|lst|thm|lem|cor|prp|cnj|def|exm|exr)-(?:prefix|title|labels)|"
                          r"appendix-(?:title|delim)|custom)")
#: How Quarto's ``crossref`` may write numbers (``labels`` for every kind, or ``fig-labels`` …): ``arabic``,
#: ``roman``, ``roman i``, ``alpha a``, ``alpha A`` (the first letter), or a list of labels.
LABEL_KEYS = {"labels": "", "fig-labels": "fig", "tbl-labels": "tbl"}
_LABEL_STYLE = re.compile(r"arabic|roman(?: [iI])?|alpha \S")
#: Quarto's options a brief takes and that change nothing in it, as in Quarto: sections are numbered by
#: their own scheme (Quarto leaves ``sec-labels`` to pandoc), and a brief has no sub-figures or listings.
_INERT = ("sec-labels", "subref-labels", "lol-title")
LIST_TITLE_KEYS = {"lof-title": "fig", "lot-title": "tbl"}
REQUIRED_METADATA = ("title", "lang", "sections")
FRONT_MATTER_KEYS = {"title", "id", "short_title", "role"}
#: The brief's own templates and stylesheets, which replace the package's of the same name.
OVERRIDES = ("templates", "styles")
PAPERS = ("a4", "letter")
_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
#: Characters no output can hold (XML 1.0 forbids them), whether typed, escaped in YAML or made by Jinja.
FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)(?:^|\n)---[ \t]*(?:\r?\n|\Z)", re.S)


class YamlDocument:
    """A parsed YAML text, with the line of each top-level key and list item."""

    def __init__(self, value: Any, node: yaml.Node | None, offset: int):
        self.value = value
        self._node = node
        self._offset = offset

    def line(self, *keys: str | int) -> int:
        """Return the file line of the value at ``keys`` (or of the nearest parent found)."""
        node = self._node
        line = (node.start_mark.line if node is not None else 0) + 1 + self._offset
        for key in keys:
            found = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if k.value == key:
                        found, line = v, k.start_mark.line + 1 + self._offset
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                found = node.value[key]
                line = found.start_mark.line + 1 + self._offset
            if found is None:
                break
            node = found
        return line


def read_text(path: Path, diags: Diagnostics, root: Path | None = None) -> str | None:
    """Read a UTF-8 file, which must be a regular file (inside ``root``, if given); report the line of the
    first bad byte if it is not UTF-8."""
    try:
        raw = read_regular(path, (root or Path(path.anchor),))
    except Refused as exc:
        diags.error(path, None, f"file {exc}")
        return None
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        diags.error(path, line, f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})")
        return None
    bad = FORBIDDEN_CHARS.search(text)
    if bad:
        diags.error(path, text.count("\n", 0, bad.start()) + 1, forbidden_char_message(bad.group()))
        return None
    return text


def forbidden_char_message(char: str) -> str:
    """Describe a control character that no output format can hold."""
    return f"control character U+{ord(char):04X} is not allowed (no output format can hold it)"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader, with a bad value (a date such as 2024-13-45) reported at its node's line."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(None, None, f"bad value '{node.value}': {exc}",
                                                    node.start_mark) from exc


def parse_yaml(text: str, path: Path, diags: Diagnostics, offset: int = 0) -> YamlDocument | None:
    """Parse YAML safely; a syntax error becomes a diagnostic at the file's own line."""
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        _check_nodes(node, text)
        value = loader.construct_document(node) if node is not None else None
    except yaml.reader.ReaderError as exc:  # a character YAML does not accept; it has no mark
        line = text.count("\n", 0, exc.position) + 1 + offset
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        diags.error(path, line, f"invalid YAML: character U+{ord(char):04X} is not allowed")
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        # An error at the end of the stream is marked one line past the last: point at the last.
        last = max(1, len(text.splitlines()))
        line = min(mark.line + 1, last) + offset if mark is not None else offset + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
        diags.error(path, line, message)
        return None
    loader.dispose()
    return YamlDocument(value, node, offset)


#: Deeper nesting than this is refused: no brief needs it, and every later stage may walk the values.
MAX_DEPTH = 50
_NON_FINITE = re.compile(r"[-+]?\.(inf|nan)", re.I)


def _check_nodes(node: yaml.Node | None, text: str) -> None:
    """Walk the parsed nodes once each, refusing aliases, nesting deeper than ``MAX_DEPTH``, control characters
    written as escapes ("\\x08") and numbers that are not finite (``.nan``, ``.inf``).

    An alias is the node it names once more: a kilobyte of nested aliases is a tree of billions of values to
    every stage that walks it. A node met twice is such an alias.
    """
    if node is None:
        return
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(node, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            raise _alias_error(text, node)
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise _marked(f"values nested more than {MAX_DEPTH} levels deep", node)
        if isinstance(node, yaml.ScalarNode):
            bad = FORBIDDEN_CHARS.search(node.value)
            if bad:
                raise _marked(forbidden_char_message(bad.group()), node)
            if node.tag == "tag:yaml.org,2002:float" and _NON_FINITE.fullmatch(node.value):
                raise _marked(f"'{node.value}' is not a finite number (no output can show it)", node)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                stack.extend(((value, depth + 1), (key, depth + 1)))


def _marked(problem: str, node: yaml.Node | yaml.Token) -> yaml.MarkedYAMLError:
    return yaml.MarkedYAMLError(problem=problem, problem_mark=node.start_mark)


def _alias_error(text: str, node: yaml.Node) -> yaml.MarkedYAMLError:
    """The error for an alias, at the first alias of the text (the node itself is marked where it is anchored)."""
    scanner = _Loader(text)
    try:
        while scanner.check_token():
            token = scanner.get_token()
            if isinstance(token, yaml.AliasToken):
                return _marked(f"alias '*{token.value}' is not allowed: write the value out again", token)
    except yaml.YAMLError:
        pass
    finally:
        scanner.dispose()
    return _marked("aliases ('*name') are not allowed: write the value out again", node)


def load_brief(root: Path, diags: Diagnostics) -> Brief | None:
    """Load the brief folder at ``root``; record every problem found in ``diags``."""
    if not root.is_dir():
        diags.error(root, None, "brief folder does not exist")
        return None
    root = root.resolve()
    meta_path = root / "brief.yaml"
    if not_regular(meta_path) == "does not exist":
        diags.error(meta_path, None, "brief.yaml is missing")
        return None
    text = read_text(meta_path, diags, root)
    doc = parse_yaml(text, meta_path, diags) if text is not None else None
    if doc is None:
        return None
    if doc.value is None:
        diags.error(meta_path, 1, "brief.yaml is empty: it needs at least title, lang and sections")
        return None
    if not isinstance(doc.value, dict):
        diags.error(meta_path, doc.line(), "brief.yaml must be a mapping of keys to values")
        return None

    metadata = _metadata(doc, meta_path, root, diags)
    sections = _sections(doc, meta_path, root, diags)
    data = _data(root, diags)
    for folder in OVERRIDES:
        _check_overrides(root / folder, root, diags)
    if metadata is None or sections is None:
        return None
    return Brief(root=root, metadata=metadata, sections=tuple(sections), data=data)


def _metadata(doc: YamlDocument, path: Path, root: Path, diags: Diagnostics) -> Metadata | None:
    raw: dict[str, Any] = doc.value
    for key in raw:
        if key not in METADATA_KEYS:
            diags.error(path, doc.line(key), f"unknown key '{key}'{did_you_mean(str(key), METADATA_KEYS)}")
    missing = [key for key in REQUIRED_METADATA
               if raw.get(key) in (None, "", []) or (isinstance(raw.get(key), str) and not raw[key].strip())]
    for key in missing:
        diags.error(path, 1, f"missing required key '{key}'")

    def text(key: str, default: str = "") -> str:
        value = raw.get(key, default)
        if value is None:
            return default
        if not isinstance(value, (str, int, float)):
            diags.error(path, doc.line(key), f"'{key}' must be text")
            return default
        return str(value).strip()

    def texts(key: str) -> tuple[str, ...]:
        value = raw.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            diags.error(path, doc.line(key), f"'{key}' must be a list of text")
            return ()
        return tuple(str(v) for v in value)

    def date(key: str) -> dt.date | None:
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            diags.error(path, doc.line(key), f"'{key}' must be an ISO date (YYYY-MM-DD), not '{value}'")
            return None

    title = text("title")
    lang = text("lang")
    if lang and not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", lang):
        diags.error(path, doc.line("lang"), f"'lang' must be a language tag such as 'en' or 'en-GB', not '{lang}'")
    slug = text("slug") or _slugify(title) or root.name
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", slug):
        diags.error(path, doc.line("slug"), f"'slug' must use only a-z, 0-9 and '-', not '{slug}'")
    paper = text("paper", "a4").lower()
    if paper not in PAPERS:
        diags.error(path, doc.line("paper"), f"'paper' must be one of {', '.join(PAPERS)}{did_you_mean(paper, PAPERS)}")
    day = date("date")
    if raw.get("date") is not None and day is None:
        return None
    identifier = text("identifier")
    if not identifier:
        identifier = f"urn:briefpress:{slug}"
        diags.warning(path, 1, f"no 'identifier': using '{identifier}'; give the brief a stable one")
    if missing or not title or not lang:
        return None
    return Metadata(
        title=title, lang=lang, slug=slug, identifier=identifier,
        date=day or dt.date(1970, 1, 1), subtitle=text("subtitle"), authors=texts("authors"),
        modified=date("modified"), publisher=text("publisher"), rights=text("rights"),
        description=text("description"), subjects=texts("subjects"), paper=paper,
        numbering=_numbering(doc, path, diags), callouts=_callout_defaults(doc, path, diags),
    )


def _callout_defaults(doc: YamlDocument, path: Path, diags: Diagnostics) -> tuple[tuple[str, str], ...]:
    """``callout-appearance`` and ``callout-icon``: what every callout takes unless it says otherwise."""
    found = []
    for key, allowed in CALLOUT_DEFAULTS.items():
        if key not in doc.value:
            continue
        value = doc.value[key]
        if value not in allowed or isinstance(value, bool) != isinstance(allowed[0], bool):
            diags.error(path, doc.line(key), f"'{key}' must be " + " or ".join(
                str(v).lower() if isinstance(v, bool) else v for v in allowed))
            continue
        found.append((key.removeprefix("callout-"), str(value).lower()))
    return tuple(found)


def _numbering(doc: YamlDocument, path: Path, diags: Diagnostics) -> Numbering:
    """``number-sections``, ``crossref`` and ``lists``: how figures, tables, boxes and sections are numbered."""
    raw: dict[str, Any] = doc.value
    number_sections = raw.get("number-sections", False)
    if not isinstance(number_sections, bool):
        diags.error(path, doc.line("number-sections"), "'number-sections' must be true or false")
        number_sections = False
    options: dict[str, Any] = {}
    crossref = raw.get("crossref") or {}
    if not isinstance(crossref, dict):
        diags.error(path, doc.line("crossref"), "'crossref' must be a mapping (chapters, sections, pages)")
        crossref = {}
    labels: list[tuple[str, str | tuple[str, ...]]] = []
    for key, value in crossref.items():
        kind = CROSSREF_KEYS.get(str(key))
        if str(key) in LABEL_KEYS:
            style = _label_style(value)
            if style is None:
                diags.error(path, doc.line("crossref", key), f"'crossref.{key}' must be arabic, roman, roman i, "
                            "alpha a (alpha A …: the first letter) or a list of labels")
            else:
                labels.append((LABEL_KEYS[str(key)], style))
        elif str(key) in _INERT:
            continue
        elif str(key) in LIST_TITLE_KEYS:
            if not isinstance(value, str) or not value.strip() or "\n" in value.strip():
                diags.error(path, doc.line("crossref", key), f"'crossref.{key}' must be one line of text: the "
                            "list's heading")
            else:
                options[str(key)] = value
        elif kind is None and _QUARTO_ONLY.fullmatch(str(key)):
            diags.error(path, doc.line("crossref", key), f"'crossref.{key}' is an option of Quarto's that a brief "
                        "does not take: a brief numbers figures, tables, boxes, callouts and sections")
        elif kind is None:
            diags.error(path, doc.line("crossref", key),
                        f"unknown key 'crossref.{key}'{did_you_mean(str(key), CROSSREF_KEYS)}")
        elif not isinstance(value, kind) or (key == "sections" and value not in SECTION_REFS):
            diags.error(path, doc.line("crossref", key), f"'crossref.{key}' must be " + (
                "true or false" if kind is bool else " or ".join(f"'{v}'" for v in SECTION_REFS)
                if key == "sections" else "text (quote it if YAML reads it as something else)"))
        elif kind is str and key != "sections" and "\n" in value.strip():
            diags.error(path, doc.line("crossref", key), f"'crossref.{key}' must be one line of text")
        elif str(key).endswith("-title") and not value.strip():
            diags.error(path, doc.line("crossref", key), f"'crossref.{key}' must not be empty: it starts each "
                        "caption")
        else:
            options[str(key)] = value
    if options.get("ref-hyperlink") is False and options.get("pages"):
        diags.error(path, doc.line("crossref", "ref-hyperlink"), "'crossref.pages' prints each reference's page "
                    "from its link: with 'ref-hyperlink: false' there is none; drop one of the two")
    lists = raw.get("lists") or []
    if isinstance(lists, str):
        lists = [lists]
    if not isinstance(lists, list) or not all(isinstance(v, str) for v in lists):
        diags.error(path, doc.line("lists"), f"'lists' must be a list of {', '.join(LISTS)}")
        lists = []
    for index, name in enumerate(lists):
        if name not in LISTS:
            diags.error(path, doc.line("lists", index),
                        f"'lists' may name {', '.join(LISTS)}, not '{name}'{did_you_mean(name, LISTS)}")
    return Numbering(
        per_section=options.get("chapters", False), number_sections=number_sections,
        section_refs=options.get("sections", "number" if number_sections else "title"),
        pages=options.get("pages", False), lists=tuple(dict.fromkeys(v for v in lists if v in LISTS)),
        ref_prefixes=tuple((k, options[f"{k}-prefix"].strip()) for k in PREFIX_KINDS if f"{k}-prefix" in options),
        caption_titles=tuple((k, options[f"{k}-title"].strip()) for k in TITLE_KINDS if f"{k}-title" in options),
        title_delim=options.get("title-delim", ":").strip(), ref_hyperlink=options.get("ref-hyperlink", True),
        labels=tuple(labels),
        list_titles=tuple((kind, options[key].strip()) for key, kind in LIST_TITLE_KEYS.items() if key in options),
    )


def _label_style(value: Any) -> str | tuple[str, ...] | None:
    """A ``labels`` option's style, as ``model.Numbering.number_label`` takes it; ``None`` if it is not one."""
    if isinstance(value, str) and _LABEL_STYLE.fullmatch(value.strip()):
        return value.strip()
    if isinstance(value, list) and value and all(isinstance(v, (str, int)) and str(v).strip() for v in value) \
            and all("\n" not in str(v) for v in value):
        return tuple(str(v).strip() for v in value)
    return None


def _sections(doc: YamlDocument, path: Path, root: Path, diags: Diagnostics) -> list[Section] | None:
    listed = doc.value.get("sections")
    if listed in (None, "", []):
        return None
    if not isinstance(listed, list):
        diags.error(path, doc.line("sections"), "'sections' must be a list of file paths relative to the brief folder")
        return None
    sections: list[Section] = []
    id_lines: dict[Path, int] = {}
    seen: set[Path] = set()
    named: set[Path] = set()  # as listed, before links are followed: such a file is listed, if refused
    for index, entry in enumerate(listed):
        line = doc.line("sections", index)
        if not isinstance(entry, str) or not entry.strip():
            diags.error(path, line, "each entry of 'sections' must be a file path")
            diags.lost.add("sections")
            continue
        named.add(Path(os.path.normpath(root / entry)))
        try:
            file = real_path(root / entry)
        except Refused as exc:
            diags.error(path, line, f"section '{entry}' {exc}")
            diags.lost.add("sections")
            continue
        if not file.is_relative_to(root):
            diags.error(path, line, f"section '{entry}' is outside the brief folder")
            diags.lost.add("sections")
            continue
        if file in seen:
            diags.error(path, line, f"section '{entry}' is listed twice")
            continue
        seen.add(file)
        problem = not_regular(file)
        if problem:
            diags.error(path, line, f"section file '{entry}' {problem}")
            diags.lost.add("sections")
            continue
        loaded = _load_section(file, diags, root)
        if loaded is None:
            diags.lost.add("sections")
        else:
            sections.append(loaded[0])
            id_lines[loaded[0].path] = loaded[1]
    for stray in sorted(root.rglob("*.md")):
        if Path(os.path.normpath(stray)) in named or stray.relative_to(root).parts[0] in OVERRIDES:
            continue
        try:
            listed_as = real_path(stray) in seen
        except Refused as exc:
            diags.error(stray, None, f"file {exc}")
            continue
        if not listed_as:
            diags.warning(stray, None, "section file is not listed in brief.yaml 'sections' and is not built")
    _check_ids(sections, id_lines, diags)
    return sections


def load_section(path: Path, diags: Diagnostics, root: Path | None = None) -> Section | None:
    """Load one Markdown section file with its YAML front matter."""
    loaded = _load_section(path, diags, root)
    return loaded[0] if loaded is not None else None


def _load_section(path: Path, diags: Diagnostics, root: Path | None) -> tuple[Section, int] | None:
    """Load a section; return it with the line its id comes from (for duplicate-id errors)."""
    text = read_text(path, diags, root)
    if text is None:
        return None
    match = _FRONT_MATTER_RE.match(text)
    if not match:
        diags.error(path, 1, "section has no YAML front matter: start the file with '---', a 'title:' line and '---'")
        return None
    doc = parse_yaml(match.group(1), path, diags, offset=1)
    if doc is None:
        return None
    meta = doc.value if doc.value is not None else {}
    if not isinstance(meta, dict):
        diags.error(path, 2, "front matter must be a mapping of keys to values")
        return None
    ok = True
    for key in meta:
        if key not in FRONT_MATTER_KEYS:
            diags.error(path, doc.line(key), f"unknown front matter key '{key}'{did_you_mean(str(key), FRONT_MATTER_KEYS)}")
            ok = False
    title = meta.get("title")
    if not isinstance(title, (str, int, float)) or not str(title).strip():
        diags.error(path, doc.line("title") if "title" in meta else 1, "front matter needs a 'title'")
        return None
    stem_id = re.sub(r"^\d+[-_]?", "", path.stem) or path.stem
    section_id = str(meta.get("id") or stem_id)
    if not _ID_RE.match(section_id):
        diags.error(path, doc.line("id"), f"'id' must start with a letter and use only letters, digits, '-', '_' and '.', not '{section_id}'")
        ok = False
    role = str(meta.get("role", "body"))
    if role not in ROLES:
        diags.error(path, doc.line("role"), f"'role' must be one of {', '.join(ROLES)}{did_you_mean(role, ROLES)}")
        ok = False
    if not ok:
        return None
    body_start = text[: match.end()].count("\n") + 1
    id_line = doc.line("id") if "id" in meta else 1
    return Section(
        path=path, id=section_id, title=str(title).strip(),
        short_title=str(meta.get("short_title") or title).strip(), role=role,
        source=text[match.end():], first_line=body_start, meta=MappingProxyType(dict(meta)),
    ), id_line


def _check_ids(sections: list[Section], id_lines: dict[Path, int], diags: Diagnostics) -> None:
    owners: dict[str, Section] = {}
    for section in sections:
        if section.id in owners:
            other = owners[section.id]
            diags.error(section.path, id_lines.get(section.path, 1),
                        f"duplicate section id '{section.id}' (also used by {other.path.name})")
        owners[section.id] = section


def _data(root: Path, diags: Diagnostics) -> MappingProxyType:
    data: dict[str, Any] = {}
    folder = root / "data"
    if os.path.lexists(folder) and not folder.is_dir():
        try:
            problem = "is not a folder" if real_path(folder).exists() else "leads nowhere (a broken link)"
        except Refused as exc:
            problem = str(exc)
        diags.error(folder, None, f"folder {problem}")
    if folder.is_dir():
        try:
            names = sorted(name for name in os.listdir(folder) if name.endswith((".yaml", ".yml")))
        except OSError as exc:
            diags.error(folder, None, f"folder cannot be read: {exc.strerror}")
            names = []
        for file in (folder / name for name in names):
            text = read_text(file, diags, root)
            doc = parse_yaml(text, file, diags) if text is not None else None
            if doc is not None:
                data[file.stem] = doc.value
            else:
                diags.lost.add(f"data.{file.stem}")
    return MappingProxyType(data)


def _check_overrides(folder: Path, root: Path, diags: Diagnostics) -> None:
    """Check that everything in a folder of overrides (``templates/``, ``styles/``) is, links followed, a
    regular file or folder inside the brief: later stages may then open any of them by name."""
    if not os.path.lexists(folder):
        return
    pending = [folder]
    seen: set[Path] = set()  # folders, links followed: a link to a folder above it is walked once
    while pending:
        current = pending.pop()
        try:
            real = real_path(current)
            if not real.is_relative_to(root):
                raise Refused("resolves outside the brief folder (symbolic link); a build reads nothing outside it")
            if real.is_dir():
                if real in seen:
                    continue
                seen.add(real)
                pending.extend(sorted(current.iterdir(), reverse=True))
                continue
            problem = not_regular(real)
            if problem:
                raise Refused(problem)
            if current.suffix == ".css":
                _check_stylesheet(current, root, diags)
        except Refused as exc:
            diags.error(current, None, f"file {exc}")
        except OSError as exc:
            diags.error(current, None, f"folder cannot be read: {exc.strerror}")


def _check_stylesheet(path: Path, root: Path, diags: Diagnostics) -> None:
    """Report each URL of the brief's own stylesheet that would load something from outside the brief, at its
    line, for every edition (the HTML and EPUB editions allow only ``data:`` URLs, and check that too)."""
    text = read_text(path, diags, root)
    for line, problem in css_problems(text or "", relative=True):
        diags.error(path, line, problem)


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
