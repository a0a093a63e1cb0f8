"""``shelf.yaml``: the shelf's title, publisher, base URL, language and brief folders, checked line by line.

Without ``shelf.yaml`` the one brief folder ``brief/`` is the shelf, named after the brief's publisher (else
its title), and its URLs start with ``--base-url``, else with ``DEFAULT_BASE_URL`` (where ``briefpress shelf
--serve`` previews it), with a warning: feeds and cards need the address the shelf is published at.
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import Diagnostics, did_you_mean
from ..load import load_brief, parse_yaml, read_text
from .model import Shelf

NAME = "shelf.yaml"
KEYS = ("title", "publisher", "base_url", "lang", "briefs")
DEFAULT_BASE_URL = "http://127.0.0.1:8000/"
DEFAULT_TITLE = "Briefs"
_LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


def base_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the shelf's base URL, or None: it must be an absolute http(s) URL with a host,
    and no query or fragment (the shelf's paths are appended to it)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"'base_url' must be an absolute http:// or https:// URL, such as https://example.org/briefs/, not '{url}'"
    if parts.query or parts.fragment or any(c.isspace() for c in url):
        return f"'base_url' must be a plain folder URL (no spaces, query or fragment), not '{url}'"
    return None


def normalise_base_url(url: str) -> str:
    """The base URL ending with ``/``, so that the shelf's paths are appended to it."""
    return url if url.endswith("/") else url + "/"


def load_shelf(config: Path | None, diags: Diagnostics, base_url: str | None = None) -> Shelf:
    """The shelf's settings: from ``config``, else from ``shelf.yaml`` in the current folder if there is one,
    else the one brief ``brief/``. ``base_url`` (``--base-url``) overrides the file's. Stops with every
    problem found."""
    if base_url is not None:
        problem = base_url_problem(base_url)
        if problem:
            diags.error(None, None, f"--base-url: {problem}")
    path = config if config is not None else Path(NAME)
    shelf: Shelf | None
    if config is None and not path.exists():
        shelf = _without_file(base_url, diags)
    else:
        shelf = _from_file(path, base_url, diags)
    diags.check()
    assert shelf is not None
    return shelf


def _without_file(base_url: str | None, diags: Diagnostics) -> Shelf:
    folder = Path("brief")
    # Only for the shelf's name and language: the build reports what is wrong with the brief.
    brief = load_brief(folder, Diagnostics()) if folder.is_dir() else None
    meta = brief.metadata if brief is not None else None
    if base_url is None:
        diags.warning(None, None, f"no {NAME}: the feeds and cards give addresses under {DEFAULT_BASE_URL}; "
                                  f"write {NAME} with 'base_url', or give --base-url, before publishing")
    return Shelf(title=(meta.publisher or meta.title) if meta else DEFAULT_TITLE,
                 publisher=meta.publisher if meta else "", base_url=normalise_base_url(base_url or DEFAULT_BASE_URL),
                 lang=meta.lang if meta else "en", briefs=(folder,))


def _from_file(path: Path, base_url: str | None, diags: Diagnostics) -> Shelf | None:
    if not path.is_file():
        diags.error(path, None, "shelf settings file does not exist")
        return None
    path = path.absolute()
    text = read_text(path, diags, path.parent)
    doc = parse_yaml(text, path, diags) if text is not None else None
    if doc is None:
        return None
    raw: Any = doc.value
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        diags.error(path, doc.line(), f"{NAME} must be a mapping of keys to values")
        return None
    for key in raw:
        if key not in KEYS:
            diags.error(path, doc.line(key), f"unknown key '{key}'{did_you_mean(str(key), KEYS)}")

    def text_of(key: str, default: str) -> str:
        value = raw.get(key)
        if value is None:
            return default
        if not isinstance(value, (str, int, float)) or not str(value).strip():
            diags.error(path, doc.line(key), f"'{key}' must be text")
            return default
        return str(value).strip()

    url = text_of("base_url", "")
    if base_url is None:
        if not url:
            diags.error(path, doc.line("base_url") if "base_url" in raw else 1,
                        "missing required key 'base_url': the absolute URL the shelf is published at, "
                        "such as https://example.org/briefs/ (feeds and cards need it)")
        else:
            problem = base_url_problem(url)
            if problem:
                diags.error(path, doc.line("base_url"), problem)
    lang = text_of("lang", "en")
    if not _LANG.fullmatch(lang):
        diags.error(path, doc.line("lang"), f"'lang' must be a language tag such as 'en' or 'en-GB', not '{lang}'")
    return Shelf(title=text_of("title", DEFAULT_TITLE), publisher=text_of("publisher", ""),
                 base_url=normalise_base_url(base_url or url), lang=lang,
                 briefs=_briefs(raw.get("briefs", "brief"), doc, path, diags), source=path)


def _briefs(listed: Any, doc: Any, path: Path, diags: Diagnostics) -> tuple[Path, ...]:
    """The brief folders ``briefs`` names (folders or glob patterns, relative to ``shelf.yaml``), each once."""
    items = [listed] if isinstance(listed, str) else listed
    if not isinstance(items, list) or not items:
        diags.error(path, doc.line("briefs"), "'briefs' must be a folder, a pattern such as 'briefs/*', or a list of them")
        return ()
    found: list[Path] = []
    root = path.parent.resolve()

    def outside(folder: Path) -> bool:
        try:
            return not folder.resolve().is_relative_to(root)
        except (OSError, RuntimeError):  # a loop of links leads nowhere inside
            return True

    for index, item in enumerate(items):
        line = doc.line("briefs", index) if isinstance(listed, list) else doc.line("briefs")
        if not isinstance(item, str) or not item.strip():
            diags.error(path, line, "each entry of 'briefs' must be a folder or a pattern")
            continue
        if glob.has_magic(item):
            matches = [Path(m) for m in sorted(glob.glob(str(path.parent / item)))]
            folders = [m for m in matches if (m / "brief.yaml").is_file()]
            away = [m for m in folders if outside(m)]
            if away:
                diags.error(path, line, f"'{item}' matches {os.path.relpath(away[0], path.parent)}, outside the "
                                        f"shelf's folder: a shelf publishes only the briefs in the folder of {NAME}")
                continue
            if not folders:
                diags.error(path, line, f"'{item}' matches no brief folder (a folder with brief.yaml)")
            found.extend(folders)
        else:
            folder = path.parent / item
            if outside(folder):
                diags.error(path, line, f"brief folder '{item}' is outside the shelf's folder: a shelf publishes "
                                        f"only the briefs in the folder of {NAME}")
                continue
            if not folder.is_dir():
                diags.error(path, line, f"brief folder '{item}' does not exist")
                continue
            found.append(folder)
    unique: dict[Path, Path] = {}
    for folder in found:
        unique.setdefault(folder.resolve(), folder)
    return tuple(unique.values())
