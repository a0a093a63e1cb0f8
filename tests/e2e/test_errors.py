"""Bad input gets a clear ``path:line:`` error, nothing in the output folder is lost, and a build
reads nothing outside the brief.

Every broken brief is built from a tiny valid one in ``tmp_path``; the cases are one table.
"""

from __future__ import annotations

import errno
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree

from briefpress.cli import main

SLUG = "tiny"
DIAGNOSTIC_RE = re.compile(r"^[^\s:][^:]*:\d+: (error|warning): |^[^:]+: (error|warning): ")
XHTML_NS = "http://www.w3.org/1999/xhtml"


# --- A tiny valid brief ---------------------------------------------------------------------------

def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """Return a small valid RGB PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


BRIEF_YAML = """\
title: Tiny brief
lang: en
identifier: urn:test:tiny
slug: tiny
sections:
  - sections/01-intro.md
  - sections/02-details.md
"""
# Line numbers the cases rely on: 'sections/02-details.md' is line 7 of brief.yaml.

INTRO_MD = """\
---
title: Introduction
id: intro
---

The brief has {{ data.facts.count }} facts; see the [details](#details).

![A red pixel](images/pic.png "A pixel")
"""
# Lines of 01-intro.md: 2 title, 3 id, 6 text with a link, 8 image.

DETAILS_MD = """\
---
title: Details
id: details
---

## A heading {#a-heading}

Back to the [introduction](#intro) and [the heading](#a-heading).
"""

FACTS_YAML = "count: 3\nname: Tiny\n"


def base_files() -> dict[str, str | bytes]:
    """The files of the tiny valid brief, by path relative to the brief folder."""
    return {
        "brief.yaml": BRIEF_YAML,
        "sections/01-intro.md": INTRO_MD,
        "sections/02-details.md": DETAILS_MD,
        "data/facts.yaml": FACTS_YAML,
        "images/pic.png": png_bytes(),
    }


ALIASES = {"brief_yaml": "brief.yaml", "intro": "sections/01-intro.md", "details": "sections/02-details.md",
           "facts": "data/facts.yaml", "image": "images/pic.png"}


def make_brief(tmp_path: Path, **overrides: str | bytes | None) -> Path:
    """Write the tiny brief into ``tmp_path/brief``; an override replaces (or, if None, removes) a file.

    Keywords name the files: brief_yaml, intro, details, facts, image (see ``ALIASES``).
    """
    return write_brief(tmp_path, {ALIASES[name]: content for name, content in overrides.items()})


def write_brief(tmp_path: Path, overrides: dict[str, str | bytes | None] | None = None) -> Path:
    """Write the tiny brief with ``overrides`` (path -> content, None to remove) applied."""
    root = tmp_path / "brief"
    files = {**base_files(), **(overrides or {})}
    for relative, content in files.items():
        if content is None:
            continue
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


# --- The output folder, before and after ----------------------------------------------------------

OLD_TIME = 1_000_000_000  # 2001: any rewrite of the file would change it


def populate_out(out: Path) -> dict[str, tuple[bytes, int]]:
    """Fill the output folder with a sentinel and previous outputs; return its snapshot."""
    out.mkdir(parents=True, exist_ok=True)
    for name, content in {"sentinel.txt": b"keep me\n", f"{SLUG}.html": b"<p>previous html</p>\n",
                          f"{SLUG}.epub": b"previous epub", f"{SLUG}.pdf": b"%PDF previous"}.items():
        (out / name).write_bytes(content)
        os.utime(out / name, ns=(OLD_TIME * 10**9, OLD_TIME * 10**9))
    return snapshot(out)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file in ``folder`` (hidden ones too) with its bytes and mtime; the build's cache folder, which
    ``assert_cache_holds_whole_entries`` checks, is a folder, not a file."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir()) if not p.is_dir()}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the command line in-process; return its status, stdout and stderr."""
    try:
        status = main(argv)
    except SystemExit as exc:  # main() must return, never exit; fail clearly if it does
        pytest.fail(f"main() raised SystemExit({exc.code!r})")
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_clean_report(err: str) -> None:
    """Every line of stderr is a diagnostic; no traceback, no unexpected internal failure."""
    assert "Traceback" not in err, err
    assert "run with --debug" not in err, f"unexpected internal failure:\n{err}"
    for line in err.splitlines():
        assert DIAGNOSTIC_RE.match(line), f"not a 'path:line: error: message' line: {line!r}"


# --- The table of broken briefs -------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One breakage: files to change, extra arguments, and what the author must see."""

    id: str
    files: dict[str, str | bytes | None] = field(default_factory=dict)
    expect: tuple[str, ...] = ()  # 'prefix ... phrase' pairs joined by ' | '
    status: int = 1
    args: tuple[str, ...] = ()
    brief: str = "brief"  # the folder given on the command line, relative to tmp_path
    setup: Callable[[Path], None] | None = None
    #: A known fault in briefpress that makes this case fail (strict: the case fails once it is fixed).
    known_fault: str | None = None


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


def _symlink_image(tmp_path: Path) -> None:
    target = Path("/etc/hostname") if Path("/etc/hostname").is_file() else Path("/etc/passwd")
    link = tmp_path / "brief" / "images" / "evil.png"
    link.symlink_to(target)


def _symlink_folder(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "x.png").write_bytes(png_bytes())
    (tmp_path / "brief" / "images" / "linked").symlink_to(tmp_path / "outside")


INTRO_IMAGE = "![A red pixel](images/pic.png \"A pixel\")"

CASES = [
    # YAML syntax errors point at the line of the file the author edits.
    Case("yaml-brief", {"brief.yaml": BRIEF_YAML.replace("slug: tiny", "slug: [tiny")},
         ("brief/brief.yaml:5: | invalid YAML",)),
    Case("yaml-front-matter", {"sections/01-intro.md": _replace(INTRO_MD, "id: intro", "id: [intro")},
         ("brief/sections/01-intro.md:3: | invalid YAML",)),
    Case("yaml-front-matter-tab", {"sections/02-details.md": _replace(DETAILS_MD, "id: details", "\tid: details")},
         ("brief/sections/02-details.md:3: | invalid YAML",)),
    Case("yaml-data", {"data/facts.yaml": "count: 3\nname: \"Tiny\n"},
         ("brief/data/facts.yaml:2: | invalid YAML",)),
    Case("yaml-brief-not-mapping", {"brief.yaml": "- title\n- lang\n"},
         ("brief/brief.yaml:1: | must be a mapping",)),
    Case("front-matter-not-mapping", {"sections/01-intro.md": "---\n- a list\n---\n\nText.\n"},
         ("brief/sections/01-intro.md:2: | front matter must be a mapping",)),
    Case("no-front-matter", {"sections/01-intro.md": "Just text, no front matter.\n"},
         ("brief/sections/01-intro.md:1: | no YAML front matter",)),
    Case("front-matter-no-title", {"sections/01-intro.md": _replace(INTRO_MD, "title: Introduction\n", "")},
         ("brief/sections/01-intro.md:1: | needs a 'title'",)),
    # Empty and incomplete metadata.
    Case("empty-brief-yaml", {"brief.yaml": ""}, ("brief/brief.yaml:1: | brief.yaml is empty",)),
    Case("blank-brief-yaml", {"brief.yaml": "# just a comment\n\n"}, ("brief/brief.yaml:1: | brief.yaml is empty",)),
    Case("no-brief-yaml", {"brief.yaml": None}, ("brief/brief.yaml: | brief.yaml is missing",)),
    Case("missing-title", {"brief.yaml": _replace(BRIEF_YAML, "title: Tiny brief\n", "")},
         ("brief/brief.yaml:1: | missing required key 'title'",)),
    Case("missing-lang", {"brief.yaml": _replace(BRIEF_YAML, "lang: en\n", "")},
         ("brief/brief.yaml:1: | missing required key 'lang'",)),
    Case("blank-title", {"brief.yaml": _replace(BRIEF_YAML, "title: Tiny brief", "title: '  '")},
         ("brief/brief.yaml:1: | missing required key 'title'",)),
    Case("missing-sections", {"brief.yaml": BRIEF_YAML.split("sections:")[0]},
         ("brief/brief.yaml:1: | missing required key 'sections'",)),
    Case("empty-sections", {"brief.yaml": BRIEF_YAML.split("sections:")[0] + "sections: []\n"},
         ("brief/brief.yaml:1: | missing required key 'sections'",)),
    Case("bad-lang", {"brief.yaml": _replace(BRIEF_YAML, "lang: en", "lang: english language")},
         ("brief/brief.yaml:2: | 'lang' must be a language tag",)),
    Case("bad-date", {"brief.yaml": BRIEF_YAML + "date: 2024-13-45\n"},
         ("brief/brief.yaml:8: | bad value '2024-13-45'",)),
    Case("bad-date-quoted", {"brief.yaml": BRIEF_YAML + "date: '2024-13-45'\n"},
         ("brief/brief.yaml:8: | must be an ISO date",)),
    Case("control-char-section", {"sections/02-details.md": DETAILS_MD + "\nA bell \x07 here.\n"},
         ("brief/sections/02-details.md:10: | control character U+0007",)),
    Case("control-char-yaml-escape", {"brief.yaml": _replace(BRIEF_YAML, "Tiny brief", '"Tiny\\bbrief"')},
         ("brief/brief.yaml:1: | control character U+0008",)),
    Case("control-char-jinja", {"sections/02-details.md": DETAILS_MD + "\nLine nine.\n\nA {{ '\\x01' }} here.\n"},
         ("brief/sections/02-details.md:12: | control character U+0001",)),
    Case("yaml-unprintable", {"data/facts.yaml": "count: 3\nname: a\x7fb\n"},
         ("brief/data/facts.yaml:2: | character U+007F is not allowed",)),
    Case("sections-not-list", {"brief.yaml": BRIEF_YAML.split("sections:")[0] + "sections: sections/01-intro.md\n"},
         ("brief/brief.yaml:5: | 'sections' must be a list",)),
    # Unknown keys, with a suggestion.
    Case("unknown-key", {"brief.yaml": BRIEF_YAML + "subtitel: A subtitle\n"},
         ("brief/brief.yaml:8: | unknown key 'subtitel' (did you mean 'subtitle'?)",)),
    Case("unknown-front-matter-key",
         {"sections/02-details.md": _replace(DETAILS_MD, "id: details", "id: details\nshort_titel: D")},
         ("brief/sections/02-details.md:4: | unknown front matter key 'short_titel' (did you mean 'short_title'?)",)),
    Case("unknown-paper", {"brief.yaml": BRIEF_YAML + "paper: leter\n"},
         ("brief/brief.yaml:8: | 'paper' must be one of a4, letter (did you mean 'letter'?)",)),
    Case("unknown-role", {"sections/02-details.md": _replace(DETAILS_MD, "id: details", "id: details\nrole: bdy")},
         ("brief/sections/02-details.md:4: | 'role' must be one of body, front, back (did you mean 'body'?)",)),
    # Section files: listed but missing, present but not listed, outside the brief.
    Case("listed-section-missing", {"sections/02-details.md": None},
         ("brief/brief.yaml:7: | section file 'sections/02-details.md' does not exist",)),
    Case("section-outside", {"brief.yaml": BRIEF_YAML + "  - ../elsewhere.md\n"},
         ("brief/brief.yaml:8: | outside the brief folder",)),
    Case("section-listed-twice", {"brief.yaml": BRIEF_YAML + "  - sections/01-intro.md\n"},
         ("brief/brief.yaml:8: | listed twice",)),
    Case("unlisted-section-warning", {"sections/03-extra.md": "---\ntitle: Extra\n---\n\nText.\n"},
         ("brief/sections/03-extra.md: warning: | not listed",), status=0),
    Case("unlisted-section-strict", {"sections/03-extra.md": "---\ntitle: Extra\n---\n\nText.\n"},
         ("brief/sections/03-extra.md: warning: | not listed",), args=("--strict",)),
    Case("missing-alt-strict", {"sections/01-intro.md": _replace(INTRO_MD, "A red pixel", "")},
         ("brief/sections/01-intro.md:8: warning: | no alt text",), args=("--strict",)),
    # Encoding.
    Case("not-utf8-section",
         {"sections/02-details.md": DETAILS_MD.encode("utf-8").replace(b"Back to", b"Caf\xe9 back to")},
         ("brief/sections/02-details.md:8: | not valid UTF-8",)),
    Case("not-utf8-brief-yaml", {"brief.yaml": BRIEF_YAML.encode("utf-8").replace(b"Tiny", b"T\xffny")},
         ("brief/brief.yaml:1: | not valid UTF-8",)),
    Case("not-utf8-data", {"data/facts.yaml": b"count: 3\nname: \xc3\x28\n"},
         ("brief/data/facts.yaml:2: | not valid UTF-8",)),
    # Jinja2: syntax errors and undefined names at the section's line.
    # The unclosed block is found where the template ends: line 11, the file's last ('No end.').
    Case("jinja-syntax", {"sections/02-details.md": DETAILS_MD + "\n{% if data.facts %}\nNo end.\n"},
         ("brief/sections/02-details.md:11: | template syntax error",)),
    Case("jinja-syntax-line", {"sections/02-details.md": DETAILS_MD + "\nA {{ data.facts.count + }} B\n"},
         ("brief/sections/02-details.md:10: | template syntax error",)),
    Case("jinja-undefined", {"sections/02-details.md": DETAILS_MD + "\nThere are {{ nope }} of them.\n"},
         ("brief/sections/02-details.md:10: | undefined name in template: 'nope' is undefined",)),
    Case("jinja-undefined-attribute",
         {"sections/02-details.md": DETAILS_MD + "\nLine nine.\n\nThere are {{ data.facts.missing }}.\n"},
         ("brief/sections/02-details.md:12: | undefined name in template",)),
    Case("jinja-comment-is-fine", {"sections/02-details.md": DETAILS_MD + "\n{## a note to self ##}\n"},
         (), status=0),
    Case("jinja-bad-chart", {"sections/02-details.md": DETAILS_MD + "\n{{ bar_chart({'id': 'c'}) }}\n"},
         ("brief/sections/02-details.md:10: | bar_chart() data lacks",)),
    # Images.
    Case("missing-image", {"sections/01-intro.md": _replace(INTRO_MD, "images/pic.png", "images/nope.png")},
         ("brief/sections/01-intro.md:8: | image 'images/nope.png' not found",)),
    Case("image-file-url", {"sections/01-intro.md": _replace(INTRO_MD, INTRO_IMAGE, "![x](file:///etc/hostname)")},
         ("brief/sections/01-intro.md:8: | image 'file:///etc/hostname'",)),
    Case("image-climbs-out",
         {"sections/01-intro.md": _replace(INTRO_MD, INTRO_IMAGE, "![x](../../../../etc/hostname)")},
         ("brief/sections/01-intro.md:8: | climbs out of the brief folder",)),
    Case("image-http", {"sections/01-intro.md": _replace(INTRO_MD, INTRO_IMAGE, "![x](http://127.0.0.1:9/x.png)")},
         ("brief/sections/01-intro.md:8: | image 'http://127.0.0.1:9/x.png'",)),
    Case("image-absolute-path", {"sections/01-intro.md": _replace(INTRO_MD, INTRO_IMAGE, "![x](/etc/hostname)")},
         ("brief/sections/01-intro.md:8: | inside the brief folder",)),
    Case("image-encoded-climb",
         {"sections/01-intro.md": _replace(INTRO_MD, INTRO_IMAGE, "![x](images/%2e%2e/%2e%2e/%2e%2e/etc/hostname)")},
         ("brief/sections/01-intro.md:8: | climbs out of the brief folder",)),
    Case("image-symlink-out", {"sections/01-intro.md": _replace(INTRO_MD, "images/pic.png", "images/evil.png")},
         ("brief/sections/01-intro.md:8: | outside the brief folder",), setup=_symlink_image),
    Case("image-symlinked-folder",
         {"sections/01-intro.md": _replace(INTRO_MD, "images/pic.png", "images/linked/x.png")},
         ("brief/sections/01-intro.md:8: | outside the brief folder",), setup=_symlink_folder),
    Case("image-nul", {"sections/01-intro.md": _replace(INTRO_MD, "images/pic.png", "images/%00.png")},
         ("brief/sections/01-intro.md:8: | image 'images/%00.png' is not a path: it holds a NUL character",)),
    Case("image-is-folder", {"sections/01-intro.md": _replace(INTRO_MD, "images/pic.png", "images")},
         ("brief/sections/01-intro.md:8: | not found",)),
    # Links and ids.
    Case("link-unknown-anchor", {"sections/02-details.md": DETAILS_MD + "\nSee [nowhere](#nowhere).\n"},
         ("brief/sections/02-details.md:10: | no section or heading has the id 'nowhere'",)),
    Case("link-file-scheme", {"sections/02-details.md": DETAILS_MD + "\nSee [secrets](file:///etc/passwd).\n"},
         ("brief/sections/02-details.md:10: | links must be",)),
    Case("link-javascript", {"sections/02-details.md": DETAILS_MD + "\nSee [js](javascript:alert(1)).\n"},
         ("brief/sections/02-details.md:10: | links must be",)),
    # With its id changed, no section is 'details' any more: the introduction's link to it (line 6) is broken.
    Case("duplicate-section-id", {"sections/02-details.md": _replace(DETAILS_MD, "id: details", "id: intro")},
         ("brief/sections/02-details.md:3: | duplicate section id 'intro'",
          "brief/sections/01-intro.md:6: | no section or heading has the id 'details'")),
    Case("duplicate-heading-id",
         {"sections/02-details.md": DETAILS_MD + "\n## Again {#a-heading}\n"},
         ("brief/sections/02-details.md:10: | duplicate id 'a-heading'",)),
    Case("heading-id-is-section-id", {"sections/02-details.md": DETAILS_MD + "\n## Intro again {#intro}\n"},
         ("brief/sections/02-details.md:10: | duplicate id 'intro'",)),
    Case("duplicate-attribute-id",
         {"sections/02-details.md": DETAILS_MD + "\nA [link](#intro){#a-heading} here.\n"},
         ("brief/sections/02-details.md:10: | duplicate id 'a-heading'",)),
    # Several independent problems are all reported.
    Case("two-errors",
         {"brief.yaml": BRIEF_YAML + "subtitel: x\n",
          "sections/02-details.md": DETAILS_MD + "\nSee [nowhere](#nowhere).\n"},
         ("brief/brief.yaml:8: | unknown key 'subtitel'",
          "brief/sections/02-details.md:10: | no section or heading has the id 'nowhere'")),
    Case("two-section-errors",
         {"sections/01-intro.md": _replace(INTRO_MD, "images/pic.png", "images/nope.png"),
          "sections/02-details.md": DETAILS_MD + "\nThere are {{ nope }} of them.\n"},
         ("brief/sections/01-intro.md:8: | not found",
          "brief/sections/02-details.md:10: | undefined name")),
    Case("yaml-and-missing-file",
         {"sections/01-intro.md": _replace(INTRO_MD, "id: intro", "id: [intro"), "sections/02-details.md": None},
         ("brief/sections/01-intro.md:3: | invalid YAML",
          "brief/brief.yaml:7: | does not exist")),
    # Symbolic links out of the brief, for the files the build reads itself.
    Case("data-symlink-out", {}, ("brief/data/passwd.yaml: | resolves outside the brief folder",),
         setup=lambda tmp: (tmp / "brief" / "data" / "passwd.yaml").symlink_to("/etc/passwd")),
    Case("section-symlink-out", {"brief.yaml": BRIEF_YAML + "  - sections/evil.txt\n"},
         ("brief/brief.yaml:8: | outside the brief folder",),
         setup=lambda tmp: (tmp / "brief" / "sections" / "evil.txt").symlink_to("/etc/passwd")),
    Case("section-symlink-out-md", {"brief.yaml": BRIEF_YAML + "  - sections/evil.md\n"},
         ("brief/brief.yaml:8: | outside the brief folder",),
         setup=lambda tmp: (tmp / "brief" / "sections" / "evil.md").symlink_to("/etc/passwd")),
    # The brief folder itself, and the command line.
    Case("no-brief-folder", expect=("nowhere: | brief folder does not exist",), brief="nowhere"),
    Case("brief-is-a-file", expect=("brief/brief.yaml: | brief folder does not exist",), brief="brief/brief.yaml"),
    Case("bad-format", expect=("briefpress build: error: argument --format | invalid choice: 'docx'",), status=2,
         args=("--format", "docx")),
    Case("empty-out", expect=("briefpress build: error: argument --out | an empty path names no folder",), status=2,
         args=("--out", "")),
    Case("empty-brief", expect=("briefpress build: error: argument brief | an empty path names no folder",),
         status=2, brief=""),
    Case("unknown-option", expect=("briefpress: error: | unrecognized arguments: --colour",), status=2,
         args=("--colour",)),
    Case("jinja-runtime-error", {"sections/02-details.md": DETAILS_MD + "\nRatio {{ 1 / 0 }}.\n"},
         ("brief/sections/02-details.md:10: | template error: ZeroDivisionError",)),
    Case("yaml-data-follow-on", {"data/facts.yaml": "count: [3\n"},
         ("brief/data/facts.yaml:1: | invalid YAML",)),
    # Values no stage can walk or show: nesting without end, numbers that are not numbers, impossible dates.
    Case("yaml-nested-deep", {"data/facts.yaml": FACTS_YAML + "deep: " + "[" * 999 + "]" * 999 + "\n"},
         ("brief/data/facts.yaml:3: | nested more than 50 levels deep",)),
    Case("yaml-nested-deep-front-matter",
         {"sections/02-details.md": _replace(DETAILS_MD, "id: details", "id: details\nx: " + "[" * 999 + "]" * 999)},
         ("brief/sections/02-details.md:4: | nested more than 50 levels deep",)),
    Case("data-nan", {"data/facts.yaml": "count: .nan\nname: Tiny\n"},
         ("brief/data/facts.yaml:1: | '.nan' is not a finite number",)),
    Case("data-infinite", {"data/facts.yaml": "count: 3\nname: [1, -.Inf]\n"},
         ("brief/data/facts.yaml:2: | '-.Inf' is not a finite number",)),
    Case("date-impossible-month", {"data/facts.yaml": FACTS_YAML + "events:\n  - {date: '2019-13-45', event: x}\n",
                                   "sections/02-details.md": DETAILS_MD + "\n{{ timeline(data.facts.events) }}\n"},
         ("brief/sections/02-details.md:10: | not a date: '2019-13-45' (there is no month 13)",)),
    Case("date-impossible-day", {"data/facts.yaml": FACTS_YAML + "events:\n  - {date: '2022-06-31', event: x}\n",
                                 "sections/02-details.md": DETAILS_MD + "\n{{ timeline(data.facts.events) }}\n"},
         ("brief/sections/02-details.md:10: | not a date: '2022-06-31' (June 2022 has no day 31)",)),
    # Quoted, a date is text to YAML: an event with a label, whose date only orders the table, was not checked.
    Case("date-impossible-day-labelled",
         {"data/facts.yaml": FACTS_YAML + 'events:\n  - {date: "2021-02-30", label: Late February, event: x}\n',
          "sections/02-details.md": DETAILS_MD + "\n{{ timeline(data.facts.events) }}\n"},
         ("brief/sections/02-details.md:10: | not a date: '2021-02-30' (February 2021 has no day 30)",)),
    Case("date-impossible-month-labelled",
         {"data/facts.yaml": FACTS_YAML + 'events:\n  - {date: "2019-01", event: x}\n'
                                          '  - {date: "2019-13", label: Late 2019, event: y}\n',
          "sections/02-details.md": DETAILS_MD + "\n{{ timeline(data.facts.events) }}\n"},
         ("brief/sections/02-details.md:10: | not a date: '2019-13' (there is no month 13)",)),
    Case("date-impossible-day-yaml", {"data/facts.yaml": FACTS_YAML + "day: 2022-06-31\n"},
         ("brief/data/facts.yaml:3: | bad value '2022-06-31'",)),
    Case("brief-date-impossible-day", {"brief.yaml": BRIEF_YAML + "date: 2022-06-31\n"},
         ("brief/brief.yaml:8: | bad value '2022-06-31'",)),
    Case("quote-nested-too-deep", {"sections/02-details.md": DETAILS_MD + "\n" + "> " * 25 + "Deep text.\n"},
         ("brief/sections/02-details.md:10: warning: | nested more than 20 deep: the text nested deeper is left out",),
         status=0),
    Case("list-nested-too-deep",
         {"sections/02-details.md": DETAILS_MD + "\n" + "".join("  " * i + f"- item {i}\n" for i in range(30))},
         ("brief/sections/02-details.md:19: warning: | nested more than 20 deep",), args=("--strict",)),
    Case("chart-max-nan", {"sections/02-details.md": DETAILS_MD + "\n{{ bar_chart({'id': 'c', 'caption': 'C', 'alt': 'A', "
                                                                   "'max': 'nan', 'bars': [{'label': 'L', 'value': 1}]}) }}\n"},
         ("brief/sections/02-details.md:10: | bar_chart() 'max' must be a finite number, not 'nan'",)),
]


def expectation(expected: str) -> tuple[str, str]:
    """Split a case's 'prefix | phrase' into the exact start of the line and the phrase it holds.

    A prefix that names no severity is an error: 'brief/x.md:3:' expects 'brief/x.md:3: error: ', and a
    prefix without a line number ('brief/x.md:') expects none ('brief/x.md: error: ').
    """
    prefix, _, phrase = expected.partition(" | ")
    if prefix.endswith(("error:", "warning:")):
        return prefix + " ", phrase
    if " error: " in prefix or " warning: " in prefix:  # a usage error: 'briefpress build: error: argument ...'
        return prefix, phrase
    return prefix + " error: ", phrase


def test_expectation_pins_line_and_severity() -> None:
    """An expectation's prefix fixes the line number (or its absence) and the severity."""
    head, phrase = expectation("brief/x.md:3: | bad")
    assert (head, phrase) == ("brief/x.md:3: error: ", "bad")
    assert not "brief/x.md:30: error: bad".startswith(head)
    assert not "brief/x.md:3: warning: bad".startswith(head)
    assert not "brief/x.md:3: error: bad".startswith(expectation("brief/x.md: | bad")[0])
    assert expectation("brief/x.md: warning: | not listed")[0] == "brief/x.md: warning: "


@pytest.mark.parametrize("case", [
    pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, raises=AssertionError, reason=c.known_fault)]
                 if c.known_fault else []) for c in CASES])
