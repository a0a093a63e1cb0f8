"""Jinja2 environments: the brief's own templates first, then the package's, with strict undefined."""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
from pathlib import Path
from typing import Any, Iterable

import jinja2

from .. import kept
from ..model import Brief
from ..resources import Refused, package_dir, read_regular
from .budget import CODE_VERSION, BudgetedSandbox

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def environment(brief: Brief, sections: bool = False) -> jinja2.Environment:
    """Return a Jinja2 environment whose loader prefers the brief's ``templates/`` folder.

    For sections, Jinja comments are written ``{## … ##}``, because Markdown uses ``{#id}``.
    """
    loaders: list[jinja2.BaseLoader] = []
    if brief.templates_dir.is_dir():
        loaders.append(_ContainedLoader(brief.templates_dir, brief.root))
    loaders.append(jinja2.FileSystemLoader(package_dir("templates")))
    return _environment(jinja2.ChoiceLoader(loaders), sections, PackageBytecodeCache(sections))


def _environment(loader: jinja2.BaseLoader, sections: bool, cache: jinja2.BytecodeCache) -> jinja2.Environment:
    # Sections and templates come from many hands: the sandbox keeps them away from Python's internals, and its
    # budget bounds what each render may cost.
    env = BudgetedSandbox(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        comment_start_string="{##" if sections else "{#",
        comment_end_string="##}" if sections else "#}",
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=cache,
    )
    env.filters.update(human_date=human_date, by_date=by_date, md_cell=md_cell, iso_date=iso_date)
    env.budget_filters()
    return env


class PackageBytecodeCache(jinja2.BytecodeCache):
    """The package's templates compiled, kept in the package's ``__pycache__`` beside its compiled modules.

    Compiling them costs about 70 ms, a fifth of an EPUB build. Jinja checks each entry against the
    template's source and the Python and Jinja versions, and compiles again on any difference. Entries are
    written when Python would write ``.pyc`` files (not under ``PYTHONDONTWRITEBYTECODE``, unless ``write``
    is set, as ``make venv`` does through ``precompile``), and silently not where the package is read-only.
    A brief's own templates and sections are compiled afresh in every build.
    """

    def __init__(self, sections: bool, write: bool | None = None):
        self.templates = package_dir("templates")
        self.folder = kept.FOLDER
        self.syntax = "section" if sections else "template"
        self.write = kept.may_write(write)

    def get_source_checksum(self, source: str) -> str:
        # What a template compiles to depends on the budget's code as well as on its source.
        return super().get_source_checksum(f"{source}\0{CODE_VERSION}")

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        if filename is None or Path(filename).parent != self.templates:
            return ""  # not one of the package's templates
        return f"jinja-{self.syntax}-{Path(filename).name}.cache"

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key:
            try:
                with open(self.folder / bucket.key, "rb") as f:
                    bucket.load_bytecode(f)
            except OSError:
                pass

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key and self.write:
            kept.keep(self.folder / bucket.key, bucket.write_bytecode)


def precompile() -> int:
    """Compile every package template for both syntaxes into the cache; return how many compiled."""
    count = 0
    loader = jinja2.FileSystemLoader(package_dir("templates"))
    for sections in (False, True):
        env = _environment(loader, sections, PackageBytecodeCache(sections, write=True))
        for name in loader.list_templates():
            if "/" in name:
                continue  # templates/shelf/: the shelf's own environment, which keeps no cache
            try:
                env.get_template(name)
                count += 1
            except jinja2.TemplateSyntaxError:
                pass  # a template written for the other syntax
    return count


class _ContainedLoader(jinja2.BaseLoader):
    """Loads the brief's own templates: only a regular file whose real path lies in the brief folder is
    opened (the load stage has reported any other as an error)."""

    def __init__(self, folder: Path, root: Path):
        self.folder = folder
        self.root = root.resolve()

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        pieces = [piece for piece in template.split("/") if piece not in ("", ".")]
        if any(piece == ".." or os.sep in piece for piece in pieces):
            raise jinja2.TemplateNotFound(template)
        path = self.folder.joinpath(*pieces)
        if not os.path.lexists(path):
            raise jinja2.TemplateNotFound(template)
        try:
            source = read_regular(path, (self.root,)).decode("utf-8")
        except Refused as exc:
            raise jinja2.TemplateNotFound(f"{template} (it {exc})") from None
        except UnicodeDecodeError:
            raise jinja2.TemplateNotFound(f"{template} (it is not UTF-8)") from None
        return source, str(path), lambda: True  # an environment lasts one build


def iso_date(value: Any) -> str:
    """Return a date (or ISO date text) as ISO text."""
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)


def _date_parts(value: Any) -> tuple[str, str, str, str | None, str | None]:
    """A date, or ISO date text at any precision (``2022``, ``2022-11``, ``2022-11-20``), checked: its ISO text,
    year, month's name, month and day (None beyond its precision). Text that is no such date, or a date that
    does not exist (``2021-02-30``, ``2019-13``), is a ValueError, however the YAML wrote it."""
    text = iso_date(value)
    match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", text)
    if not match:
        raise ValueError(f"not an ISO date: {text!r}")
    year, month, day = match.groups()
    if int(year) < dt.MINYEAR:
        raise ValueError(f"not a date: '{text}' (there is no year {year})")
    if month is None:
        return text, year, "", None, None
    if not 1 <= int(month) <= 12:
        raise ValueError(f"not a date: '{text}' (there is no month {int(month)})")
    name = _MONTHS[int(month) - 1]
    if day and not 1 <= int(day) <= calendar.monthrange(int(year), int(month))[1]:
        raise ValueError(f"not a date: '{text}' ({name} {year} has no day {int(day)})")
    return text, year, name, month, day


def human_date(value: Any) -> str:
    """Format ``2022-11-20`` as ``20 November 2022``, ``2019-03`` as ``March 2019``."""
    _text, year, name, month, day = _date_parts(value)
    if month is None:
        return year
    return f"{int(day)} {name} {year}" if day else f"{name} {year}"


def by_date(items: Iterable[Any], key: str = "date") -> list[Any]:
    """Sort mappings by their ISO date, whatever its precision; each date is checked as ``human_date`` checks
    it, shown or not (an event with a ``label`` shows its label)."""
    return sorted(items, key=lambda item: _date_parts(item[key])[0])


def md_cell(value: Any) -> str:
    """Make a value safe inside one Markdown table cell."""
    return re.sub(r"\s+", " ", str(value)).replace("|", "\\|").strip()

