"""Hyphenation patterns kept parsed beside the package (``briefpress.hyphenation``)."""

from __future__ import annotations

from pathlib import Path

import pyphen
import pytest

import briefpress.hyphenation as hyphenation

WORDS = ["presidential", "constitutional", "parliamentary", "Kazakhstan", "referendum", "administration"]


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder, and pyphen as a new process finds it: no patterns parsed yet."""
    monkeypatch.setattr(hyphenation, "FOLDER", tmp_path)
    monkeypatch.setattr(pyphen, "hdcache", {})
    return tmp_path


def _hyphenated() -> list[str]:
    return [pyphen.Pyphen(lang="en").inserted(word) for word in WORDS]


def test_kept_patterns_are_pyphens_own(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = Path(pyphen.LANGUAGES[pyphen.language_fallback("en")])
    reference = pyphen.HyphDict(path)  # pyphen's own parse
    assert hyphenation.preload("en", write=True)
    [kept] = fresh.glob("hyph-*.marshal")
    parsed = _hyphenated()
    assert all("-" in word for word in parsed)  # patterns at work

    monkeypatch.setattr(pyphen, "hdcache", {})
    monkeypatch.setattr(pyphen.HyphDict, "__init__", None)  # parsing now fails: the kept file must serve
    assert hyphenation.preload("en-GB")
    loaded = pyphen.hdcache[path]
    assert (loaded.patterns, loaded.maxlen) == (reference.patterns, reference.maxlen)
    assert _hyphenated() == parsed
    assert list(fresh.glob("hyph-*.marshal")) == [kept]


def test_a_damaged_file_is_parsed_again(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hyphenation.preload("en", write=True)
    parsed = _hyphenated()
    [kept] = fresh.glob("hyph-*.marshal")
    kept.write_bytes(b"\x00not marshal")
    monkeypatch.setattr(pyphen, "hdcache", {})
    assert hyphenation.preload("en", write=True)
    assert _hyphenated() == parsed
    assert kept.read_bytes() != b"\x00not marshal"  # and kept again, repaired


def test_nothing_is_written_unless_allowed(fresh: Path) -> None:
    assert hyphenation.preload("en", write=False)
    assert all("-" in word for word in _hyphenated())
    assert not list(fresh.iterdir())


def test_a_language_without_patterns_is_left_alone(fresh: Path) -> None:
    assert not hyphenation.preload("tlh", write=True)  # Klingon: no pyphen dictionary
    assert not list(fresh.iterdir())
