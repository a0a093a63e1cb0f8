"""CSL formatting by pandoc's own citeproc, run as a separate program (PyPI ``pypandoc-binary``).

The brief's citations are given to pandoc once, as one Markdown document that holds every cluster's source
text in reading order, each in the note it stands in (a note that holds none is kept as an empty note, so that
pandoc numbers the notes as the brief does). pandoc parses the citations, its locators and affixes, reads the
bibliography files and the style, and returns its document as JSON; the formatted clusters and the bibliography
are read back from that tree and written as HTML by ``cslhtml``. The text is therefore pandoc's by
construction. pandoc is GPL-licensed and runs as its own process; nothing of it is linked into the package.

pandoc reads only what is written for it into a temporary folder: the bibliography files and the style as the
brief's loading read them (so a file changed or swapped in between is never read), and the brief's own
reference for "Cite this brief". Its heap and its time are bounded, and it dies with the build (``pandoc``).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..cache import Cache, code, version
from ..cache import key as cache_key
from ..model import BibFile
from . import citenames, citetree, pandoc
from .citetree import Formatted
from .cslhtml import Writer
from .pandoc import EngineError as EngineError  # raised here, caught by the caller
from .pandoc import EngineTimeout as EngineTimeout  # a run that took too long: the run's fault, not the style's

#: The Markdown pandoc reads the clusters as: its own syntax, with the sources' raw HTML and TeX off (as in the
#: brief's own text), no metadata blocks, and no example lists (a cluster stands alone in its paragraph, and a
#: narrative ``@key.`` or ``@key)`` there would be read as an example list's item, not as a citation).
READER = "markdown-raw_html-raw_tex-raw_attribute-yaml_metadata_block-tex_math_dollars-example_lists"
#: The id of the brief's own reference, in the run that formats it alone.
THIS_BRIEF = "this-brief"
_SAFE_KEY = re.compile(r"[A-Za-z0-9_.-]+\Z")


@dataclass(frozen=True)
class CiteItem:
    """One reference cited in a cluster (its locator, prefix and suffix are read by pandoc, from the source)."""

    id: str


@dataclass(frozen=True)
class Cluster:
    """One citation (one pair of brackets, or one narrative ``@key``), with the note it stands in (0: none)."""

    items: tuple[CiteItem, ...]
    note: int = 0
    narrative: bool = False
    #: The cluster is a note of its own (a citation under a note style), not a citation inside a note.
    own_note: bool = False
    #: Its Markdown, as written (``[see @a, p. 3]``, ``@a [p. 3]``).
    source: str = ""
    #: The punctuation right after the citation (pandoc moves it into a note the citation becomes).
    after: str = ""
    #: The citation begins a note of one paragraph (pandoc then sets it as the note's own citation).
    lead: bool = False


@dataclass(frozen=True)
class Output:
    """What the engine made of a brief's citations."""

    clusters: tuple[Formatted, ...]
    #: Bibliography entries in the style's order, as (reference id, entry HTML).
    entries: tuple[tuple[str, str], ...]
    note_style: bool
    #: The style's bibliography layout: a hanging indent.
    hanging_indent: bool = False
    #: References the style gives no bibliography entry (a speech with no publisher, in some styles).
    unprinted: tuple[str, ...] = field(default=())
    #: Clusters pandoc did not read as citations (their index), printed as written.
    unread: tuple[int, ...] = field(default=())
    #: Clusters that cite a key pandoc found no reference for, as (index, key); each is also unread (pandoc
    #: would print its bold ``key?``).
    missing: tuple[tuple[int, str], ...] = field(default=())
    #: The brief's own entry, for "Cite this brief" (empty unless asked for).
    brief_entry: str = ""


def anchor(key: str) -> str:
    """The id of a reference's bibliography entry, the same in every edition: ``ref-`` and the key where the key
    is a plain name, or a name made of its letters and a digest of it (ids must be XML names, and a key from a
    bibliography file can hold any character)."""
    if _SAFE_KEY.match(key) and key[0].isalnum():
        return f"ref-{key}"
    plain = re.sub(r"[^A-Za-z0-9_.-]+", "-", key).strip("-.")[:40]
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
    return f"ref-{plain}-{digest}" if plain else f"ref-{digest}"


