"""Hostile and huge input: each build runs in a child process with a memory limit and a generous time bound,
so that a regression fails the test instead of eating the machine, and must end with one clear
'path:line: error:' report."""

from __future__ import annotations

import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_errors import BRIEF_YAML, DETAILS_MD, INTRO_MD, assert_clean_report, write_brief

#: Address space a hostile build may use: a build of the tiny brief needs under 300 MB.
MEMORY = 600 * 2**20
#: Far more than any of these builds takes once fixed (about a second): it only catches a hang.
HANG = 60


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def build(tmp_path: Path, *args: str, brief: str = "brief") -> subprocess.CompletedProcess:
    """Build the brief in ``tmp_path`` (HTML by default) in a child process with bounded memory."""
    argv = [sys.executable, "-m", "briefpress", "build", brief, "--out", "out", *(args or ("--format", "html"))]
    return subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=HANG, preexec_fn=_limited)


def assert_refused(result: subprocess.CompletedProcess, *expected: str) -> None:
    """The build failed with exit 1, a clean report, and a line starting with each of ``expected``."""
    assert result.returncode == 1, result.stderr
    assert_clean_report(result.stderr)
    lines = result.stderr.splitlines()
    for start in expected:
        assert [line for line in lines if line.startswith(start)], f"no line starts with {start!r}:\n{result.stderr}"


