"""Hyphenation patterns, parsed once and kept beside the package's compiled modules.

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

from . import kept

FOLDER = kept.FOLDER


def preload(lang: str, write: bool | None = None) -> bool:
    """Make pyphen's patterns for ``lang`` ready, from the cache if it holds them; return whether they are.

    A language pyphen has no patterns for is left to WeasyPrint, which does not hyphenate it.
    """
    import pyphen

    name = pyphen.language_fallback(lang)
    if name is None:
        return False
    path = Path(pyphen.LANGUAGES[name])
    if path in pyphen.hdcache:
        return True
    source = path.read_bytes()
    key = hashlib.sha256(source + pyphen.__version__.encode()).hexdigest()[:16]
    cache = FOLDER / f"hyph-{path.stem}-{key}.{sys.implementation.cache_tag}.marshal"
    try:
        patterns, maxlen = marshal.loads(cache.read_bytes())
        if not (isinstance(patterns, dict) and isinstance(maxlen, int)):
            raise ValueError("not pyphen's patterns")
        patterns_dict = pyphen.HyphDict.__new__(pyphen.HyphDict)
        patterns_dict.patterns, patterns_dict.cache, patterns_dict.maxlen = patterns, {}, maxlen
    except (OSError, ValueError, EOFError, TypeError):
        patterns_dict = pyphen.HyphDict(path)
        if kept.may_write(write):
            _store(cache, patterns_dict)
    pyphen.hdcache[path] = patterns_dict
    return True


def _store(cache: Path, patterns_dict: object) -> None:
    patterns, maxlen = patterns_dict.patterns, patterns_dict.maxlen  # type: ignore[attr-defined]
    # Some languages' patterns carry extra data on their numbers (pyphen.DataInt), which marshal would drop.
    if any(type(value) is not int for _, values in patterns.values() for value in values):
        return
    data = marshal.dumps((patterns, maxlen))
    kept.keep(cache, lambda f: f.write(data))


if __name__ == "__main__":
    # ``python -m briefpress.hyphenation BRIEF...``: keep the patterns of each brief's language ready.
    import yaml

    for folder in sys.argv[1:]:
        try:
            lang = (yaml.safe_load((Path(folder) / "brief.yaml").read_text(encoding="utf-8")) or {}).get("lang")
        except (OSError, yaml.YAMLError, AttributeError):
            continue  # a broken brief is reported by its build, not here
        if isinstance(lang, str):
            print(f"{lang}: {'ready' if preload(lang, write=True) else 'no hyphenation patterns'}")
