"""Hyphenation patterns, parsed once and kept beside the package's compiled modules (a speed-up).

WeasyPrint hyphenates with pyphen, which parses a language's pattern file the first time a process needs
it: 0.15 s for English, a twentieth of the brief's PDF build. The parsed patterns (strings, integers and
tuples, no code) are kept in the package's ``__pycache__`` in ``marshal`` form, keyed by the pattern
file's contents and pyphen's version, and handed to pyphen before a layout. They are written under
``kept``'s rule: where Python would write ``.pyc`` files, or when ``make venv`` asks for the brief's
language.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from pathlib import Path

from .. import kept

FOLDER = kept.FOLDER


def preload(lang: str, write: bool | None = None) -> bool:
    """Make pyphen's patterns for ``lang`` ready, from the cache if it holds them; return whether they are.

    pyphen documents ``LANGUAGES``, ``language_fallback`` and ``Pyphen``, not its pattern cache
    (``hdcache``) or the fields of a ``HyphDict``. They are used here only, guarded: if any is missing or
    behaves differently, nothing is preloaded and pyphen parses the file itself, as it would anyway.
    """
    import pyphen

    name = pyphen.language_fallback(lang)
    if name is None:
        return False
    path = Path(pyphen.LANGUAGES[name])
    try:
        cache_dict = pyphen.hdcache
        if not isinstance(cache_dict, dict):
            return False
        if path in cache_dict:
            return True
        patterns_dict = _kept_patterns(pyphen, path, write)
        cache_dict[path] = patterns_dict
        expected = _EXPECTED.get(name)
        if expected is not None and pyphen.Pyphen(lang=lang).inserted("hyphenation") != expected:
            del cache_dict[path]  # pyphen no longer reads what was kept as it did: let it parse its file
            return False
    except (AttributeError, TypeError, KeyError, ValueError):
        return False
    return True


#: A word hyphenated by pyphen's own patterns, to check that the kept ones are read as pyphen reads them.
_EXPECTED = {"en": "hy-phen-a-tion", "en_GB": "hy-phen-a-tion", "en_US": "hy-phen-ation"}


def _kept_patterns(pyphen: object, path: Path, write: bool | None) -> object:
    """The patterns of ``path``, unmarshalled from the cache, else parsed by pyphen (and kept)."""
    source = path.read_bytes()
    key = hashlib.sha256(source + pyphen.__version__.encode()).hexdigest()[:16]  # type: ignore[attr-defined]
    cache = FOLDER / f"hyph-{path.stem}-{key}.{sys.implementation.cache_tag}.marshal"
    hyph_dict = pyphen.HyphDict  # type: ignore[attr-defined]
    try:
        patterns, maxlen = marshal.loads(cache.read_bytes())
        if not (isinstance(patterns, dict) and isinstance(maxlen, int)):
            raise ValueError("not pyphen's patterns")
        patterns_dict = hyph_dict.__new__(hyph_dict)
        patterns_dict.patterns, patterns_dict.cache, patterns_dict.maxlen = patterns, {}, maxlen
    except (OSError, ValueError, EOFError, TypeError):
        patterns_dict = hyph_dict(path)
        if kept.may_write(write):
            _store(cache, patterns_dict)
    return patterns_dict


def _store(cache: Path, patterns_dict: object) -> None:
    patterns, maxlen = patterns_dict.patterns, patterns_dict.maxlen  # type: ignore[attr-defined]
    # Some languages' patterns carry extra data on their numbers (pyphen.DataInt), which marshal would drop.
    if any(type(value) is not int for _, values in patterns.values() for value in values):
        return
    data = marshal.dumps((patterns, maxlen))
    kept.keep(cache, lambda f: f.write(data))



def prepare(folders: list[str]) -> list[str]:
    """Keep the patterns of each brief's language ready (``make venv``); one line per brief."""
    import yaml

    lines = []
    for folder in folders:
        try:
            lang = (yaml.safe_load((Path(folder) / "brief.yaml").read_text(encoding="utf-8")) or {}).get("lang")
        except (OSError, yaml.YAMLError, AttributeError):
            continue  # a broken brief is reported by its build, not here
        if isinstance(lang, str):
            lines.append(f"{lang}: {'ready' if preload(lang, write=True) else 'no hyphenation patterns'}")
    return lines