def alias_bomb(levels: int) -> str:
    """A small YAML text whose aliases, expanded, hold 9**levels values."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("where", ["data", "brief.yaml", "front matter"])
def test_yaml_aliases_are_refused_at_once(where: str, tmp_path: Path) -> None:
    """Nine levels of nine aliases took about a minute of processor time to check: an alias is refused at
    its line, wherever the YAML is."""
    bomb = alias_bomb(9)
    if where == "data":
        files, expected = {"data/bomb.yaml": bomb}, "brief/data/bomb.yaml:2: error: invalid YAML: alias '*a0'"
    elif where == "brief.yaml":
        files, expected = {"brief.yaml": BRIEF_YAML + bomb}, "brief/brief.yaml:9: error: invalid YAML: alias '*a0'"
    else:
        nested = "".join(f"  {line}\n" for line in bomb.splitlines())
        files = {"sections/02-details.md": DETAILS_MD.replace("id: details\n", f"id: details\nx:\n{nested}")}
        expected = "brief/sections/02-details.md:6: error: invalid YAML: alias '*a0'"
    write_brief(tmp_path, files)
    assert_refused(build(tmp_path), expected)


# --- Only regular files inside the brief are opened -----------------------------------------------

#: Where a file is expected, the line that makes the build read it, and the diagnostic's start.
NOT_REGULAR = {
    "data": ("data/fifo.yaml", {}, "brief/data/fifo.yaml: error: file is a named pipe"),
    "section": ("sections/03-fifo.md", {"brief.yaml": BRIEF_YAML + "  - sections/03-fifo.md\n"},
                "brief/brief.yaml:8: error: section file 'sections/03-fifo.md' is a named pipe"),
    "image": ("images/fifo.png", {"sections/02-details.md": DETAILS_MD + "\n![A pipe](images/fifo.png)\n"},
              "brief/sections/02-details.md:10: error: image 'images/fifo.png' is a named pipe"),
    "template": ("templates/html.html.j2", {}, "brief/templates/html.html.j2: error: file is a named pipe"),
    "stylesheet": ("styles/html.css", {}, "brief/styles/html.css: error: file is a named pipe"),
}


@pytest.mark.parametrize("where", NOT_REGULAR)
def test_named_pipe_is_an_error(where: str, tmp_path: Path) -> None:
    """A named pipe where a file is expected is reported by its path, never opened (opening one for reading
    waits for a writer: the build hung)."""
    import os

    relative, files, expected = NOT_REGULAR[where]
    root = write_brief(tmp_path, files)
    (root / relative).parent.mkdir(exist_ok=True)
    os.mkfifo(root / relative)
    assert_refused(build(tmp_path), expected)


@pytest.mark.parametrize("kind", ["socket", "device"])
def test_socket_or_device_is_an_error(kind: str, tmp_path: Path) -> None:
    """A socket or a device where a data file is expected is reported by its path, never opened."""
    import os
    import socket
    import stat

    root = write_brief(tmp_path)
    path = root / "data" / f"{kind}.yaml"
    if kind == "socket":
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(str(path))
    else:
        try:
            os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # as /dev/null
        except PermissionError:
            pytest.skip("this machine may not make device files")
    assert_refused(build(tmp_path), f"brief/data/{kind}.yaml: error: file is a {kind}, not a regular file")


def test_data_folder_that_is_a_link_loop_is_an_error(tmp_path: Path) -> None:
    """A data folder that is a symbolic link loop is an error naming it, not a brief without data."""
    root = write_brief(tmp_path, {"data/facts.yaml": None, "sections/01-intro.md": INTRO_MD.replace(
        "{{ data.facts.count }}", "3")})
    (root / "data").symlink_to(root / "data")
    assert_refused(build(tmp_path), "brief/data: error: folder is a symbolic link loop")


def test_symlink_loops_are_errors_and_the_rest_is_reported(tmp_path: Path) -> None:
    """Symbolic link loops in sections/ and data/ are errors naming their paths, beside the brief's other
    errors (a loop stopped the build with a Python exception and nothing else reported)."""
    root = write_brief(tmp_path, {"brief.yaml": BRIEF_YAML + "  - sections/03-loop.md\nsubtitel: x\n"})
    for relative in ("sections/03-loop.md", "sections/04-loop.md", "data/loop.yaml"):
        (root / relative).symlink_to(root / relative)
    assert_refused(build(tmp_path),
                   "brief/brief.yaml:8: error: section 'sections/03-loop.md' is a symbolic link loop",
                   "brief/sections/04-loop.md: error: file is a symbolic link loop",
                   "brief/data/loop.yaml: error: file is a symbolic link loop",
                   "brief/brief.yaml:9: error: unknown key 'subtitel'")


def test_overrides_leading_outside_are_errors(tmp_path: Path) -> None:
    """A template or stylesheet of the brief that links outside it is an error naming it (they were read
    first, then quietly replaced by the package's), and so is one in a linked folder."""
    root = write_brief(tmp_path, {"styles/print.css": "p { color: red }\n"})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "html.html.j2").write_text("{{ meta.title }} from outside\n")
    (outside / "html.css").write_text("p { color: red }\n")
    (root / "templates").mkdir()
    (root / "templates" / "html.html.j2").symlink_to(outside / "html.html.j2")
    (root / "styles" / "html.css").symlink_to(outside / "html.css")
    (root / "styles" / "more").symlink_to(outside)
    assert_refused(build(tmp_path),
                   "brief/templates/html.html.j2: error: file resolves outside the brief folder",
                   "brief/styles/html.css: error: file resolves outside the brief folder",
                   "brief/styles/more: error: file resolves outside the brief folder")