def test_broken_brief(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> None:
    """Each breakage is reported as 'path:line: severity: message' at the line the case names, nothing else is
    reported, and the output folder is untouched."""
    write_brief(tmp_path, case.files)
    if case.setup is not None:
        case.setup(tmp_path)
    out = tmp_path / "out"
    before = populate_out(out)
    monkeypatch.chdir(tmp_path)

    status, _, err = run(["build", case.brief, "--format", "html", "--out", "out", *case.args], capsys)

    assert status == case.status, err
    assert "Traceback" not in err
    matched: set[str] = set()
    for expected in case.expect:
        head, phrase = expectation(expected)
        lines = [line for line in err.splitlines() if line.startswith(head)]
        assert lines, f"no line starts with {head!r}:\n{err}"
        found = [line for line in lines if phrase in line]
        assert found, f"{phrase!r} not in {lines}"
        matched.update(found)
    if case.status != 2:
        assert_clean_report(err)
    if case.status != 0:
        assert snapshot(out) == before, "a failing build changed the output folder"
    else:
        after = snapshot(out)
        assert set(after) == set(before), "a build left extra files behind"
        assert after[f"{SLUG}.html"][0].startswith(b"<!DOCTYPE html>")
    # Every diagnostic printed is one the case expects: no follow-on error, no stray warning.
    unexpected = [line for line in err.splitlines() if line not in matched] if case.status != 2 else []
    assert not unexpected, f"diagnostics the case does not expect (follow-on errors?): {unexpected}"


def assert_cache_holds_whole_entries(out: Path) -> None:
    """The output folder's cache holds the page map and the HTML edition's font subsets, each entry whole: no
    temporary file of a write is left."""
    from briefpress.cache import Cache

    folder = out / ".briefpress-cache"
    assert sorted(p.name for p in folder.iterdir()) == ["fonts", f"{SLUG}.pages.json"]
    fonts = list((folder / "fonts").iterdir())
    assert fonts and all(Cache(out).get("fonts", p.name) is not None for p in fonts)


def test_valid_brief_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    """The tiny brief of every case builds cleanly, even with --strict (so each case breaks one thing)."""
    make_brief(tmp_path)
    monkeypatch.chdir(tmp_path)
    status, out, err = run(["build", "brief", "--format", "html", "--format", "epub", "--out", "out", "--strict"],
                           capsys)
    assert status == 0, err
    assert err == ""
    # The EPUB's page list keeps the PDF layout it needed in the output folder's cache.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".briefpress-cache", f"{SLUG}.epub", f"{SLUG}.html"]
    assert_cache_holds_whole_entries(tmp_path / "out")
    assert "out/tiny.html" in out


def test_make_brief_overrides(tmp_path: Path) -> None:
    """make_brief's keyword form reaches the same files as write_brief's paths."""
    root = make_brief(tmp_path / "keywords", details=None, facts="count: 9\n")
    assert (root / "data" / "facts.yaml").read_text() == "count: 9\n"
    assert not (root / "sections" / "02-details.md").exists()
    same = write_brief(tmp_path / "paths", {"sections/02-details.md": None, "data/facts.yaml": "count: 9\n"})

    def tree(folder: Path) -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    assert tree(root) == tree(same)
    assert set(tree(root)) == set(base_files()) - {"sections/02-details.md"}
    assert set(ALIASES.values()) == set(base_files()), "every file of the brief has a keyword"


def test_debug_shows_traceback_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """An unexpected failure is one line without --debug, and a traceback with it."""
    make_brief(tmp_path)
    monkeypatch.chdir(tmp_path)

    def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("briefpress.editions.html.write", boom)
    status, _, err = run(["build", "brief", "--format", "html", "--out", "out"], capsys)
    assert status == 1
    assert "Traceback" not in err
    assert err == "briefpress: error: RuntimeError: disk on fire (run with --debug for details)\n"
    with pytest.raises(RuntimeError, match="^disk on fire$"):
        main(["build", "brief", "--format", "html", "--out", "out", "--debug"])


# --- Nothing is lost ------------------------------------------------------------------------------

def disk_full_html(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, int]]:
    """Make the HTML edition run out of disk space halfway through writing its file.

    The stand-in takes what every edition's ``write`` takes, writes the first half of the page the real
    edition makes into the file the build gave it, and fails there as a full disk does. Returns a list that
    gets, for each call, the size of every file in the output folder at the moment of failure.
    """
    from briefpress.editions import html
    from briefpress.editions.base import EditionInput, EditionResult

    real_write = html.write
    seen: list[dict[str, int]] = []

    def write(inp: EditionInput) -> EditionResult:
        real_write(inp)
        page = inp.target.read_bytes()
        with inp.target.open("wb") as stream:
            stream.write(page[:len(page) // 2])
            seen.append({p.name: p.stat().st_size for p in inp.out_dir.iterdir() if p.is_file()})
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(inp.target))

    monkeypatch.setattr(html, "write", write)
    return seen


def assert_disk_full_report(status: int, err: str) -> None:
    """The build failed (1) and said so in one diagnostic line naming the cause, without a traceback."""
    assert status == 1, err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.endswith("\n"), err
    assert DIAGNOSTIC_RE.match(err), err
    # Named by the output it could not write, as ``path: error: no space left on device``.
    assert re.fullmatch(rf"\S+/{SLUG}\.\w+: error: {os.strerror(errno.ENOSPC).lower()}\n", err), err


def test_failing_writer_leaves_output_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A format that fails after another was written: no output replaced, no temporary file left."""
    make_brief(tmp_path)
    out = tmp_path / "out"
    before = populate_out(out)
    monkeypatch.chdir(tmp_path)
    seen = disk_full_html(monkeypatch)

    status, _, err = run(["build", "brief", "--format", "epub", "--format", "html", "--out", "out"], capsys)

    assert_disk_full_report(status, err)
    # When the disk filled, the EPUB was already written (beside its final name) and the page half written.
    [files] = seen
    staged = {name: size for name, size in files.items() if name not in before}
    assert sorted(re.sub(r"\.[^.]+\.tmp$", ".tmp", name) for name in staged) == [
        f".{SLUG}.epub.tmp", f".{SLUG}.html.tmp"], files
    assert all(size > 0 for size in staged.values()), files
    assert snapshot(out) == before


@pytest.mark.parametrize("existing", ["", "new", "new/deeper"], ids=["none", "new", "new-deeper"])
def test_failing_writer_removes_folders_it_created(existing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A build that fails while writing removes the output folders it created, and nothing else."""
    make_brief(tmp_path)
    if existing:
        (tmp_path / existing).mkdir(parents=True)
        (tmp_path / existing / "kept.txt").write_text("kept\n")
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    monkeypatch.chdir(tmp_path)
    seen = disk_full_html(monkeypatch)

    status, _, err = run(["build", "brief", "--format", "epub", "--format", "html", "--out", "new/deeper/out"], capsys)

    assert_disk_full_report(status, err)
    assert len(seen) == 1, "the build failed before it wrote the HTML edition"
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before


def test_output_folder_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """An output 'folder' that is a file is a one-line error, and the file is untouched."""
    make_brief(tmp_path)
    (tmp_path / "out").write_bytes(b"not a folder")
    monkeypatch.chdir(tmp_path)
    status, _, err = run(["build", "brief", "--format", "html", "--out", "out"], capsys)
    assert status == 1
    assert err == "out: error: the output folder is a file\n"
    assert (tmp_path / "out").read_bytes() == b"not a folder"


def test_command_line_usage(capsys: pytest.CaptureFixture[str]) -> None:
    """A missing command is a usage error (2); --version and --help succeed (0); none raise SystemExit."""
    assert run([], capsys)[0] == 2
    status, out, _ = run(["--version"], capsys)
    assert status == 0 and out.startswith("briefpress ")
    assert run(["build", "--help"], capsys)[0] == 0


def test_diagnostic_is_one_line() -> None:
    """A message quoting several lines still prints as one diagnostic line."""
    from briefpress.errors import Diagnostic

    line = Diagnostic(Path("brief/x.md"), 3, "bad\n  thing\r\nhere").format()
    assert line == "brief/x.md:3: error: bad thing here"


def test_failing_build_does_not_create_output_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A broken brief does not even create the output folder."""
    make_brief(tmp_path, brief_yaml="")
    monkeypatch.chdir(tmp_path)
    status, _, err = run(["build", "brief", "--format", "html", "--out", "new/out"], capsys)
    assert status == 1
    assert err.startswith("brief/brief.yaml:1: error: brief.yaml is empty"), err
    assert not (tmp_path / "new").exists()


def test_success_replaces_only_its_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A successful build replaces its own output, leaves the rest, and leaves no temporary file."""
    make_brief(tmp_path)
    out = tmp_path / "out"
    before = populate_out(out)
    monkeypatch.chdir(tmp_path)
    status, _, err = run(["build", "brief", "--format", "html", "--out", "out"], capsys)
    assert status == 0, err
    after = snapshot(out)
    assert set(after) == set(before)
    assert after["sentinel.txt"] == before["sentinel.txt"]
    assert after[f"{SLUG}.epub"] == before[f"{SLUG}.epub"]
    assert after[f"{SLUG}.pdf"] == before[f"{SLUG}.pdf"]
    assert after[f"{SLUG}.html"] != before[f"{SLUG}.html"]
    assert after[f"{SLUG}.html"][0].startswith(b"<!DOCTYPE html>")
    assert (out / f"{SLUG}.html").stat().st_mode & 0o777 == 0o644


def test_concurrent_builds(tmp_path: Path) -> None:
    """Three processes build the same brief into the same folder at once, twice over: all succeed, each output
    is whole (a sound EPUB, a complete page) and no temporary file is left."""
    root = make_brief(tmp_path)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "briefpress", "build", str(root), "--format", "epub", "--format", "html",
               "--out", str(out)]
    for _ in range(2):
        procs = [subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
        results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
        for p in procs:
            p.stdout.close()  # type: ignore[union-attr]
            p.stderr.close()  # type: ignore[union-attr]
        assert all(code == 0 for code, _ in results), results
        assert sorted(p.name for p in out.iterdir()) == [".briefpress-cache", f"{SLUG}.epub", f"{SLUG}.html"]
        assert_cache_holds_whole_entries(out)
        with zipfile.ZipFile(out / f"{SLUG}.epub") as book:
            assert book.testzip() is None
            assert book.namelist()[0] == "mimetype"
        html = (out / f"{SLUG}.html").read_text(encoding="utf-8")
        assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")


# --- Reading nothing outside the brief ------------------------------------------------------------

HOSTILE_HTML = """\
<a rel="attachment" href="file:///etc/passwd">x</a>

<style>@import url(file:///etc/passwd)</style>

<script>alert(1)</script>

Inline <script>alert(2)</script> and <img src="file:///etc/hostname"> and
<link rel="stylesheet" href="file:///etc/passwd"> and <a href="file:///etc/passwd">y</a>.

<object data="file:///etc/passwd"></object>
"""


@pytest.fixture(scope="module")
def hostile_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One build, in every format, of a brief whose section is full of raw HTML."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    root = write_brief(tmp_path, {"sections/02-details.md": DETAILS_MD + "\n" + HOSTILE_HTML})
    out = tmp_path / "out"
    status = main(["build", str(root), "--format", "all", "--out", str(out)])
    assert status == 0
    return {fmt: out / f"{SLUG}.{fmt}" for fmt in ("pdf", "epub", "html")}


def test_hostile_html_pdf(hostile_outputs: dict[str, Path]) -> None:
    """The PDF has no embedded files, no file attachment and no file: link."""
    import pikepdf

    with pikepdf.open(hostile_outputs["pdf"]) as pdf:
        names = pdf.Root.get("/Names")
        assert names is None or "/EmbeddedFiles" not in names
        uris = []
        for page in pdf.pages:
            for annot in page.get("/Annots") or []:
                assert annot.get("/Subtype") != pikepdf.Name.FileAttachment
                action = annot.get("/A")
                if action is not None and "/URI" in action:
                    uris.append(str(action.URI))
        assert not [u for u in uris if u.lower().startswith("file:")], uris


def _xhtml_documents(epub: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(epub) as book:
        return {name: etree.fromstring(book.read(name)) for name in book.namelist() if name.endswith(".xhtml")}


def test_hostile_html_epub(hostile_outputs: dict[str, Path]) -> None:
    """The EPUB has no script, no style or link beyond the package CSS, no rel=attachment, no file: URL."""
    with zipfile.ZipFile(hostile_outputs["epub"]) as book:
        names = book.namelist()
        assert not [n for n in names if "passwd" in n or "hostname" in n]
    documents = _xhtml_documents(hostile_outputs["epub"])
    details = documents["EPUB/details.xhtml"] if "EPUB/details.xhtml" in documents else next(
        doc for name, doc in documents.items() if name.endswith("details.xhtml"))
    assert "<script>alert(1)</script>" in "".join(details.itertext()), "raw HTML should show as text"
    for name, doc in documents.items():
        assert not doc.xpath("//x:script", namespaces={"x": XHTML_NS}), name
        assert not doc.xpath("//x:style | //x:object | //x:iframe | //x:embed", namespaces={"x": XHTML_NS}), name
        for link in doc.xpath("//x:link", namespaces={"x": XHTML_NS}):
            assert link.get("href", "").startswith("styles/") and link.get("rel") == "stylesheet", name
        assert not doc.xpath("//*[@rel='attachment']"), name
        for attr in doc.xpath("//@href | //@src | //@data"):
            assert not str(attr).lower().startswith(("file:", "javascript:")), (name, attr)


def test_hostile_html_html(hostile_outputs: dict[str, Path]) -> None:
    """The HTML edition has no script element and no element taken from the section's raw HTML."""
    from lxml import html as lxml_html

    doc = lxml_html.fromstring(hostile_outputs["html"].read_bytes())
    assert not doc.xpath("//script | //object | //iframe | //embed")
    # the one link is the design's icon, inline
    assert [(link.get("rel"), link.get("href", "")[:26]) for link in doc.xpath("//link")] == \
        [("icon", "data:image/svg+xml;base64,")]
    assert len(doc.xpath("//style")) == 1  # the edition's own inlined CSS
    assert "@import" not in doc.xpath("//style")[0].text_content()
    assert not doc.xpath("//*[@rel='attachment']")
    for attr in doc.xpath("//@href | //@src"):
        assert not str(attr).lower().startswith(("file:", "javascript:")), attr
    assert "<script>alert(1)</script>" in doc.text_content()


def test_fetcher_policy(tmp_path: Path) -> None:
    """The PDF fetcher serves the brief's files and data: URLs, and refuses everything else."""
    from briefpress.errors import Diagnostics
    from briefpress.load import load_brief
    from briefpress.render import render_brief
    from briefpress.resources import Refused, ResourcePolicy

    root = make_brief(tmp_path)
    (tmp_path / "secret.txt").write_text("secret")
    (root / "images" / "evil.png").symlink_to(tmp_path / "secret.txt")
    diags = Diagnostics()
    brief = load_brief(root, diags)
    assert brief is not None
    rendered = render_brief(brief, diags)
    assert rendered is not None
    policy = ResourcePolicy(brief.root, rendered.assets)

    root_uri = brief.root.as_uri()
    assert policy.read_url(f"{root_uri}/images/pic.png") == (png_bytes(), "image/png")
    assert policy.read_url("data:text/plain;base64,aGk=") == (b"hi", "text/plain")
    assert policy.read_url("data:,a%20b") == (b"a b", "text/plain")
    refused = ["file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.com/x.css",
               "ftp://example.com/x", f"{root_uri}/../secret.txt", f"{root_uri}/images/../../secret.txt",
               f"{root_uri}/images/%2e%2e/%2e%2e/secret.txt", f"{root_uri}/images/evil.png",
               "file://otherhost/etc/passwd", f"{root_uri}/images/nope.png", f"{root_uri}/images/a%00.png",
               "data:image/png;base64,not*base64", "FILE:///etc/passwd", "file:/etc/passwd"]
    for url in refused:
        with pytest.raises(Refused):
            policy.read_url(url)
    assert [u for u, _ in policy.refused] == refused
    with pytest.raises(Refused):
        policy.read_relative("../secret.txt")


# --- Properties -----------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=int(os.environ.get("BRIEFPRESS_EXAMPLES", "30")), deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

markdown_text = st.lists(
    st.one_of(st.characters(blacklist_categories=("Cs",)),
              st.sampled_from(["#", "{#x}", "[", "]", "(", ")", "!", "*", "_", "`", "<", ">", "&", "|", "\n",
                               "[^1]", "[^1]: n", "{{", "}}", "{%", "%}", "{##", "##}", "---", "](#intro)",
                               "![a](images/pic.png)", "\x00", "\r", "\t", "  "])),
    max_size=60).map("".join)

yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                         st.text(max_size=20), st.dates())
yaml_values = st.recursive(yaml_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)
front_matter = st.one_of(
    st.dictionaries(st.sampled_from(["title", "id", "short_title", "role", "titel", "x"]), yaml_values, max_size=4),
    st.text(max_size=80),  # arbitrary text between the '---' lines, YAML or not
)


DETAILS_TEXT = "Back to the introduction and the heading."  # DETAILS_MD's paragraph, as text


def _text(element: etree._Element) -> str:
    """An element's text with runs of white space as one space."""
    return " ".join("".join(element.itertext()).split())


def _build_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str | bytes | None]) -> None:
    """Build with the given files; it either succeeds with sound editions or fails with diagnostics only.

    A success must give an EPUB whose documents are well-formed XHTML without scripts, and an HTML page that
    parses, holds no script, is titled with the brief's title and keeps the details section's paragraph,
    whatever came after it. A failure must print 'path:line: error:' lines and leave no output folder.
    """
    import tempfile

    import yaml
    from lxml import html as lxml_html

    work = Path(tempfile.mkdtemp(dir=tmp_path))
    root = write_brief(work, files)
    os.chdir(work)
    out = work / "out"
    status, _, err = run(["build", "brief", "--format", "epub", "--format", "html", "--out", "out"], capsys)
    assert status in (0, 1), err
    event("built" if status == 0 else "refused")
    assert_clean_report(err)
    if status == 0:
        assert root.is_dir()
        title = yaml.safe_load((root / "brief.yaml").read_text(encoding="utf-8"))["title"]
        (epub,) = out.glob("*.epub")  # the slug may come from an arbitrary title
        documents = _xhtml_documents(epub)  # each parsed as XML: well-formed, or the test fails here
        assert documents
        for name, doc in documents.items():
            assert doc.tag == f"{{{XHTML_NS}}}html", name
            assert not doc.xpath("//x:script", namespaces={"x": XHTML_NS}), name
        [details] = [doc for name, doc in documents.items() if name.endswith("/details.xhtml")]
        assert DETAILS_TEXT in [_text(p) for p in details.xpath("//x:p", namespaces={"x": XHTML_NS})]
        page = lxml_html.fromstring(epub.with_suffix(".html").read_bytes())
        assert not page.xpath("//script")
        assert page.xpath("string(/html/head/title)").split() == str(title).split()
        assert DETAILS_TEXT in [_text(p) for p in page.xpath("//section[@id='details']//p")]
    else:
        assert any(" error: " in line for line in err.splitlines()), err
        assert not out.exists(), "a failed build left an output folder"


