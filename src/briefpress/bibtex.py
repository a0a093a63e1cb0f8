"""BibLaTeX/BibTeX files read for what the brief checks before pandoc formats them: each entry's key and
line, and the problems, each at its line; and the brief itself written as a BibLaTeX entry for its release.

bibtexparser parses the file. pandoc reads the same text itself to format the citations (``render.citeproc``),
so nothing of an entry's fields is converted here.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import bibtexparser

#: Braces a field may nest (real ones nest two or three): deeper fields are refused before any reader recurses
#: through them.
MAX_DEPTH = 100


_COMMENT_LIKE = re.compile(r"(@\s*)(comment[a-z])", re.I)


@dataclass(frozen=True)
class BibEntry:
    key: str
    line: int


@dataclass(frozen=True)
class BibProblem:
    line: int
    message: str


def read(text: str) -> tuple[list[BibEntry], list[BibProblem]]:
    """Parse a ``.bib`` file; return its entries' keys and its problems, each at a line (1-based)."""
    with _quiet("bibtexparser", "pylatexenc"):
        # bibtexparser reads any type that starts with "comment" (biblatex's @commentary) as a comment: such an
        # entry is read under another name, on the same lines.
        library = bibtexparser.parse_string(_COMMENT_LIKE.sub(r"\1x\2", text))
        # A field given twice is read by pandoc (as biblatex does); only the rest are problems.
        lenient = [b.ignore_error_block for b in library.failed_blocks
                   if type(b).__name__ == "DuplicateFieldKeyBlock" and getattr(b, "ignore_error_block", None)]
        problems = [BibProblem(block.start_line + 1, _failure(block)) for block in library.failed_blocks
                    if block.ignore_error_block not in lenient]
        entries = []
        for entry in sorted([*library.entries, *lenient], key=lambda e: e.start_line):
            line = entry.start_line + 1
            fields = {f.key.lower(): str(f.value) for f in entry.fields}
            deep = next((name for name, value in fields.items() if _depth(value) > MAX_DEPTH), None)
            if deep is not None:
                problems.append(BibProblem(line, f"field '{deep}' of entry '{entry.key}' nested too deeply "
                                                 f"(more than {MAX_DEPTH} levels of braces)"))
                continue
            # pandoc reads the file itself for the citations: the brief keeps the key and its line.
            entries.append(BibEntry(entry.key, line))
    problems.sort(key=lambda problem: problem.line)
    return entries, problems


class _Dropped(logging.Handler):
    """Takes the parsers' log records, which would otherwise reach the terminal as stray lines: what they report
    is reported as diagnostics."""

    def emit(self, record: logging.LogRecord) -> None:
        pass


@contextmanager
def _quiet(*names: str) -> Iterator[None]:
    """Keep what the named loggers log meanwhile from any handler, Python's last-resort one included."""
    handler = _Dropped()
    loggers = [logging.getLogger(name) for name in names]
    propagate = [logger.propagate for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.propagate = False
    try:
        yield
    finally:
        for logger, before in zip(loggers, propagate):
            logger.removeHandler(handler)
            logger.propagate = before


def _failure(block: Any) -> str:
    """What is wrong with a block bibtexparser could not read, naming the entry as written."""
    error = getattr(block, "error", None)
    reason = getattr(error, "abort_reason", None)
    head = _head(block.raw or "")
    if reason is None:
        return _first_line(str(error or "")) or f"malformed entry '{head}'"
    if reason.startswith("Unexpectedly reached end of file"):
        return f"entry '{head}' is not closed"
    if reason.startswith("Unexpected block start"):
        return f"entry '{head}' is not closed before the next '@'"
    reason = _first_line(reason).replace("`", "'").rstrip(". ")
    return f"entry '{head}': {reason[:1].lower()}{reason[1:]}"


def _head(raw: str) -> str:
    """An entry's start, up to its key: ``@article{key``."""
    match = re.match(r"\s*(@[^{(\s]*\s*[{(][^,\s]*)", raw)
    return match.group(1)[:80] if match else _first_line(raw)[:80]


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return re.sub(r"\s+", " ", line)


def _depth(value: str) -> int:
    """How deep ``value``'s braces nest."""
    depth = deepest = 0
    for match in re.finditer(r"(?<!\\)[{}]", value):
        depth += 1 if match.group() == "{" else -1
        deepest = max(deepest, depth)
    return deepest


_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_LANGIDS = {"en": "english", "en-US": "american", "en-GB": "british", "ru": "russian", "de": "german",
            "fr": "french", "kk": "kazakh", "zh": "chinese", "uk": "ukrainian"}


def _escape(text: str) -> str:
    return "".join(_SPECIAL.get(char, char) for char in text)


def to_bibtex(item: dict[str, Any]) -> str:
    """A CSL item (a report: the brief itself) as a BibLaTeX entry. Text is UTF-8, LaTeX's special characters
    escaped; the title is braced, to keep its case, and authors given as written are braced as one name."""
    fields = []
    names = " and ".join("{" + _escape(n["literal"]) + "}" if "literal" in n
                         else f"{_escape(n.get('family', ''))}, {_escape(n.get('given', ''))}"
                         for n in item.get("author", []))
    if names:
        fields.append(("author", names))
    fields.append(("title", "{" + _escape(item["title"]) + "}"))
    if item.get("publisher"):
        fields.append(("institution", _escape(item["publisher"])))
    parts = item.get("issued", {}).get("date-parts", [[]])[0]
    if parts:
        fields.append(("date", "-".join(f"{p:02d}" if i else f"{p:04d}" for i, p in enumerate(parts))))
    lang = item.get("language", "")
    langid = _LANGIDS.get(lang) or _LANGIDS.get(lang.split("-")[0])
    if langid:
        fields.append(("langid", langid))
    if item.get("abstract"):
        fields.append(("abstract", _escape(item["abstract"])))
    body = "".join(f"  {key} = {{{value}}},\n" for key, value in fields)
    return f"@report{{{item['id']},\n{body}}}\n"