def _without_privileges() -> None:
    """Drop every capability from the bounding set, so that a build run as root meets file permissions as
    any user does (a root process bypasses them); then limit memory."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in range(64):
        libc.prctl(24, capability, 0, 0, 0)  # PR_CAPBSET_DROP; beyond the last capability it fails, harmlessly
    _limited()


@pytest.mark.parametrize("where", ["sections", "images", "data", "styles", "styles/html.css"])
def test_permission_problems_name_the_path(where: str, tmp_path: Path) -> None:
    """A file or folder the build may not read is an error naming it (it was a PermissionError)."""
    import os

    root = write_brief(tmp_path, {"styles/html.css": "p { color: black }\n"})
    expected = {
        "sections": "brief/brief.yaml:6: error: section file 'sections/01-intro.md' cannot be read: Permission denied",
        "images": "brief/sections/01-intro.md:8: error: image 'images/pic.png' cannot be read: Permission denied",
        "data": "brief/data: error: folder cannot be read: Permission denied",
        "styles": "brief/styles: error: folder cannot be read: Permission denied",
        "styles/html.css": "brief/styles/html.css: error: file cannot be read: Permission denied",
    }[where]
    mode = (root / where).stat().st_mode
    os.chmod(root / where, 0)
    try:
        argv = [sys.executable, "-m", "briefpress", "build", "brief", "--format", "html", "--out", "out"]
        result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=HANG,
                                preexec_fn=_without_privileges)
    finally:
        os.chmod(root / where, mode)
    assert_refused(result, expected)


# --- Huge input costs about linear time -----------------------------------------------------------

def test_long_section_maps_lines_in_bounded_time(tmp_path: Path) -> None:
    """A section of 40,000 paragraphs builds in bounded time (mapping Jinja's output back to the source was
    quadratic: 34 s at 20,000), and an error at its end names its own line."""
    paragraphs = "\n\n".join(f"Paragraph {n} of {{{{ brief.title }}}}, with a few words." if n % 1000 == 0
                               else f"Paragraph {n}, with a few words." for n in range(40_000))
    write_brief(tmp_path, {"sections/02-details.md": f"{DETAILS_MD}\n{paragraphs}\n\nSee [nowhere](#nowhere).\n"})
    line = DETAILS_MD.count("\n") + 1 + 2 * 40_000 + 1
    assert_refused(build(tmp_path), f"brief/sections/02-details.md:{line}: error: link to '#nowhere'")


# --- Section templates have a budget --------------------------------------------------------------

#: A template that only takes steps stops at whichever limit it reaches first: a million operations, or ten
#: seconds on a machine busy with other work.
SLOW = "the template budget of "
TEMPLATE_BUDGET = {
    "repeat": ("{{ 'x' * 10**9 }}", "'*' would make a value of 1,000,000,000 characters"),
    "loops": ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
              SLOW),
    "loops-over-text": ("{% set s = 'x' * 10000000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
                        SLOW),
    "recursion": ("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}",
                  SLOW),
    "doubling": ("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                 "'~' would make a value of 16,777,216 characters"),
    "captured": ("{% set s %}{% for i in range(100000) %}{{ 'y' * 1000 }}{% endfor %}{% endset %}",
                 "the template budget of 16,000,000 characters of output"),
    "width": ("{{ 'x' | center(10**9) }}", "'center' was given 1,000,000,000, over the template budget's width"),
    "format": ("{{ '{:>1000000000}'.format('x') }}", "'format' was given a width over the template budget's"),
    "power": ("{{ 2 ** 100000000 }}", "'**' would make a number of over 100,000 bits"),
}


@pytest.mark.parametrize("case", TEMPLATE_BUDGET)
def test_template_budget(case: str, tmp_path: Path) -> None:
    """A section template that would run without bound (a string of a gigabyte, ten billion loop steps) stops
    at its line, naming the limit it reached, within bounded memory and time."""
    body, message = TEMPLATE_BUDGET[case]
    write_brief(tmp_path, {"sections/02-details.md": f"{DETAILS_MD}\nLine nine.\n\n{body}\n"})
    assert_refused(build(tmp_path), f"brief/sections/02-details.md:12: error: template error: {message}")


def test_template_budget_leaves_room_for_real_work(tmp_path: Path) -> None:
    """Loops, lookups and filters of a real size stay well within the budget."""
    body = ("{% for i in range(20000) %}{{ loop.index }} {{ data.facts.name | upper }}{% endfor %}\n\n"
            "{{ ('word ' * 100000) | wordcount }}")
    write_brief(tmp_path, {"sections/02-details.md": f"{DETAILS_MD}\n{body}\n"})
    result = build(tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out" / "tiny.html").read_text(encoding="utf-8")
    assert "20000 TINY" in page and "100000" in page


# --- One policy for every edition, the brief's own templates and stylesheets included ---------------

OWN_HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ meta.lang }}"><head><meta charset="utf-8"><title>{{ meta.title }}</title>
<style>{{ css }}</style></head>
<body>{% for s in sections %}<section id="{{ s.id }}">{{ s.html }}</section>{% endfor %}
EXTRA
</body></html>
"""


