"""The bibliography as pandoc reads it: a style's global given-name rule relaxed where it cannot change a
character, and the CSL-YAML ids pandoc reads otherwise than they are written.

Chicago author-date, APA and others give a global rule (``givenname-disambiguation-rule="primary-name"``),
and pandoc's citeproc compares every name with every other under it: its time grows with the square of the
citations. Where no family name of the works cited stands for two people, no rule can add a given name, and
the style's text is the same under ``by-cite``, which pandoc applies cite by cite (``citeproc`` asks for it
from ``MANY_CLUSTERS`` clusters on).

pandoc reads every field of a CSL-YAML file as Markdown, its id too: ``a*b*c`` is the reference ``abc`` to it,
``a'b`` is ``a’b``. A citation of the id as written then finds nothing. ``misread`` finds such ids.

Each file is read by pandoc once a process for a given text (as CSL-JSON); both uses share the reading.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any, Collection, Sequence

import yaml

from . import pandoc

#: From this many clusters on, a style's global given-name rule is relaxed where it cannot change a character.
MANY_CLUSTERS = 150
GLOBAL_RULE = re.compile(r'(<citation\b[^>]*\bdisambiguate-add-givenname="true"[^>]*?\s)'
                          r'givenname-disambiguation-rule="(?:all-names|all-names-with-initials|primary-name|'
                          r'primary-name-with-initials)"')
#: The rules under which only the first name of each name variable is compared with others.
_PRIMARY_RULE = re.compile(r'<citation\b[^>]*\bgivenname-disambiguation-rule="primary-name')
_NAME_FIELDS = ("author", "editor", "translator", "container-author", "collection-editor", "composer",
                "director", "interviewer", "recipient", "reviewed-author", "illustrator", "editorial-director",
                "original-author", "chair", "compiler", "contributor", "curator", "executive-producer", "guest",
                "host", "narrator", "organizer", "performer", "producer", "script-writer", "series-creator")
#: An id pandoc's Markdown reads as written: letters and digits, with single - _ . : / between them, starting
#: with a letter (so that no YAML reads it as a number).
_PLAIN_ID = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_.:/][A-Za-z0-9]+)*\Z")
#: Bibliographies read, by reader and text (a few; a build reads each file at most once).
_READ: dict[tuple[str, str], list[Any]] = {}
_KEPT = 8
_READ_LOCK = threading.Lock()


def by_cite_when_unambiguous(style_xml: str, folder: str, files: Sequence[str], cited: Collection[str]) -> str:
    """A style whose given-name rule is global (``primary-name``, ``all-names``…) costs pandoc time that grows
    with the square of the citations: it compares every name with every other. Where no family name of the
    works cited stands for two people (two given names), no name is ambiguous, so no rule adds a given name
    and the result is the same under ``by-cite``, which pandoc checks cite by cite: the style is given that
    rule. The names are read by pandoc itself, as CSL-JSON."""
    if shared_family(style_xml, folder, files, cited):
        return style_xml
    return GLOBAL_RULE.sub(r'\1givenname-disambiguation-rule="by-cite"', style_xml, count=1)


def shared_family(style_xml: str, folder: str, files: Sequence[str], cited: Collection[str]) -> tuple[str, ...]:
    """The people (``Given Family``) of the first family name that stands for two of those the works cited
    name, as the style's rule compares them: under ``primary-name`` rules the first person of each name
    variable, under ``all-names`` rules every person. Empty if there is none."""
    first_only = bool(_PRIMARY_RULE.search(style_xml))
    given: dict[str, dict[str, str]] = {}
    for item in _references(folder, files):
        if not isinstance(item, dict) or str(item.get("id")) not in cited:
            continue
        for field_name in _NAME_FIELDS:
            people = item.get(field_name)
            for person in (people[:1] if first_only else people) if isinstance(people, list) else ():
                if isinstance(person, dict) and person.get("family"):
                    family = " ".join(str(person.get(k, "")) for k in ("non-dropping-particle", "family")).strip()
                    name = str(person.get("given", ""))
                    given.setdefault(family.casefold(), {}).setdefault(name, f"{name} {family}".strip())
    for names in given.values():
        if len(names) > 1:
            return tuple(sorted(names.values()))
    return ()


def misread(folder: str, files: Sequence[str]) -> list[tuple[int, str, str]]:
    """The CSL-YAML ids of ``files`` that pandoc reads otherwise than they are written, as (the file's index,
    the id as written, the id pandoc reads). A file whose ids are all plain (``smith2020``, ``doe-2019:a``) is
    not given to pandoc."""
    written: dict[int, list[str]] = {}
    for index, name in enumerate(files):
        if name.endswith(".yaml"):
            ids = _yaml_ids(Path(folder, name).read_text(encoding="utf-8"))
            if ids is not None and not all(isinstance(i, str) and _PLAIN_ID.match(i) for i in ids):
                written[index] = [str(i) for i in ids]
    if not written:
        return []
    read = _read_files(folder, files, set(written))
    found = []
    for index, ids in written.items():
        theirs = [item.get("id") if isinstance(item, dict) else None for item in read[index]]
        if len(theirs) != len(ids):
            continue  # an item pandoc drops, which the brief's loading has reported
        found += [(index, mine, str(other)) for mine, other in zip(ids, theirs) if str(other) != mine]
    return found


def _yaml_ids(text: str) -> list[Any] | None:
    """The ids of a CSL-YAML text's references, as the brief's loading reads them (a whole number as written
    in digits); None where an item has none, or the text is not such a list (the loading reports it)."""
    try:
        value = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError):
        return None
    items = value.get("references") if isinstance(value, dict) else value
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("id"), (str, int))
                                              for i in items):
        return None
    return [item["id"] for item in items]


def _references(folder: str, files: Sequence[str]) -> list[Any]:
    """Every reference of the bibliography files, as pandoc reads them (CSL-JSON)."""
    read = _read_files(folder, files, set(range(len(files))))
    return [item for index in range(len(files)) for item in read[index]]


def _read_files(folder: str, files: Sequence[str], which: set[int]) -> dict[int, list[Any]]:
    """The references of the files ``which`` (indexes of ``files``) as pandoc reads them: one run a file not
    read before, side by side. A file pandoc cannot read is an ``EngineError`` naming it."""
    found: dict[int, list[Any]] = {}
    runs = []
    with pandoc.Runs(folder) as started:
        for index in sorted(which):
            name = files[index]
            text = Path(folder, name).read_text(encoding="utf-8")
            if name.endswith(".json"):
                found[index] = json.loads(text)
                continue
            reader, given = ("biblatex", text) if name.endswith(".bib") else ("markdown", _metadata_block(text))
            with _READ_LOCK:
                kept = _READ.get((reader, given))
            if kept is not None:
                found[index] = kept
                continue
            runs.append((index, reader, given, started.start(["-f", reader, "-t", "csljson"], given)))
        for index, reader, given, process in runs:
            try:
                items = pandoc.finish(process, files)
            except pandoc.EngineError as exc:
                if exc.file is None and not isinstance(exc, pandoc.EngineTimeout):
                    exc.file = index  # the file read on its own is the one at fault
                raise
            found[index] = items if isinstance(items, list) else []
            with _READ_LOCK:
                while len(_READ) >= _KEPT:
                    del _READ[next(iter(_READ))]
                _READ[(reader, given)] = found[index]
    return found


def _metadata_block(text: str) -> str:
    """A CSL-YAML text as a Markdown document's metadata block, which pandoc reads as it reads the file given
    as a bibliography: between ``---`` and ``...`` (the text's own document markers, if any, stand in)."""
    lines = text.splitlines()
    if lines and lines[0].rstrip() == "---":
        lines = lines[1:]
    if lines and lines[-1].rstrip() in ("---", "..."):
        lines = lines[:-1]
    return "---\n" + "\n".join(lines) + "\n...\n"
