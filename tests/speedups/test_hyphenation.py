"""Hyphenation patterns kept parsed beside the package (``briefpress.speedups.hyphenation``)."""

from __future__ import annotations

import io
import marshal
import sys
from collections import UserDict
from contextlib import redirect_stdout
from pathlib import Path

import pyphen
import pytest

import briefpress.speedups.hyphenation as hyphenation
from briefpress.cli import main
from briefpress.editions.typeset import import_weasyprint
from tools.paths import BRIEF

WORDS = ["presidential", "constitutional", "parliamentary", "Kazakhstan", "referendum", "administration",
         "hyphenation", "reconciliation", "independence", "infrastructure"]
#: The patterns the brief's language (``en``) is hyphenated with.
PATTERNS = Path(pyphen.LANGUAGES[pyphen.language_fallback("en")])


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder to keep patterns in, and pyphen as a new process finds it: no patterns parsed yet."""
    folder = tmp_path / "__pycache__"
    folder.mkdir()
    monkeypatch.setattr(hyphenation, "FOLDER", folder)
    monkeypatch.setattr(pyphen, "hdcache", {})
    return folder


@pytest.fixture
def pyphens_own(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The words as pyphen hyphenates them with the patterns it parses itself (then forgotten again)."""
    words = _hyphenated("en")
    assert sum("-" in word for word in words) >= len(WORDS) - 1, words  # the patterns at work
    monkeypatch.setattr(pyphen, "hdcache", {})
    return words


def _hyphenated(lang: str) -> list[str]:
    return [pyphen.Pyphen(lang=lang).inserted(word) for word in WORDS]


def _cannot_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on pyphen cannot parse a pattern file: only patterns kept can serve."""
    def refuse(self, path):
        raise AssertionError(f"pyphen parsed {path}")

    monkeypatch.setattr(pyphen.HyphDict, "__init__", refuse)


def test_kept_patterns_are_pyphens_own(fresh: Path, pyphens_own: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    reference = pyphen.HyphDict(PATTERNS)
    assert hyphenation.preload("en", write=True)
    [kept] = fresh.glob("hyph-*.marshal")
    assert _hyphenated("en") == pyphens_own

    monkeypatch.setattr(pyphen, "hdcache", {})  # a new process
    _cannot_parse(monkeypatch)
    assert hyphenation.preload("en")
    loaded = pyphen.hdcache[PATTERNS]
    assert (loaded.patterns, loaded.maxlen) == (reference.patterns, reference.maxlen)
    assert _hyphenated("en") == pyphens_own
    assert _hyphenated("en-GB") == pyphens_own  # the same file, under another of its names
    assert list(fresh.iterdir()) == [kept]


@pytest.mark.parametrize("damage", [
    b"",
    b"\x00not marshal at all",
    "truncated",
    marshal.dumps([1, 2]),
    marshal.dumps(("patterns", 4)),
    marshal.dumps(({}, "maxlen", None)),
], ids=["empty", "garbage", "truncated", "a-list", "not-a-dict", "three-fields"])
def test_a_damaged_file_is_parsed_again(fresh: Path, pyphens_own: list[str], monkeypatch: pytest.MonkeyPatch,
                                        damage: bytes | str) -> None:
    assert hyphenation.preload("en", write=True)
    [kept] = fresh.glob("hyph-*.marshal")
    good = kept.read_bytes()
    kept.write_bytes(good[: len(good) // 2] if damage == "truncated" else damage)

    monkeypatch.setattr(pyphen, "hdcache", {})
    assert hyphenation.preload("en", write=True)
    assert _hyphenated("en") == pyphens_own
    assert kept.read_bytes() == good, "and kept again, repaired"


def test_patterns_read_otherwise_than_pyphen_reads_them_are_not_used(
        fresh: Path, pyphens_own: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Kept patterns of the right shape that do not hyphenate as pyphen's own do (as if pyphen had changed
    what its fields mean) are dropped, and pyphen parses its file itself."""
    assert hyphenation.preload("en", write=True)
    [kept] = fresh.glob("hyph-*.marshal")
    kept.write_bytes(marshal.dumps(({}, 5)))

    monkeypatch.setattr(pyphen, "hdcache", {})
    assert not hyphenation.preload("en", write=True)
    assert PATTERNS not in pyphen.hdcache
    assert _hyphenated("en") == pyphens_own


def test_nothing_is_written_unless_allowed(fresh: Path, pyphens_own: list[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert hyphenation.preload("en", write=False)
    assert _hyphenated("en") == pyphens_own
    assert list(fresh.iterdir()) == []

    # Left to Python's rule for .pyc files: not under PYTHONDONTWRITEBYTECODE (python -B) ...
    monkeypatch.setattr(pyphen, "hdcache", {})
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert hyphenation.preload("en")
    assert list(fresh.iterdir()) == []

    # ... and written otherwise.
    monkeypatch.setattr(pyphen, "hdcache", {})
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    assert hyphenation.preload("en")
    assert len(list(fresh.glob("hyph-*.marshal"))) == 1


def test_where_nothing_can_be_written_nothing_is_kept_and_words_are_hyphenated(fresh: Path, pyphens_own: list[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hyphenation, "FOLDER", fresh / "missing" / "__pycache__")
    assert hyphenation.preload("en", write=True)
    assert _hyphenated("en") == pyphens_own
    assert not (fresh / "missing").exists()


def test_a_language_without_patterns_is_left_alone(fresh: Path) -> None:
    assert pyphen.language_fallback("tlh") is None  # Klingon: no pyphen dictionary
    assert not hyphenation.preload("tlh", write=True)
    assert pyphen.hdcache == {}
    assert list(fresh.iterdir()) == []


class NotADict(UserDict):
    """A cache pyphen can use (``in``, ``[]``) that is not a ``dict``: what preload must not assume it knows."""


@pytest.mark.parametrize("change", ["removed", "not-a-dict"])
def test_preload_leaves_a_different_pyphen_alone(fresh: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    if change == "removed":
        monkeypatch.delattr(pyphen, "hdcache")
    else:
        monkeypatch.setattr(pyphen, "hdcache", NotADict())
    assert hyphenation.preload("en", write=True) is False
    assert list(fresh.iterdir()) == []
    if change == "not-a-dict":
        assert len(pyphen.hdcache) == 0


def _build_pdf(out: Path) -> bytes:
    with redirect_stdout(io.StringIO()):
        assert main(["build", str(BRIEF), "--format", "pdf", "--out", str(out)]) == 0
    [pdf] = out.glob("*.pdf")
    return pdf.read_bytes()


def test_a_build_through_a_different_pyphen_gives_the_same_pdf(
        fresh: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With pyphen's cache not what preload expects, the build hyphenates through pyphen as it is.

    (With the cache removed altogether pyphen 0.18 itself cannot hyphenate, so that case is left to
    ``test_preload_leaves_a_different_pyphen_alone``.)
    """
    monkeypatch.setenv("BRIEFPRESS_SPEEDUPS", "off")
    normal = _build_pdf(tmp_path / "off")

    monkeypatch.delenv("BRIEFPRESS_SPEEDUPS")
    # WeasyPrint already imported here: the command line lays the PDF out in this process, not in a printer,
    # so that what pyphen did is seen below.
    import_weasyprint()
    cache = NotADict()
    monkeypatch.setattr(pyphen, "hdcache", cache)
    assert _build_pdf(tmp_path / "on") == normal
    assert PATTERNS in cache, "the build hyphenated with patterns pyphen parsed itself"
    assert list(fresh.iterdir()) == []
