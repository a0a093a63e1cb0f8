"""CSL formatting with citeproc-js, the reference CSL processor, run in V8 through PyMiniRacer.

citeproc-js (``briefpress/citeproc/citeproc.js``, CPAL-1.0 or AGPL-3.0) implements every part of CSL 1.0.2 that
briefs need: disambiguation (added names, given names, year suffixes), ``et al.`` rules, cite positions for note
styles (``ibid.``, short forms), collapsing and sorting. The CSL locales beside it come from the
citation-style-language/locales repository (CC BY-SA 3.0).

Everything the engine is given is JSON; everything it returns is HTML text. No file, clock or network is reached
from inside the engine: styles and locales are read here, by Python, and handed over as strings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Mapping, Sequence

CITEPROC_JS = "citeproc.js"
#: JavaScript run once citeproc-js is loaded, before an engine is made: where the speed-ups add theirs
#: (``speedups/citeproc.py``). Empty on the plain path; whatever is here must not change a character of output.
EXTENSIONS: list[str] = []
#: Bounds for the engine: its heap, and the time any one call may take (a brief's citations take well under
#: a second; these only stop a runaway).
HEAP_LIMIT = 1024 * 1024 * 1024
TIMEOUT = 120
_LOCALE_PREFIX = "locales-"


@dataclass(frozen=True)
class CiteItem:
    """One reference cited in a cluster, as pandoc's syntax gives it."""

    id: str
    prefix: str = ""
    suffix: str = ""
    locator: str = ""
    label: str = ""
    suppress_author: bool = False


@dataclass(frozen=True)
class Cluster:
    """One citation (one pair of brackets, or one narrative ``@key``), with the note it stands in (0: none)."""

    items: tuple[CiteItem, ...]
    note: int = 0
    narrative: bool = False
    #: The cluster is a note of its own (a citation under a note style), not a citation inside a note.
    own_note: bool = False


@dataclass(frozen=True)
class Formatted:
    """A cluster as the style formats it. For a narrative citation, ``author`` is the name that stays in the
    text, and ``text`` the rest (in parentheses for author-date styles, the note's text for note styles)."""

    text: str
    author: str = ""


@dataclass(frozen=True)
class Output:
    """What the engine made of a brief's citations."""

    clusters: tuple[Formatted, ...]
    #: Bibliography entries in the style's order, as (reference id, entry HTML).
    entries: tuple[tuple[str, str], ...]
    note_style: bool
    #: The style's bibliography layout: a hanging indent, its line spacing.
    hanging_indent: bool = False
    #: References the style gives no bibliography entry (a speech with no publisher, in some styles).
    unprinted: tuple[str, ...] = field(default=())


def _data(name: str) -> str:
    return resources.files("briefpress").joinpath("citeproc", name).read_text(encoding="utf-8")


@cache
def _primary_dialects() -> Mapping[str, str]:
    return json.loads(_data("locales.json"))["primary-dialects"]


@cache
def locale_names() -> tuple[str, ...]:
    """The locales packaged, by tag (``en-US``)."""
    folder = resources.files("briefpress").joinpath("citeproc")
    return tuple(sorted(f.name[len(_LOCALE_PREFIX):-4] for f in folder.iterdir()
                        if f.name.startswith(_LOCALE_PREFIX) and f.name.endswith(".xml")))


def locale_tag(lang: str) -> str:
    """The packaged locale for a language tag: ``en`` is ``en-US``, as pandoc and citeproc-js read it."""
    known = locale_names()
    if lang in known:
        return lang
    base = lang.split("-")[0]
    return _primary_dialects().get(base, "en-US") if _primary_dialects().get(base) in known else "en-US"


def locale_xml(tag: str) -> str:
    return _data(f"{_LOCALE_PREFIX}{tag}.xml")


class EngineError(Exception):
    """The engine could not run a style (a broken ``.csl`` file), or ran out of its time or memory."""