def document(clusters: Sequence[Cluster]) -> str:
    """The Markdown pandoc is given: every cluster in reading order, each inside the note it stands in; notes
    that hold no citation are empty notes, so that pandoc numbers every note as the brief does (a citation's
    note number decides ``ibid.`` and short forms). A note's citations share one paragraph, after a word unless
    one begins the note (pandoc puts the others in parentheses)."""
    text: list[str] = []
    notes: list[str] = []
    numbered = 0  # notes pandoc has seen so far
    open_note = 0  # the brief's note whose body is being written
    for cluster in clusters:
        source = " ".join(cluster.source.split())
        in_note = cluster.note > 0 and not cluster.own_note
        if in_note:
            cite = f"{source}{cluster.after}" if cluster.lead else f"x {source}{cluster.after}"
            if cluster.note == open_note:
                notes[-1] += f" x {source}{cluster.after}"
                continue
        target = cluster.note if cluster.note > 0 else numbered
        while numbered < target - 1:
            numbered += 1
            text.append(f"[^{numbered}]\n")
            notes.append(f"[^{numbered}]: \\-")
        if in_note:
            numbered += 1
            open_note = cluster.note
            text.append(f"[^{numbered}]\n")
            notes.append(f"[^{numbered}]: {cite}")
        else:
            if cluster.own_note:
                numbered += 1
            open_note = 0
            text.append(f"{source}{cluster.after if cluster.own_note else ''}\n")
    return "\n".join(text + [f"{note}\n" for note in notes])


def _file_name(index: int, name: str) -> str:
    suffix = Path(name).suffix.lower()
    return f"bibliography-{index}{'.yaml' if suffix == '.yml' else suffix}"


def format_brief(style_xml: str, lang: str, files: Sequence[BibFile], clusters: Sequence[Cluster],
                 note_style: bool, own_item: Mapping[str, Any] | None = None, cache: Cache | None = None) -> Output:
    """Format every cluster, in reading order, and the bibliography of the references cited; with
    ``own_item``, also the brief's own entry. One pandoc run each, side by side; or none, where ``cache``
    keeps the result for exactly these inputs."""
    if cache is None:
        return _format(style_xml, lang, files, clusters, note_style, own_item)
    entry = cache_key(version("pypandoc-binary"), code(__name__, "briefpress.render.cslhtml",
                                                      "briefpress.render.pandoc", "briefpress.render.citenames",
                                                      "briefpress.render.citetree"),
                      "citations", style_xml, lang, str(note_style),
                      json.dumps(own_item, sort_keys=True, default=str), document(clusters),
                      json.dumps([c.source for c in clusters]), *(part for f in files for part in (f.name, f.text)))
    kept = cache.get("citations", entry)
    if kept is not None:
        try:
            return _from_json(json.loads(kept))
        except (ValueError, TypeError, KeyError, IndexError):
            pass  # not what this version wrote: formatted again
    out = _format(style_xml, lang, files, clusters, note_style, own_item)
    cache.put("citations", entry, json.dumps(_to_json(out)).encode("utf-8"))
    return out


def _to_json(out: Output) -> dict[str, Any]:
    return {"clusters": [[c.text, c.author] for c in out.clusters], "entries": [list(e) for e in out.entries],
            "note_style": out.note_style, "hanging_indent": out.hanging_indent,
            "unprinted": list(out.unprinted), "unread": list(out.unread), "brief_entry": out.brief_entry,
            "missing": [list(m) for m in out.missing]}