@pytest.mark.parametrize("extra,problem", [
    ("<script>alert(1)</script>", "<script> is not allowed"),
    ('<img src="http://127.0.0.1:9/pixel.png" alt="">', '<img src="http://127.0.0.1:9/pixel.png"> would load'),
    ('<p style="background: url(https://127.0.0.1:9/x.png)">x</p>', "'https://127.0.0.1:9/x.png' would be loaded"),
    ('<p onclick="alert(1)">x</p>', 'the attribute onclick="…" is not allowed'),
], ids=["script", "remote-image", "style-attribute", "event-handler"])
def test_own_html_template_is_held_to_the_policy(extra: str, problem: str, tmp_path: Path) -> None:
    """The brief's own HTML template may not add script or a remote load to the HTML edition (it went in, with
    exit 0), as the PDF's layout refuses remote loads."""
    write_brief(tmp_path, {"templates/html.html.j2": OWN_HTML_TEMPLATE.replace("EXTRA", extra)})
    assert_refused(build(tmp_path), f"brief/templates: error: HTML edition: {problem}")


def test_own_epub_template_is_held_to_the_policy(tmp_path: Path) -> None:
    """So may the brief's own EPUB templates."""
    from importlib import resources

    package = (resources.files("briefpress") / "templates" / "section.xhtml.j2").read_text(encoding="utf-8")
    own = package.replace("</body>", '<script>alert(1)</script><img src="https://127.0.0.1:9/x.png" alt=""/></body>')
    assert own != package
    write_brief(tmp_path, {"templates/section.xhtml.j2": own})
    assert_refused(build(tmp_path, "--format", "epub"),
                   "brief/templates: error: EPUB edition: <script> is not allowed",
                   'brief/templates: error: EPUB edition: <img src="https://127.0.0.1:9/x.png"> would load')


@pytest.mark.parametrize("fmt", ["html", "epub"])
def test_own_stylesheet_is_held_to_the_policy(fmt: str, tmp_path: Path) -> None:
    """A remote @import or url() in the brief's own stylesheet is an error at its line in the HTML and EPUB
    editions too (it went into the HTML edition with exit 0)."""
    css = ("p { color: black }\n@import url(http://127.0.0.1:9/x.css);\nh1 { background: url('https://127.0.0.1:9/x.png') }\n"
           "@namespace svg url(http://www.w3.org/2000/svg);\np { background: url(data:image/png;base64,iVBORw0K) }\n")
    write_brief(tmp_path, {f"styles/{fmt}.css": css, "styles/common.css": "@import 'http://127.0.0.1:9/y.css';\n"})
    result = build(tmp_path, "--format", fmt)
    assert len(result.stderr.splitlines()) == 3, "a namespace's URL and a data: URL load nothing"
    assert_refused(result,
                   f"brief/styles/{fmt}.css:2: error: 'http://127.0.0.1:9/x.css' would be loaded from outside",
                   f"brief/styles/{fmt}.css:3: error: 'https://127.0.0.1:9/x.png' would be loaded from outside",
                   "brief/styles/common.css:1: error: 'http://127.0.0.1:9/y.css' would be loaded from outside")


DEEP_CSS = {
    "media": ("html", "p { color: black }\n" + "@media screen {\n" * 5000 + "p { color: red }\n" + "}\n" * 5000, 52),
    "selector": ("print", ":is(" * 5000 + "p" + ")" * 5000 + " { color: red }\n", 1),
    "value": ("epub", "p {\n  margin: " + "calc(" * 5000 + "1px" + ")" * 5000 + ";\n}\n", 2),
}


