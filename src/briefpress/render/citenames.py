"""A citation style's global given-name rule, relaxed where it cannot change a character.

Chicago author-date, APA and others give a global rule (``givenname-disambiguation-rule="primary-name"``),
and pandoc's citeproc compares every name with every other under it: its time grows with the square of the
citations. Where no family name of the works cited stands for two people, no rule can add a given name, and
the style's text is the same under ``by-cite``, which pandoc applies cite by cite (``citeproc`` asks for it
from ``MANY_CLUSTERS`` clusters on).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Collection, Sequence

from . import pandoc

#: From this many clusters on, a style's global given-name rule is relaxed where it cannot change a character.
MANY_CLUSTERS = 150
GLOBAL_RULE = re.compile(r'(<citation\b[^>]*\bdisambiguate-add-givenname="true"[^>]*?\s)'
                          r'givenname-disambiguation-rule="(?:all-names|all-names-with-initials|primary-name|'
                          r'primary-name-with-initials)"')
_NAME_FIELDS = ("author", "editor", "translator", "container-author", "collection-editor", "composer",
                "director", "interviewer", "recipient", "reviewed-author", "illustrator", "editorial-director",
                "original-author", "chair", "compiler", "contributor", "curator", "executive-producer", "guest",
                "host", "narrator", "organizer", "performer", "producer", "script-writer", "series-creator")


def by_cite_when_unambiguous(style_xml: str, folder: str, files: Sequence[str], cited: Collection[str]) -> str:
    """A style whose given-name rule is global (``primary-name``, ``all-names``…) costs pandoc time that grows
    with the square of the citations: it compares every name with every other. Where no family name of the
    works cited stands for two people (two given names), no name is ambiguous, so no rule adds a given name
    and the result is the same under ``by-cite``, which pandoc checks cite by cite: the style is given that
    rule. The names are read by pandoc itself, as CSL-JSON."""
    given: dict[str, set[str]] = {}
    for item in _references(folder, files):
        if not isinstance(item, dict) or str(item.get("id")) not in cited:
            continue
        for field_name in _NAME_FIELDS:
            people = item.get(field_name)
            for person in people if isinstance(people, list) else ():
                if isinstance(person, dict) and person.get("family"):
                    family = " ".join(str(person.get(k, "")) for k in ("non-dropping-particle", "family"))
                    given.setdefault(family.strip().casefold(), set()).add(str(person.get("given", "")))
    if any(len(names) > 1 for names in given.values()):
        return style_xml
    return GLOBAL_RULE.sub(r'\1givenname-disambiguation-rule="by-cite"', style_xml, count=1)


def _references(folder: str, files: Sequence[str]) -> list[Any]:
    """Every reference of the bibliography files, as pandoc reads them (CSL-JSON), one run a file, side by side."""
    runs = []
    found: list[Any] = []
    try:
        for name in files:
            if name.endswith(".json"):
                found += json.loads(Path(folder, name).read_text(encoding="utf-8"))
                continue
            reader = "biblatex" if name.endswith(".bib") else "markdown"
            runs.append(pandoc.run(["-f", reader, "-t", "csljson", name], "", folder))
        for process in runs:
            found += pandoc.finish(process, "", files)
    finally:
        for process in runs:
            if process.poll() is None:
                process.kill()
                process.wait()
    return found