class Engine:
    """One citeproc-js engine for one style, locale and set of references."""

    def __init__(self, style_xml: str, lang: str, items: Mapping[str, Mapping[str, Any]]):
        from py_mini_racer import MiniRacer  # V8 starts only for a brief that cites

        tag = locale_tag(lang)
        locales = {t: locale_xml(t) for t in dict.fromkeys([tag, "en-US"])}
        self._ctx = MiniRacer()
        try:
            self._ctx.set_hard_memory_limit(HEAP_LIMIT)
            self._ctx.eval("var module = {exports: {}}; var exports = module.exports;")
            self._ctx.eval(_data(CITEPROC_JS))
            self._ctx.eval(_GLUE)
            for extension in EXTENSIONS:
                self._ctx.eval(extension)
            # ``system_id`` lets citeproc-js wrap each cite of a cluster in a link to its entry
            # (``wrapCitationEntry``)
            items = {key: {**item, "system_id": key} for key, item in items.items()}
            self._call("bp_start", style_xml, tag, locales, items)
            self.note_style = bool(self._ctx.eval('bp_engine.opt.xclass === "note"'))
        except BaseException:
            self.close()  # an engine left open keeps the interpreter from exiting
            raise

    def _call(self, name: str, *args: Any) -> Any:
        """Call a function of the glue; what goes wrong in the engine is an ``EngineError``."""
        from py_mini_racer import JSEvalException, JSOOMException, JSTimeoutException

        try:
            return self._ctx.call(name, *args, timeout_sec=TIMEOUT)
        except JSTimeoutException:
            raise EngineError(f"the engine took longer than {TIMEOUT} s") from None
        except JSOOMException:
            raise EngineError(f"the engine needed more than {HEAP_LIMIT >> 20} MB") from None
        except JSEvalException as exc:
            first = next((line.strip() for line in str(exc).splitlines() if "Error" in line), str(exc).strip())
            raise EngineError(first.split("\n")[0][:200]) from None

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop V8 (an engine left open keeps the interpreter from exiting)."""
        self._ctx.close()

    def entry(self, key: str) -> str:
        """The bibliography entry of one reference, alone; empty if the style prints none."""
        html = self._call("bp_entry", key)
        return _merge_punctuation(html or "")

    def format(self, clusters: Sequence[Cluster]) -> Output:
        """Format every cluster, in reading order, and the bibliography of the references cited."""
        # Under a note style, a citation inside a note of the brief's own is set in the note's text as pandoc sets
        # it: in parentheses, or (narrative) whole, without the layout's closing full stop.
        inline = [self.note_style and c.note > 0 and not c.own_note for c in clusters]
        citations = [
            {"citationID": f"c{n}", "properties": {"noteIndex": c.note},
             "citationItems": [_item(i, suppress=(c.narrative and not inline[n]) or i.suppress_author)
                               for i in c.items],
             "bp_own_note": c.own_note, "bp_inline": inline[n] and not c.narrative,
             "bp_whole": inline[n] and c.narrative}
            for n, c in enumerate(clusters)
        ]
        authors = [[{"id": c.items[0].id, "author-only": True}] if c.narrative and not inline[n] else None
                   for n, c in enumerate(clusters)]
        result = json.loads(self._call("bp_format", json.dumps(citations), json.dumps(authors)))
        texts = [_merge_punctuation(t, result["inQuote"]) for t in result["texts"]]
        return Output(
            clusters=tuple(Formatted(text=t, author=a or "") for t, a in zip(texts, result["authors"])),
            entries=tuple((i, _merge_punctuation(e)) for i, e in result["entries"] if e is not None),
            unprinted=tuple(i for i, e in result["entries"] if e is None),
            note_style=result["note"],
            hanging_indent=bool(result["hanging"]),
        )


_DOUBLED = re.compile(r"([?!])[,.](?=(?:<[^>]+>)*[”’])")
_OUTSIDE = re.compile(r"”((?:</[^>]+>)*)([,.])")


def _merge_punctuation(html: str, in_quote: bool = False) -> str:
    """A comma or full stop after a title's own ``?`` or ``!`` is dropped, as pandoc's citeproc drops it; where
    the locale puts punctuation inside quotation marks (en-US), a suffix's comma moves inside too."""
    if in_quote:
        html = _OUTSIDE.sub(r"\2”\1", html)
    return _DOUBLED.sub(r"\1", html)


def _item(item: CiteItem, suppress: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id}
    if item.prefix:
        out["prefix"] = item.prefix
    if item.suffix:
        out["suffix"] = item.suffix
    if item.locator:
        out["locator"] = item.locator
        out["label"] = item.label or "page"
    if suppress:
        out["suppress-author"] = True
    return out