@pytest.mark.parametrize("case", DEEP_CSS)
def test_own_stylesheet_nested_too_deeply_is_an_error_at_its_line(case: str, tmp_path: Path) -> None:
    """Thousands of nested @media blocks, selectors or functions in the brief's own stylesheet raised
    RecursionError in every edition; the nesting is refused where it goes too deep, before anything reads it."""
    name, css, line = DEEP_CSS[case]
    write_brief(tmp_path, {f"styles/{name}.css": css})
    fmt = "pdf" if name == "print" else name
    assert_refused(build(tmp_path, "--format", fmt),
                   f"brief/styles/{name}.css:{line}: error: the stylesheet nests blocks, brackets or functions "
                   "more than 50 levels deep")


SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="4" height="4">BODY</svg>'
HOSTILE_SVG = {
    "external": (SVG.replace("BODY", '<image xlink:href="http://127.0.0.1:9/x.png" width="4" height="4"/>'),
                 '<image href="http://127.0.0.1:9/x.png"> would load something from outside the edition'),
    "entities": ('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
                 + SVG.replace("BODY", "<text>&b;</text>"), "the SVG declares XML entities"),
    "script": (SVG.replace("BODY", "<script>alert(1)</script>"), "<script> is not allowed"),
    "file-entity": ('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
                    + SVG.replace("BODY", "<text>&x;</text>"), "the SVG declares XML entities"),
}


@pytest.mark.parametrize("fmt", ["html", "epub", "pdf"])
@pytest.mark.parametrize("case", HOSTILE_SVG)
def test_svg_images_are_held_to_one_policy(case: str, fmt: str, tmp_path: Path) -> None:
    """An SVG image with external references, XML entities or script is refused in every edition, at the
    line of the section that uses it (it went into the HTML edition unchanged)."""
    svg, problem = HOSTILE_SVG[case]
    write_brief(tmp_path, {"images/bad.svg": svg,
                           "sections/02-details.md": DETAILS_MD + "\n![A picture](images/bad.svg)\n"})
    assert_refused(build(tmp_path, "--format", fmt),
                   f"brief/sections/02-details.md:10: error: image 'images/bad.svg': {problem}")


@pytest.mark.parametrize("case", ["script", "outside"])
def test_own_epub_cover_is_held_to_the_policy(case: str, tmp_path: Path) -> None:
    """The brief's own cover (images/cover.svg), which only the EPUB shows, is checked as any image is."""
    root = write_brief(tmp_path, {"images/cover.svg": HOSTILE_SVG["script"][0]} if case == "script" else {})
    if case == "outside":
        (tmp_path / "elsewhere.svg").write_text(SVG.replace("BODY", ""))
        (root / "images" / "cover.svg").symlink_to(tmp_path / "elsewhere.svg")
    expected = ("brief/images/cover.svg: error: cover image: <script> is not allowed" if case == "script"
                else "brief/images/cover.svg: error: cover image resolves outside the brief folder")
    assert_refused(build(tmp_path, "--format", "epub"), expected)


def test_own_print_stylesheet_remote_url_is_an_error_at_its_line(tmp_path: Path) -> None:
    """The PDF refused a remote URL in the brief's print stylesheet with no line; it is an error at its line,
    found before anything is laid out."""
    css = "p { color: black }\n@import url(http://127.0.0.1:9/x.css);\n"
    write_brief(tmp_path, {"styles/print.css": css})
    assert_refused(build(tmp_path, "--format", "pdf"),
                   "brief/styles/print.css:2: error: 'http://127.0.0.1:9/x.css' would be loaded from outside")


