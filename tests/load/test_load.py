"""Unit tests of the load stage on the small fixture brief under tests/briefs/."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from briefpress.errors import Diagnostics
from briefpress.load import load_brief
from briefpress.model import Brief

MINIMAL = Path(__file__).parents[1] / "briefs" / "minimal"


def _load() -> Brief:
    diags = Diagnostics()
    brief = load_brief(MINIMAL, diags)
    assert brief is not None and diags.items == []
    return brief


def test_metadata_is_loaded_into_a_frozen_model() -> None:
    meta = _load().metadata
    assert meta.title == "A Minimal Brief" and meta.subtitle == "For unit tests"
    assert meta.lang == "en-GB" and meta.date == dt.date(2024, 5, 1)
    assert meta.identifier == "urn:uuid:00000000-0000-4000-8000-000000000001" and meta.slug == "minimal"
    assert meta.authors == ("Test Desk",) and meta.subjects == ("Testing",)
    assert meta.publisher == "Test Desk" and meta.rights == "Public domain"
    assert meta.description == "A small brief that exercises every feature once."
    assert meta.paper == "a4" and meta.modified is None, "brief.yaml gives neither: the defaults"
    with pytest.raises(dataclasses.FrozenInstanceError):
        meta.title = "changed"  # type: ignore[misc]


def test_sections_follow_brief_yaml_with_ids_and_lines() -> None:
    brief = _load()
    assert brief.root == MINIMAL.resolve()
    assert [s.path for s in brief.sections] == [MINIMAL.resolve() / "sections" / name
                                               for name in ("01-intro.md", "02-data.md")]
    # The id comes from front matter, else from the file name without its number.
    assert [s.id for s in brief.sections] == ["intro", "data"]
    intro, data = brief.sections
    assert intro.title == "Introduction" and intro.short_title == "Intro" and intro.role == "body"
    assert data.title == "Data" and data.short_title == "Data" and data.role == "body"
    # Each body starts after its front matter (4 lines in both files), and its source is the file from there on.
    assert intro.first_line == 5 and data.first_line == 5
    for section in brief.sections:
        lines = section.path.read_text(encoding="utf-8").splitlines()
        assert section.source.splitlines() == lines[section.first_line - 1:]


def test_data_files_are_loaded_by_name() -> None:
    data = _load().data
    assert set(data) == {"events"}
    assert data["events"]["events"] == [
        {"date": "2021-02-03", "event": "Later | piped", "detail": "B"},
        {"date": "2020-01", "event": "Earlier", "detail": "A & co"},
    ]
    with pytest.raises(TypeError):
        data["other"] = {}  # type: ignore[index]
