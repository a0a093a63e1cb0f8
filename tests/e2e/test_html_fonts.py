"""The HTML edition's embedded fonts in headless Chromium (driven as in ``test_html_browser``): every face
it declares loads, and every piece of text is drawn with one of them, at a phone's width and a laptop's,
without a request to anything but the page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.test_html_browser import WIDTHS, Browser, chromium, loaded  # noqa: F401 - chromium: the fixture

DESIGN = ("Source Serif Pro", "Source Sans Pro")
#: Elements whose text is not drawn, or drawn in no face of the design (code has no design face here).
SKIPPED = ("HEAD", "STYLE", "SCRIPT", "TITLE", "CODE", "PRE")

FACES = """document.fonts.ready.then(() => ({
  faces: [...document.fonts].map(f => ({family: f.family, weight: f.weight, style: f.style, status: f.status})),
  serif: document.fonts.check('16px "Source Serif Pro"'),
  sans: document.fonts.check('bold 16px "Source Sans Pro"'),
}))"""


@dataclass
class FontView:
    """What Chromium says of the page's fonts at one window width."""

    width: int
    faces: list[dict]
    checks: dict[str, bool]
    drawn_with: dict[str, set[tuple[str, bool]]]  # element (tag#id.class): (family, is a web font)
    requests: list[str]


def _text_elements(node: dict, skipped: bool = False):
    """Each element node holding text of its own that is drawn, from ``DOM.getDocument``'s tree."""
    name = node.get("nodeName", "")
    skipped = skipped or name in SKIPPED
    children = node.get("children", [])
    if not skipped and any(c["nodeType"] == 3 and c["nodeValue"].strip() for c in children):
        yield node
    for child in children:
        yield from _text_elements(child, skipped)


def _label(node: dict) -> str:
    attributes = dict(zip(node.get("attributes", [])[::2], node.get("attributes", [])[1::2]))
    return node["nodeName"].lower() + (f"#{attributes['id']}" if "id" in attributes else "") + \
        (f".{attributes['class']}" if "class" in attributes else "")


def look(binary: str, page: Path, profile: Path) -> dict[int, FontView]:
    browser = Browser(binary, profile)
    try:
        views = {}
        for width, session in loaded(browser, page, ("Page", "Network", "Runtime", "DOM", "CSS")):
            result = browser.send("Runtime.evaluate", session, expression=FACES, awaitPromise=True,
                                  returnByValue=True)
            assert "exceptionDetails" not in result, result
            value = result["result"]["value"]
            root = browser.send("DOM.getDocument", session, depth=-1)["root"]
            drawn_with: dict[str, set[tuple[str, bool]]] = {}
            for node in _text_elements(root):
                fonts = browser.send("CSS.getPlatformFontsForNode", session, nodeId=node["nodeId"])["fonts"]
                drawn_with.setdefault(_label(node), set()).update(
                    (f["familyName"], f["isCustomFont"]) for f in fonts)
            requests = [e["params"]["request"]["url"] for e in browser.events
                        if e["method"] == "Network.requestWillBeSent"]
            views[width] = FontView(width, value["faces"], {"serif": value["serif"], "sans": value["sans"]},
                                    drawn_with, requests)
        return views
    finally:
        browser.close()


@pytest.fixture(scope="module")
def views(chromium, built, tmp_path_factory) -> dict[int, FontView]:  # noqa: F811 - the imported fixture
    return look(chromium, built.path("html"), tmp_path_factory.mktemp("chromium-profile"))


def test_the_design_faces_are_declared_and_load(views) -> None:
    loaded = set()
    for view in views.values():
        assert view.faces, "the page declares its fonts"
        assert {face["family"].strip('"') for face in view.faces} == set(DESIGN)
        assert all(face["status"] in ("loaded", "unloaded") for face in view.faces), view.faces
        assert view.checks == {"serif": True, "sans": True}, view.width
        loaded |= {(f["family"], f["weight"], f["style"]) for f in view.faces if f["status"] == "loaded"}
    declared = {(f["family"], f["weight"], f["style"]) for f in views[WIDTHS[0]].faces}
    assert loaded == declared, f"declared but drawn at no width: {declared - loaded}"


def test_every_text_is_drawn_with_an_embedded_face(views) -> None:
    for view in views.values():
        assert len(view.drawn_with) > 50
        others = {label: fonts for label, fonts in view.drawn_with.items()
                  if any(not custom or not family.startswith(DESIGN) for family, custom in fonts)}
        assert others == {}, f"at {view.width} px, drawn with other fonts: {others}"


def test_no_font_is_fetched(views, built) -> None:
    page = built.path("html").as_uri()
    for view in views.values():
        assert [u for u in view.requests if u != page and not u.startswith("data:")] == []
