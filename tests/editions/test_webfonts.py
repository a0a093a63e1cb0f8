"""The HTML edition carries the design's fonts: the faces it sets text in, as WOFF2 subsets in ``@font-face``
rules with ``data:`` URLs, each holding every character the page sets in it; the page stays small and the
same sources give the same bytes."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import tinycss2
from fontTools.ttLib import TTFont
from lxml import html as lxml_html

from briefpress.cli import main
from briefpress.editions import webfonts
from briefpress.editions.webfonts import faces_used, font_faces_css
from briefpress.policy import css_problems
from tools.paths import BRIEF

LIMIT = 200 * 1024
SERIF, SANS = "Source Serif Pro", "Source Sans Pro"


@dataclass(frozen=True)
class Embedded:
    family: str
    weight: int
    style: str
    font: TTFont

    @property
    def chars(self) -> set[str]:
        return {chr(code) for code in self.font.getBestCmap()}


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html")
    assert main(["build", str(BRIEF), "--format", "html", "--out", str(out), "--strict"]) == 0
    (found,) = out.glob("*.html")
    return found


@pytest.fixture(scope="module")
def doc(page: Path):
    return lxml_html.fromstring(page.read_bytes())


@pytest.fixture(scope="module")
def faces(doc) -> dict[tuple[str, int, str], Embedded]:
    """Every ``@font-face`` rule of the page, its font decoded, by (family, weight, style)."""
    found = {}
    for style in doc.iter("style"):
        for rule in tinycss2.parse_stylesheet(style.text, skip_comments=True, skip_whitespace=True):
            if rule.type != "at-rule" or rule.lower_at_keyword != "font-face":
                continue
            declarations = {d.lower_name: d.value for d in tinycss2.parse_blocks_contents(rule.content)
                            if d.type == "declaration"}
            family = next(t.value for t in declarations["font-family"] if t.type == "string")
            weight = next(t.int_value for t in declarations["font-weight"] if t.type == "number")
            slant = next(t.lower_value for t in declarations["font-style"] if t.type == "ident")
            (url,) = [t.arguments[0].value for t in declarations["src"]
                      if t.type == "function" and t.lower_name == "url"]
            prefix = "data:font/woff2;base64,"
            assert url.startswith(prefix), url[:40]
            font = TTFont(io.BytesIO(base64.b64decode(url[len(prefix):], validate=True)))
            assert (family, weight, slant) not in found, "one rule a face"
            found[(family, weight, slant)] = Embedded(family, weight, slant, font)
    return found


def texts(doc, xpath: str) -> str:
    return "".join(doc.xpath(xpath))


def test_the_faces_are_woff2_of_the_design(faces) -> None:
    assert faces, "the page embeds fonts"
    for (family, weight, style), face in faces.items():
        assert face.font.flavor == "woff2"
        names = face.font["name"]
        assert (names.getDebugName(16) or names.getDebugName(1)) == family
        assert face.font["OS/2"].usWeightClass == weight
        assert bool(face.font["OS/2"].fsSelection & 1) == (style == "italic")
        assert "fpgm" not in face.font and "prep" not in face.font, "no hinting"
        assert "GPOS" in face.font, "kerning kept"


def test_the_faces_are_subsets(faces) -> None:
    for face in faces.values():
        assert len(face.chars) < 150, f"{face.family} {face.weight} {face.style} holds {len(face.chars)} characters"


def test_each_face_holds_the_text_the_stylesheet_sets_in_it(doc, faces) -> None:
    """What html.css and common.css set in each face, read off the page here, element by element."""
    def upper(xpath: str) -> str:
        return texts(doc, xpath).upper()

    expected = {
        (SERIF, 400, "normal"): texts(doc, "//main//p/text() | //main//li/text() | //p[@class='cover-subtitle']"
                                           "//text() | //p[@class='cover-description']//text()"),
        (SERIF, 600, "normal"): texts(doc, "//tbody/tr/td[1]//text()"),  # wide screens: dates in the serif
        (SERIF, 700, "normal"): texts(doc, "//p[@class='cover-date']//text() | //main//p/strong/text()"),
        (SERIF, 400, "italic"): texts(doc, "//main//p/i/text() | //div[@class='csl-entry']/i/text()"),
        (SANS, 400, "normal"): texts(doc, "//figcaption/text() | //nav//ol//ol//a//text()") +
                               upper("//p[@class='cover-publisher']//text()"),
        (SANS, 600, "normal"): texts(doc, "//thead//th//text() | //nav/ol/li/a//text() | //tbody/tr/td[2]//text()")
                               + upper("//tbody/tr/td[1]//text()"),  # phones: dates in the sans, in capitals
        (SANS, 700, "normal"): texts(doc, "//h1//text() | //main//h2//text() | //main//h3//text()") +
                               upper("//nav/h2//text() | //p[@class='cover-kind']//text()"),
    }
    for key, text in expected.items():
        wanted = {c for c in text if not c.isspace()}
        assert wanted, f"the example brief sets text in {key}"
        assert key in faces, f"{key} is not embedded"
        missing = wanted - faces[key].chars
        assert not missing, f"{key} lacks {''.join(sorted(missing))!r}"


def test_every_drawn_character_is_in_an_embedded_face(doc, faces) -> None:
    body = doc.find("body")
    drawn = {c for text in body.xpath(".//text()[not(ancestor::code) and not(ancestor::pre)]")
             for c in text if not c.isspace()}
    held = set().union(*(face.chars for face in faces.values()))
    assert drawn - held == set()


def test_only_faces_the_page_uses(faces) -> None:
    """Nothing in the example brief is set in the sans italic or the serif bold italic."""
    assert (SANS, 400, "italic") not in faces and (SERIF, 700, "italic") not in faces


def test_the_page_stays_small(page) -> None:
    assert page.stat().st_size < LIMIT, f"{page.stat().st_size} bytes"


def test_two_builds_give_the_same_bytes(page, tmp_path) -> None:
    """A second build, in another process and seconds later, writes the same file."""
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    subprocess.run([sys.executable, "-m", "briefpress", "build", str(BRIEF), "--format", "html", "--out",
                    str(tmp_path)], check=True, capture_output=True, env=env)
    assert (tmp_path / page.name).read_bytes() == page.read_bytes()


def test_a_font_from_elsewhere_is_refused() -> None:
    css = '@font-face { font-family: "X"; src: url("https://fonts.example/x.woff2") format("woff2"); }'
    assert css_problems(css)
    assert css_problems('@font-face { font-family: "X"; src: url("data:font/woff2;base64,AAAA"); }') == []


# --- which text is set in which face, on small pages written here -----------------------------------------

def faces_of(css: str, body: str) -> dict[tuple[str, int, str], str]:
    page = f"<!DOCTYPE html><html><head><style>{css}</style></head><body>{body}</body></html>"
    return {(face.family, face.weight, face.style): "".join(sorted(chars))
            for face, chars in faces_used(page).items()}


def test_a_media_rule_counts_both_ways() -> None:
    faces = faces_of(':root { --s: "Source Sans Pro", sans-serif; } body { font-family: "Source Serif Pro"; }'
                     ' @media (max-width: 600px) { p { font-family: var(--s); } }', "<p>ab</p>")
    assert faces == {(SERIF, 400, "normal"): "ab", (SANS, 400, "normal"): "ab"}


def test_weights_styles_and_the_font_shorthand_match_the_nearest_face() -> None:
    css = ('body { font-family: Georgia, "Source Serif Pro"; } h1 { font-family: "Source Sans Pro"; }'
           ' .x { font: italic 800 1rem/1.2 "Source Sans Pro", sans-serif; } .y { font-weight: 500; }')
    faces = faces_of(css, '<h1>A<strong>B</strong></h1><p class="x">c</p><p class="y">d<em>e</em></p>'
                          '<p><code>f</code></p>')
    assert faces == {
        (SANS, 700, "normal"): "AB",  # bold, and bolder than bold: 900, drawn with the heaviest
        (SANS, 400, "italic"): "c",  # the only italic of the sans
        (SERIF, 400, "normal"): "d",  # 500: the nearest lighter face, there being none up to 500
        (SERIF, 400, "italic"): "e",
    }  # code is in monospace: no face of the design


def test_generated_content_markers_and_capitals() -> None:
    css = ('body { font-family: "Source Serif Pro"; } h2 { font-family: "Source Sans Pro"; text-transform:'
           ' uppercase; } h2::after { content: "\\00a7" " " counter(x); font-weight: 400; }')
    faces = faces_of(css, "<h2>ab</h2><ul><li>c</li></ul>")
    assert set(faces[(SANS, 700, "normal")]) == set("abAB")
    assert set("§0123456789") <= set(faces[(SANS, 400, "normal")])
    assert set("c•") <= set(faces[(SERIF, 400, "normal")])


def test_no_design_face_no_rule() -> None:
    page = "<html><head><style>body { font-family: Georgia, serif; }</style></head><body><p>a</p></body></html>"
    assert font_faces_css(page) == ""


def test_a_hostile_page_is_styled_all_the_same() -> None:
    """Thousands of ``@media`` queries, a deep tree, custom properties that double at each step: the text is
    still found (and the work stays bounded: without a bound this test would not finish)."""
    media = "".join(f"@media (min-width: {n}px) {{ p {{ font-weight: {100 + n % 9 * 100}; }} }}" for n in range(3000))
    doubling = ":root { --v0: \"Source Sans Pro\"; " + " ".join(
        f"--v{n + 1}: var(--v{n}), var(--v{n});" for n in range(40)) + "}"
    css = f'body {{ font-family: "Source Serif Pro"; }} {media} {doubling} div {{ font-family: var(--v40); }}' \
          " span { font-family: var(--v3); }"
    body = "<div>" * 240 + "<p>a</p>" * 200 + "z<span>y</span>" + "</div>" * 240
    faces = faces_of(css, body)
    assert "z" in faces[(SERIF, 400, "normal")], "a value that cannot be substituted: the family inherited"
    assert "y" in faces[(SANS, 400, "normal")]
    assert "a" in faces[(SERIF, 400, "normal")] and "a" in faces[(SERIF, 700, "normal")]


def test_the_faces_are_compressed_at_the_quality_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    """fontTools' WOFF2 writer reaches brotli with ``WOFF2_QUALITY``, not its own 11; the module it reads is
    put back afterwards. If fontTools stops compressing through its module's ``brotli.compress``, this fails."""
    import brotli
    from fontTools.ttLib import woff2

    from briefpress.resources import DESIGN_FACES

    qualities: list[object] = []
    compress = brotli.compress

    def recorded(data: bytes, *args: object, **options: object) -> bytes:
        qualities.append(options.get("quality"))
        return compress(data, *args, **options)

    monkeypatch.setattr(brotli, "compress", recorded)
    data = webfonts.subset_woff2.__wrapped__(DESIGN_FACES[0], "A brief, 2022")
    assert qualities == [webfonts.WOFF2_QUALITY] and webfonts.WOFF2_QUALITY < 11
    assert woff2.brotli is brotli
    font = TTFont(io.BytesIO(data))
    assert font.flavor == "woff2" and {"A", "b", "2"} <= {chr(c) for c in font.getBestCmap()}


@pytest.mark.parametrize("found", ["missing", None, "not brotli"])
def test_a_changed_fonttools_is_left_to_its_own_quality(monkeypatch: pytest.MonkeyPatch, found: object) -> None:
    """The guard of that name: where fontTools' module has no ``brotli`` module, nothing is replaced."""
    from fontTools.ttLib import woff2

    if found == "missing":
        monkeypatch.delattr(woff2, "brotli")
    else:
        monkeypatch.setattr(woff2, "brotli", found)
    with webfonts._compressed_at(5):
        seen = getattr(woff2, "brotli", "missing")
    assert seen == found and getattr(woff2, "brotli", "missing") == found