def _from_json(data: dict[str, Any]) -> Output:
    def text(value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError("not text")
        return value

    return Output(
        clusters=tuple(Formatted(text(t), text(a)) for t, a in data["clusters"]),
        entries=tuple((text(k), text(h)) for k, h in data["entries"]),
        note_style=bool(data["note_style"]), hanging_indent=bool(data["hanging_indent"]),
        unprinted=tuple(text(k) for k in data["unprinted"]), unread=tuple(int(i) for i in data["unread"]),
        brief_entry=text(data["brief_entry"]), missing=tuple((int(i), text(k)) for i, k in data["missing"]))


def _format(style_xml: str, lang: str, files: Sequence[BibFile], clusters: Sequence[Cluster],
            note_style: bool, own_item: Mapping[str, Any] | None) -> Output:
    with tempfile.TemporaryDirectory(prefix="briefpress-cite-") as folder:
        names = [_file_name(i, f.name) for i, f in enumerate(files)]
        for name, file in zip(names, files):
            Path(folder, name).write_text(file.text, encoding="utf-8")
        _check_ids(folder, names)
        shared: tuple[str, ...] = ()
        if len(clusters) >= citenames.MANY_CLUSTERS and citenames.GLOBAL_RULE.search(style_xml):
            cited = {item.id for cluster in clusters for item in cluster.items}
            relaxed = citenames.by_cite_when_unambiguous(style_xml, folder, names, cited)
            if relaxed == style_xml:  # kept: the names are read already
                shared = citenames.shared_family(style_xml, folder, names, cited)
            style_xml = relaxed
        Path(folder, "style.csl").write_text(style_xml, encoding="utf-8")
        common = ["--citeproc", "--csl=style.csl", "-M", f"lang={lang}", "-t", "json"]
        runs: list[tuple[subprocess.Popen[bytes], list[str]]] = []
        warnings: list[str] = []
        with pandoc.Runs(folder) as started:
            if files:
                runs.append((started.start(["-f", READER, "-M", "link-citations=true", *common,
                                             *(f"--bibliography={n}" for n in names)], document(clusters),
                                            heap_mb=pandoc.CITATIONS_HEAP_MB),
                             names))
            if own_item is not None:
                Path(folder, "brief.json").write_text(json.dumps([{**own_item, "id": THIS_BRIEF}]),
                                                      encoding="utf-8")
                runs.append((started.start(["-f", "markdown", *common, "--bibliography=brief.json"],
                                           f"---\nnocite: '@{THIS_BRIEF}'\n---\n",
                                           heap_mb=pandoc.ONE_REFERENCE_HEAP_MB), []))
            try:
                trees = [pandoc.finish(process, used, warnings if used else None) for process, used in runs]
            except pandoc.EngineTimeout:
                raise EngineTimeout(_too_long(len(clusters), shared)) from None
    main = trees[0] if files else None
    own = trees[-1] if own_item is not None else None
    writer = Writer(math=citetree.math_writer([t for t in (main, own) if t is not None]))
    brief_entry = ""
    if own is not None:
        brief_entry = next((html for key, html in citetree.entries(own, writer) if key == THIS_BRIEF), "")
    if main is None:
        return Output((), (), note_style, brief_entry=brief_entry)
    refs = citetree.refs_div(main)
    printed_entries = citetree.entries(main, writer)
    entries = tuple((key, html) for key, html in printed_entries if html)
    printed = {key for key, _ in entries}
    writer.entry_link = lambda key, inner: (f'<a href="#{anchor(key)}" class="citation-link">{inner}</a>'
                                            if key in printed else inner)
    cites = citetree.cites(main)
    not_found = {match.group(1) for match in map(_NOT_FOUND.match, warnings) if match}
    formatted: list[Formatted] = []
    unread: list[int] = []
    missing: list[tuple[int, str]] = []
    for index, cluster in enumerate(clusters):
        cite = cites[index] if index < len(cites) else None
        lost = [c.get("citationId") for c in cite["c"][0] if c.get("citationId") in not_found] if cite else []
        missing += [(index, str(key)) for key in lost]
        if cite is None or lost:
            unread.append(index)
            formatted.append(Formatted(text=escape(" ".join(cluster.source.split()))))
            continue
        formatted.append(citetree.formatted(cite, writer, cluster.after if cluster.own_note else ""))
    return Output(tuple(formatted), entries, note_style,
                  hanging_indent=refs is not None and "hanging-indent" in refs[1],
                  unprinted=tuple(key for key, html in printed_entries if not html),
                  unread=tuple(unread), brief_entry=brief_entry, missing=tuple(missing))


#: pandoc's warning of a cited key it has no reference for (it prints the key in bold, with a question mark).
_NOT_FOUND = re.compile(r"\[WARNING\] Citeproc: citation (.*) not found\s*\Z")


def _check_ids(folder: str, names: Sequence[str]) -> None:
    """Stop, naming each reference, where pandoc reads a CSL-YAML id otherwise than it is written (as Markdown):
    a citation of the id as written would find nothing. The error names the first file at fault, and holds every
    such reference of every file, to be reported at its own line."""
    found = citenames.misread(folder, names)
    if not found:
        return
    problems = tuple((mine, f"reference id '{mine}' is read by pandoc as '{theirs}' (it reads a CSL-YAML field "
                            "as Markdown), so no citation of it would find it: use an id of letters and digits "
                            "with - _ . : / between them, or put the reference in a .json (CSL-JSON) file, "
                            "whose ids are read as written")
                     for _, mine, theirs in found)
    more = len(problems) - 1
    more_ids = f" (and {more} more {'id' if more == 1 else 'ids'})" if more else ""
    raise EngineError(problems[0][1] + more_ids, found[0][0], problems)


def _too_long(count: int, shared: Sequence[str]) -> str:
    """Why formatting ``count`` citations took longer than pandoc may take, where the cause is known."""
    message = f"formatting {f'{count} citations' if count else 'the citations'} took longer than {pandoc.TIMEOUT} s"
    if not shared:
        return message
    return (f"{message}: with two cited people of one family name ({', '.join(shared)}), this style's global "
            "given-name rule has pandoc compare every name with every other; to cite this many, use a copy of "
            "the style whose <citation> sets givenname-disambiguation-rule=\"by-cite\", which pandoc applies "
            "cite by cite")
