"""BibLaTeX/BibTeX entries read into CSL-JSON items, following pandoc's reading of ``.bib`` files.

bibtexparser parses the file (with each entry's line); pylatexenc turns LaTeX (``{\\"u}``, ``--``) into text.
What pandoc does on top is done here: English titles are put in sentence case except words in braces,
``title-short`` is the part before a colon, straight apostrophes become curly, and biblatex's entry types and
fields are mapped as pandoc maps them.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import bibtexparser
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

TYPES = {
    "article": "article-journal", "book": "book", "mvbook": "book", "booklet": "pamphlet", "collection": "book",
    "incollection": "chapter", "inbook": "chapter", "inproceedings": "paper-conference",
    "proceedings": "book", "report": "report", "techreport": "report", "thesis": "thesis",
    "phdthesis": "thesis", "mastersthesis": "thesis", "online": "webpage", "www": "webpage",
    "electronic": "webpage", "unpublished": "manuscript", "manual": "book", "legislation": "legislation",
    "jurisdiction": "legal_case", "patent": "patent", "dataset": "dataset", "software": "software",
    "periodical": "periodical", "misc": "",
}
SUBTYPES = {"newspaper": "article-newspaper", "magazine": "article-magazine"}
LANGUAGES = {"english": "en-US", "american": "en-US", "british": "en-GB", "russian": "ru-RU",
             "german": "de-DE", "french": "fr-FR", "kazakh": "kk-KZ", "chinese": "zh-CN", "ukrainian": "uk-UA"}
MONTHS = {name: n for n, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_SIMPLE = {"volume": "volume", "edition": "edition", "url": "URL", "doi": "DOI", "isbn": "ISBN",
           "note": "note", "type": "genre", "series": "collection-title", "version": "version",
           "eventtitle": "event-title", "venue": "event-place", "chapter": "chapter-number"}
#: Braces a field may nest: pylatexenc recurses a few frames for each level, so far deeper fields would exhaust
#: Python's stack; real ones nest two or three.
MAX_DEPTH = 100


def _latex_context() -> Any:
    # pandoc drops \input and \include with their argument; pylatexenc's own handler of them fails (it reads
    # the argument where 2.x no longer keeps it), and would read files if it did not.
    context = get_default_latex_context_db()
    context.add_context_category("briefpress", prepend=True, macros=[
        MacroTextSpec("input", discard=True), MacroTextSpec("include", discard=True)])
    return context


_latex = LatexNodes2Text(latex_context=_latex_context(), math_mode="verbatim", strict_latex_spaces=True)


_COMMENT_LIKE = re.compile(r"(@\s*)(comment[a-z])", re.I)


@dataclass(frozen=True)
class BibEntry:
    key: str
    line: int
    item: dict[str, Any]


@dataclass(frozen=True)
class BibProblem:
    line: int
    message: str


def read(text: str) -> tuple[list[BibEntry], list[BibProblem]]:
    """Parse a ``.bib`` file; return its entries as CSL items and its problems, each at a line (1-based)."""
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
            # pandoc reads the file itself for the citations: the brief keeps the key and the type.
            entries.append(BibEntry(entry.key, line, {"id": entry.key, "type": TYPES.get(entry.entry_type.lower(), "")}))
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


def to_csl(key: str, entry_type: str, fields: dict[str, str]) -> dict[str, Any]:
    """One entry as pandoc's biblatex reader gives it in CSL-JSON."""
    csl_type = TYPES.get(entry_type, "")
    if entry_type == "article" and fields.get("entrysubtype", "").lower() in SUBTYPES:
        csl_type = SUBTYPES[fields["entrysubtype"].lower()]
    item: dict[str, Any] = {"id": key, "type": csl_type}
    langid = fields.get("langid", fields.get("language", "")).strip().lower()
    language = LANGUAGES.get(langid, langid) if langid else ""
    english = not language or language.startswith("en")
    if langid:
        item["language"] = language
    for role in ("author", "editor", "translator"):
        if role in fields:
            item[role] = names(fields[role])
    if "title" in fields:
        title = fields["title"] + (f": {fields['subtitle']}" if "subtitle" in fields else "")
        item["title"] = text_of(title, sentence=english)
        short = fields.get("shorttitle")
        if short:
            item["title-short"] = text_of(short, sentence=english)
        elif ":" in _strip_braces(fields["title"]) or "subtitle" in fields:
            head = _split_colon(fields["title"]) if "subtitle" not in fields else fields["title"]
            item["title-short"] = text_of(head, sentence=english)
    container = fields.get("journaltitle") or fields.get("journal")
    if container:
        item["container-title"] = text_of(container)
    elif "booktitle" in fields:
        item["container-title"] = text_of(fields["booktitle"], sentence=english)
    publisher = fields.get("publisher") or fields.get("institution") or fields.get("organization") \
        or fields.get("school") or fields.get("howpublished")
    if publisher:
        item["publisher"] = text_of(publisher)
    place = fields.get("location") or fields.get("address")
    if place:
        item["publisher-place"] = text_of(place)
    for field, target in _SIMPLE.items():
        if field in fields:
            value = fields[field] if field in ("url", "doi") else text_of(fields[field])
            item[target] = value
    if "number" in fields:
        item["issue" if csl_type.startswith("article") else "number"] = text_of(fields["number"])
    if "issue" in fields:
        item["issue"] = text_of(fields["issue"])
    if "pages" in fields:
        item["page"] = re.sub(r"-+|–", "-", fields["pages"].strip())
    issued = date_of(fields.get("date"), fields.get("year"), fields.get("month"))
    if issued:
        item["issued"] = issued
    accessed = date_of(fields.get("urldate"), None, None)
    if accessed:
        item["accessed"] = accessed
    return item


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