_GLUE = r"""
var CSL = module.exports;
// The words title case leaves in lower case: CSL 1.0.2's list (section "Title case conversion"), which pandoc's
// citeproc uses too; citeproc-js's own list is longer ("after", "since", "versus"...).
CSL.SKIP_WORDS = ["a", "an", "and", "as", "at", "but", "by", "down", "for", "from", "in", "into", "nor", "of",
                  "on", "onto", "or", "over", "so", "the", "till", "to", "up", "via", "with", "yet"];
var bp_engine = null;
var bp_items = null;

function bp_start(style, tag, locales, items) {
    bp_items = items;
    var sys = {
        retrieveLocale: function (l) { return locales[l] || locales["en-US"]; },
        retrieveItem: function (id) { return bp_items[id]; },
        wrapCitationEntry: function (str, id) {
            return '<a href="#ref-' + id + '" class="citation-link">' + str + '</a>';
        }
    };
    bp_engine = new CSL.Engine(sys, style, tag, true);
    bp_engine.opt.development_extensions.apply_citation_wrapper = true;
    bp_engine.setOutputFormat("html");
    return true;
}

function bp_entry(key) {
    bp_engine.updateItems([key]);
    var bib = bp_engine.makeBibliography();
    return bib && bib[1].length ? bib[1][0] : "";
}

function bp_format(citationsJson, authorsJson) {
    var citations = JSON.parse(citationsJson);
    var authors = JSON.parse(authorsJson);
    var ids = [];
    citations.forEach(function (c) { c.citationItems.forEach(function (i) { ids.push(i.id); }); });
    bp_engine.updateItems(ids.filter(function (v, i, a) { return a.indexOf(v) === i; }));
    var built = bp_engine.rebuildProcessorState(citations, "html");
    // With the links on, citeproc-js leaves the layout's affixes to the caller: put them back, without
    // doubling a full stop the cite already ends with.
    var pre = bp_engine.citation.opt.layout_prefix || "";
    var suf = bp_engine.citation.opt.layout_suffix || "";
    var inQuote = bp_engine.locale[bp_engine.opt.lang].opts["punctuation-in-quote"];
    // pandoc's citeproc does not collapse a cite into one that has a suffix, nor one with a prefix into the
    // cite before it ("Zhao 2020a, and more; Zhao 2020b"): such a cluster is formatted again without collapsing.
    var raw = built.map(function (r, n) {
        var items = citations[n].citationItems;
        var blocked = items.some(function (item, i) {
            return (i > 0 && item.prefix) || (i < items.length - 1 && item.suffix);
        });
        var collapsing = bp_engine.citation.opt.collapse && bp_engine.citation.opt.collapse.length;
        if (collapsing && !blocked && items.some(function (item) { return item.locator; })) {
            // and in a collapsed group with a locator, cites are parted by the layout's delimiter
            // ("Zhao 2020a, 3; 2020b"), not the year delimiter
            var delim = bp_engine.citation.opt.layout_delimiter || "; ";
            return r[2].replace(/<\/a>([^<]*)<a /g, function () { return "</a>" + delim + "<a "; });
        }
        if (!blocked || !collapsing) return r[2];
        var saved = bp_engine.citation.opt.collapse;
        bp_engine.citation.opt.collapse = [];
        try {
            return bp_engine.makeCitationCluster(items);
        } finally {
            bp_engine.citation.opt.collapse = saved;
        }
    });
    var texts = raw.map(function (s0, n) {
        var s = s0;
        var plain = s.replace(/<[^>]*>/g, "");
        var end = plain.charAt(plain.length - 1);
        var rest = (citations[n].bp_inline || citations[n].bp_whole) ? "" : suf;
        if (rest && ".!?".indexOf(end) >= 0 && rest.charAt(0) === ".") rest = rest.slice(1);
        if (rest && inQuote && ".,".indexOf(rest.charAt(0)) >= 0 && (end === "\u201d" || end === "\u2019")) {
            var at = s.lastIndexOf(end);  // the full stop goes inside the closing quotation mark
            s = s.slice(0, at) + rest.charAt(0) + s.slice(at);
            rest = rest.slice(1);
        }
        s = citations[n].bp_inline ? "(" + s + ")" : (citations[n].bp_whole ? s : pre + s + rest);
        if (citations[n].bp_own_note) {  // a note that is a citation starts with a capital, as pandoc's do
            s = s.replace(/^((?:<[^>]*>)*)([a-z])/, function (m, tags, c) { return tags + c.toUpperCase(); });
        }
        return s;
    });
    var names = authors.map(function (a, n) {
        if (!a) return null;
        var cited = bp_engine.registry.citationreg.citationById[citations[n].citationID];
        var position = cited ? cited.sortedItems[0][1].position : 0;
        a[0].position = position;
        return bp_engine.makeCitationCluster(a);
    });
    var entries = [];
    var hanging = false;
    if (bp_engine.bibliography && bp_engine.bibliography.tokens.length) {
        var bib = bp_engine.makeBibliography();
        if (bib) {
            hanging = bib[0].hangingindent;
            var skipped = {};
            bib[0].bibliography_errors.forEach(function (e) { skipped[e.index] = true; });
            var k = 0;
            for (var i = 0; i < bib[0].entry_ids.length; i++) {
                if (skipped[i]) { entries.push([bib[0].entry_ids[i][0], null]); continue; }
                entries.push([bib[0].entry_ids[i][0], bib[1][k]]);
                k += 1;
            }
        }
    }
    return JSON.stringify({texts: texts, authors: names, entries: entries,
                           note: bp_engine.opt.xclass === "note", hanging: hanging,
                           inQuote: !!inQuote});
}
"""