def test_own_document_template_has_the_budget_too(tmp_path: Path) -> None:
    """The brief's own document template is held to the same budget, reported at its own line."""
    endless = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    write_brief(tmp_path, {"templates/html.html.j2": OWN_HTML_TEMPLATE.replace("EXTRA", endless)})
    assert_refused(build(tmp_path), f"brief/templates/html.html.j2:5: error: template error: {SLOW}")


def test_many_headings_of_the_same_text_get_their_ids_in_bounded_time(tmp_path: Path) -> None:
    """20,000 headings of the same text are numbered in bounded time (each looked for a free number from 2
    on: 65 s at 20,000), and still get notes, notes-2, notes-3 … in order."""
    headings = "\n\n".join("## Notes" for _ in range(20_000))
    write_brief(tmp_path, {"sections/02-details.md": f"{DETAILS_MD}\n{headings}\n"})
    result = build(tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out" / "tiny.html").read_text(encoding="utf-8")
    ids = [int(n or 1) for n in re.findall(r'<h2 id="notes(?:-(\d+))?"', page)]
    assert ids == list(range(1, 20_001))


# --- A .bib file is read as data, whatever it holds -------------------------------------------------

def test_hostile_bib_fields_are_errors_at_their_entries_and_nothing_stray_is_printed(tmp_path: Path) -> None:
    """\\input in a field raised IndexError, 5,000 levels of braces RecursionError, and an entry cut off at the
    end printed the parser's own lines before 'malformed entry'."""
    deep = "{" * 5000 + "x" + "}" * 5000
    bib = (f"@book{{inputs, title = {{See \\input{{/etc/hostname}} and \\include{{x}}}}, year = 2020}}\n\n"
           f"@book{{deep,\n  title = {deep}}}\n\n@article{{cut,\n  title = {{Never closed\n")
    write_brief(tmp_path, {"brief.yaml": BRIEF_YAML + "bibliography: refs.bib\n", "refs.bib": bib})
    result = build(tmp_path)
    assert result.stdout == ""
    assert_refused(result,
                   "brief/refs.bib:3: error: invalid BibTeX: field 'title' of entry 'deep' nested too deeply",
                   "brief/refs.bib:6: error: invalid BibTeX: entry '@article{cut' is not closed")
    assert "inputs" not in result.stderr.replace("reference 'inputs' is never cited", "")


# --- Many problems of one kind ----------------------------------------------------------------------

@pytest.mark.parametrize("strict", [False, True])
def test_many_warnings_of_one_kind_are_summarised(strict: bool, tmp_path: Path) -> None:
    """20,000 uncited references printed 20,000 warnings: the first ten are shown, then one line counts the
    rest, with or without --strict (where they fail the build)."""
    bib = "".join(f"@book{{work{n}, title = {{Work {n}}}, year = 2020}}\n" for n in range(20_000))
    write_brief(tmp_path, {"brief.yaml": BRIEF_YAML + "bibliography: refs.bib\n", "refs.bib": bib})
    result = build(tmp_path, "--format", "html", *(["--strict"] if strict else []))
    assert result.returncode == (1 if strict else 0), result.stderr
    assert_clean_report(result.stderr)
    assert result.stderr.splitlines() == [
        *(f"brief/refs.bib:{n + 1}: warning: reference 'work{n}' is never cited" for n in range(10)),
        "briefpress: warning: ... and 19990 more such warnings (reference '…' is never cited)"]


def test_errors_of_one_kind_are_all_shown(tmp_path: Path) -> None:
    """Errors are not summarised: each is one to fix."""
    missing = "".join(f"\n![Missing {n}](images/missing{n}.png)\n" for n in range(15))
    write_brief(tmp_path, {"sections/02-details.md": DETAILS_MD + missing})
    result = build(tmp_path)
    assert_refused(result, *(f"brief/sections/02-details.md:{10 + 2 * n}: error: image 'images/missing{n}.png'"
                             for n in range(15)))
    assert "more such" not in result.stderr