@PROPERTY_SETTINGS
@given(body=markdown_text)
def test_property_markdown(body: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    """Any Markdown text gives either well-formed XHTML or path:line diagnostics, never a traceback."""
    monkeypatch.chdir(tmp_path)
    _build_checked(tmp_path, capsys, {"sections/02-details.md": DETAILS_MD + "\n" + body})


#: Paragraphs of words (letters and digits of any script) that Markdown has no syntax in.
plain_paragraphs = st.lists(
    st.lists(st.text(st.characters(whitelist_categories=("Lu", "Ll", "Lo", "Nd")), min_size=1, max_size=12),
             min_size=1, max_size=8).map(" ".join),
    min_size=1, max_size=5)


@PROPERTY_SETTINGS
@given(paragraphs=plain_paragraphs)
def test_property_every_paragraph_reaches_the_html(paragraphs: list[str], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Paragraphs of plain words each become one paragraph of the HTML page's section, in order, word for word."""
    import tempfile

    from lxml import html as lxml_html

    monkeypatch.chdir(tmp_path)
    work = Path(tempfile.mkdtemp(dir=tmp_path))
    write_brief(work, {"sections/02-details.md": DETAILS_MD + "\n" + "\n\n".join(paragraphs) + "\n"})
    os.chdir(work)
    status, _, err = run(["build", "brief", "--format", "html", "--out", "out"], capsys)
    assert (status, err) == (0, "")
    page = lxml_html.fromstring((work / "out" / f"{SLUG}.html").read_bytes())
    texts = [_text(p) for p in page.xpath("//section[@id='details']//p")]
    assert texts == [DETAILS_TEXT, *paragraphs]


@PROPERTY_SETTINGS
@given(meta=front_matter, body=markdown_text)
def test_property_front_matter(meta: dict | str, body: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    """Any front matter (mapping or raw text) gives well-formed XHTML or diagnostics, never a traceback."""
    import yaml

    monkeypatch.chdir(tmp_path)
    text = meta if isinstance(meta, str) else yaml.safe_dump(meta, allow_unicode=True)
    _build_checked(tmp_path, capsys, {"sections/01-intro.md": f"---\n{text}\n---\n\n{body}\n"})


@PROPERTY_SETTINGS
@given(meta=st.dictionaries(st.sampled_from(["title", "lang", "slug", "identifier", "date", "authors", "paper",
                                             "subjects", "modified", "sections", "titel", "description"]),
                            yaml_values, max_size=6))
def test_property_brief_yaml(meta: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    """Any brief.yaml values (over a valid base) give an edition or diagnostics, never a traceback."""
    import yaml

    monkeypatch.chdir(tmp_path)
    base = yaml.safe_load(BRIEF_YAML)
    _build_checked(tmp_path, capsys, {"brief.yaml": yaml.safe_dump({**base, **meta}, allow_unicode=True)})


def test_jinja_cannot_reach_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A section's template cannot climb from a global to Python's os module (and so read any file)."""
    write_brief(tmp_path, {"sections/02-details.md": DETAILS_MD + "\nCwd {{ cycler.__init__.__globals__.os.getcwd() }}\n"})
    monkeypatch.chdir(tmp_path)
    status, _, err = run(["build", "brief", "--format", "html", "--out", "out"], capsys)
    assert status == 1
    assert err.startswith("brief/sections/02-details.md:10: error: template error: SecurityError")