def names(value: str) -> list[dict[str, str]]:
    """``Last, First and {Body Corporate}`` as CSL names."""
    out: list[dict[str, str]] = []
    for part in _split_and(value):
        part = part.strip()
        if part.startswith("{") and part.endswith("}") and _balanced(part[1:-1]):
            out.append({"literal": text_of(part[1:-1])})
        elif "," in _strip_braces(part):
            family, _, given = part.partition(",")
            out.append({"family": text_of(family.strip()), "given": text_of(given.strip())})
        elif part:
            words = part.split()
            out.append({"family": text_of(words[-1]), "given": text_of(" ".join(words[:-1]))}
                       if len(words) > 1 else {"family": text_of(words[0])})
    return out


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _split_and(value: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for match in re.finditer(r"[{}]|\s+and\s+", value):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif depth == 0:
            parts.append(value[start: match.start()])
            start = match.end()
    parts.append(value[start:])
    return parts


def _strip_braces(text: str) -> str:
    return text.replace("{", "").replace("}", "")


def _split_colon(title: str) -> str:
    depth = 0
    for i, char in enumerate(title):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == ":" and depth == 0:
            return title[:i]
    return title


def text_of(value: str, sentence: bool = False) -> str:
    """LaTeX into text; with ``sentence``, English title case into sentence case (braced words kept)."""
    pieces: list[tuple[str, bool]] = []  # (text, protected)
    depth, start = 0, 0
    for i, char in enumerate(value):
        if char == "{":
            if depth == 0:
                pieces.append((value[start:i], False))
                start = i
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                group = value[start: i + 1]
                command = group[1:2] == "\\"  # {\"u}: a character, not a protected word
                pieces.append((group if command else group[1:-1], not command))
                start = i + 1
    pieces.append((value[start:], False))
    out = []
    first = True
    for raw, protected in pieces:
        if not raw:
            continue
        text = _smart(_latex.latex_to_text(raw))
        if sentence and not protected:
            text, first = _sentence_case(text, first)
        elif text.strip():
            first = bool(re.search(r":\s*$", text))
        out.append(text)
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _smart(text: str) -> str:
    return re.sub(r"(?<=\w)'(?=\w)", "’", text)


def _sentence_case(text: str, first: bool) -> tuple[str, bool]:
    """Lower-case capitalised words except the first and the first after a colon; return whether the next
    piece starts a sentence."""
    def word(match: re.Match[str]) -> str:
        nonlocal first
        w = match.group()
        keep = first
        first = False
        if keep or not re.fullmatch(r"[A-Z][a-z’']*", w):
            return w
        return w.lower()

    parts = re.split(r"(:\s+)", text)
    result = []
    for part in parts:
        if re.fullmatch(r":\s+", part):
            first = True
            result.append(part)
            continue
        result.append(re.sub(r"\w[\w’'-]*", word, part))
    trailing = bool(re.search(r":\s*$", text))
    return "".join(result), first or trailing


def date_of(date: str | None, year: str | None, month: str | None) -> dict[str, Any] | None:
    """A biblatex ``date`` (ISO, or a range with ``/``), or ``year`` and ``month``, as CSL date parts."""
    if date:
        parts = []
        for piece in date.strip().split("/")[:2]:
            numbers = [int(n) for n in re.findall(r"\d+", piece)[:3]]
            if numbers:
                parts.append(numbers)
        return {"date-parts": parts} if parts else None
    if year and re.fullmatch(r"\s*\d+\s*", year):
        parts = [int(year)]
        if month:
            m = month.strip().lower()[:3]
            number = MONTHS.get(m) or (int(m) if m.isdigit() else None)
            if number:
                parts.append(number)
        return {"date-parts": [parts]}
    return None
