"""``briefpress shelf`` on a shelf of three briefs: the site's files, pages, covers, sitemap and links, the
editions as ``briefpress build`` writes them, and a second run that changes no byte."""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import struct
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import tinyhtml5
import yaml
from lxml import etree
from lxml import html as lxml_html
from PIL import Image
from pypdf import PdfReader

from .conftest import BASE_URL, BRIEFS, ORDER, run, snapshot
from .test_feeds import errors, schemas  # noqa: F401 - schemas: the fixture, RFC 4287 and OPDS 1.2

SLUG_OF = {settings["slug"]: name for name, settings in BRIEFS.items()}
BRIEF_FILES = ("index.html", "cover.png", "cover-thumb.png", "card.png", "SHA256SUMS", "manifest.json")
EDITIONS = ("pdf", "epub", "html")


def page(shelf, path: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring((shelf.out / path).read_bytes())


def test_the_run_names_each_landing_page_and_the_index(shelf) -> None:
    lines = shelf.first.stdout.splitlines()
    assert lines[-1].endswith("index.html  3 briefs")
    for slug in ORDER:
        assert any(line.split()[0].endswith(f"{slug}/index.html") and "pdf" in line for line in lines), lines


def test_every_brief_has_its_folder_of_files(shelf) -> None:
    for slug in ORDER:
        expected = {f"{slug}/{name}" for name in BRIEF_FILES}
        expected |= {f"{slug}/{slug}.{ext}" for ext in (*EDITIONS, "bib", "json")}
        present = {name for name in shelf.files if name.startswith(f"{slug}/")}
        assert present == expected
    top = {name for name in shelf.files if "/" not in name or name.startswith("opds/")}
    assert {"index.html", "sitemap.xml", ".briefpress-shelf"} <= top
    assert not [name for name in shelf.files if ".staging" in name or name.endswith(".tmp")]


def test_the_index_lists_the_briefs_newest_first(shelf) -> None:
    doc = page(shelf, "index.html")
    assert doc.get("lang") == "en-GB"
    assert doc.findtext(".//title") == "Example Shelf"
    assert [h.text_content() for h in doc.xpath("//h1")] == ["Example Shelf"]
    articles = doc.xpath("//article")
    assert [a.get("id") for a in articles] == ORDER
    for article in articles:
        settings = BRIEFS[SLUG_OF[article.get("id")]]
        meta = yaml.safe_load((shelf.root / "briefs" / SLUG_OF[article.get("id")] / "brief.yaml").read_text())
        title = article.xpath(".//h2/a")[0]
        assert title.text_content() == settings["title"]
        assert title.get("href") == f"{settings['slug']}/index.html"
        assert article.xpath(".//*[@class='subtitle']")[0].text_content() == meta["subtitle"]
        assert article.xpath(".//*[@class='description']")[0].text_content() == meta["description"]
        assert [li.text_content() for li in article.xpath(".//ul[@class='subjects']/li")] == settings["subjects"]
        assert article.xpath(".//time")[0].get("datetime") == settings["date"]


def test_the_index_carries_the_design_faces_for_its_text(shelf) -> None:
    """As the HTML edition does: each face it sets text in, a WOFF2 subset in a data: URL, holding the titles."""
    import base64
    import io
    import re as regex

    from fontTools.ttLib import TTFont

    doc = page(shelf, "index.html")
    css = "".join(doc.xpath("//style/text()"))
    faces = regex.findall(r'font-family: "([^"]+)"; font-style: (\w+); font-weight: (\d+); '
                          r'src: url\("data:font/woff2;base64,([A-Za-z0-9+/=]+)"\)', css)
    assert {family for family, *_ in faces} == {"Source Serif Pro", "Source Sans Pro"}
    bold_serif = next(data for family, style, weight, data in faces
                      if family == "Source Serif Pro" and style == "normal" and weight == "700")
    font = TTFont(io.BytesIO(base64.b64decode(bold_serif)))
    assert font.flavor == "woff2"
    titles = "".join(h.text_content() for h in doc.xpath("//h1 | //h2"))
    assert {c for c in titles if not c.isspace()} <= {chr(code) for code in font.getBestCmap()}


def test_the_index_links_each_edition_with_its_size_and_pages(shelf) -> None:
    doc = page(shelf, "index.html")
    for article in doc.xpath("//article"):
        slug = article.get("id")
        links = article.xpath(".//ul[@class='editions']//a")
        assert [a.get("href") for a in links] == [f"{slug}/{slug}.{fmt}" for fmt in EDITIONS]
        for a, fmt in zip(links, EDITIONS):
            text = " ".join(a.text_content().split())
            size = len(shelf.files[f"{slug}/{slug}.{fmt}"])
            assert text.startswith(fmt.upper())
            assert re.search(rf"\b{round(size / 1000)} kB$", text), (text, size)
            if fmt == "pdf":
                pages = len(PdfReader(shelf.out / slug / f"{slug}.pdf").pages)
                assert f" {pages} pages," in text, text


def test_the_index_shows_each_thumbnail_with_alt_text(shelf) -> None:
    doc = page(shelf, "index.html")
    images = doc.xpath("//article//img")
    assert len(images) == 3
    for img, slug in zip(images, ORDER):
        assert img.get("src") == f"{slug}/cover-thumb.png"
        assert img.get("alt") == f"Cover of {BRIEFS[SLUG_OF[slug]]['title']}"
        with Image.open(shelf.out / img.get("src")) as thumb:
            assert (int(img.get("width")), int(img.get("height"))) == thumb.size


def _chunks(data: bytes) -> list[bytes]:
    """The chunk types of a PNG file."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    found, at = [], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        found.append(kind)
        at += 12 + length
    return found


def test_covers_are_pngs_of_the_right_size_without_metadata(shelf) -> None:
    for slug in ORDER:
        card, cover, thumb = (shelf.files[f"{slug}/{name}"] for name in ("card.png", "cover.png", "cover-thumb.png"))
        with Image.open(io.BytesIO(card)) as image:
            assert image.format == "PNG" and image.size == (1200, 630)
            card_pixels = image.convert("RGB")
        with Image.open(io.BytesIO(cover)) as image:
            assert image.format == "PNG" and image.size == (1200, 1600)
            cover_pixels = image.convert("RGB")
        with Image.open(io.BytesIO(thumb)) as image:
            assert image.format == "PNG" and image.size == (300, 400)
            thumb_pixels = image.convert("RGB")
        for data in (card, cover, thumb):
            assert set(_chunks(data)) <= {b"IHDR", b"PLTE", b"IDAT", b"IEND"}, _chunks(data)
        # Drawn from the design's cover: its dark blue behind the card, and the cover itself on the left,
        # its title in white; the cover itself, with its title in white.
        navy = (0x1f, 0x3a, 0x5f)
        assert card_pixels.getpixel((10, 10)) == cover_pixels.getpixel((10, 10)) == navy
        assert thumb_pixels.getpixel((5, 5)) == navy
        assert [high for _, high in card_pixels.crop((60, 57, 444, 569)).getextrema()] == [255, 255, 255]
        assert card_pixels.crop((516, 150, 1140, 480)).getextrema()[0][1] > 200, "the title's text on the card"
        assert [high for _, high in cover_pixels.getextrema()] == [255, 255, 255], "the title's text on the cover"
    for name in ("card.png", "cover.png", "cover-thumb.png"):
        assert len({shelf.files[f"{slug}/{name}"] for slug in ORDER}) == 3, f"each brief its own {name}"


def _size(shelf, url: str) -> tuple[int, int]:
    """The size of the picture of the shelf at the absolute ``url``."""
    assert url.startswith(BASE_URL + "/"), url
    with Image.open(shelf.out / url[len(BASE_URL) + 1:]) as image:
        return image.size


def test_the_catalogue_shows_each_cover_in_a_books_shape_and_only_link_previews_show_the_card(shelf) -> None:
    """An e-book app shows the OPDS image as the book's cover, and the thumbnail in its lists: both are the
    cover, upright in the design's 3:4, the thumbnail the smaller; the 1200×630 card is for link previews."""
    atom = "{http://www.w3.org/2005/Atom}"
    catalogue = etree.fromstring(shelf.files["opds/briefs.xml"])
    entries = catalogue.findall(f"{atom}entry")
    assert len(entries) == len(ORDER)
    for item in entries:
        slug = urlsplit(item.find(f"{atom}link[@rel='alternate']").get("href")).path.split("/")[-2]
        [image] = item.findall(f"{atom}link[@rel='http://opds-spec.org/image']")
        [thumbnail] = item.findall(f"{atom}link[@rel='http://opds-spec.org/image/thumbnail']")
        full, small = _size(shelf, image.get("href")), _size(shelf, thumbnail.get("href"))
        assert (full, small) == ((1200, 1600), (300, 400)), slug
        doc = page(shelf, f"{slug}/index.html")
        cards = doc.xpath("//meta[@property='og:image' or @name='twitter:image']/@content")
        assert len(cards) == 2 and len(set(cards)) == 1 and _size(shelf, cards[0]) == (1200, 630), cards
        assert cards[0] not in (image.get("href"), thumbnail.get("href"))
    # The Atom feed names no picture of a brief, and so not the card as one.
    assert b".png" not in shelf.files["feed.atom"]


def _targets(doc: lxml_html.HtmlElement) -> list[str]:
    return [value for element in doc.iter() if isinstance(element.tag, str)
            for name in ("href", "src") if (value := element.get(name)) is not None]


def _resolve(shelf, page_path: str, target: str) -> Path | None:
    """The file of the shelf a link on ``page_path`` leads to, or None if it leads outside the shelf."""
    parts = urlsplit(target)
    if target.startswith(BASE_URL + "/"):
        relative = target[len(BASE_URL) + 1:]
    elif parts.scheme or parts.netloc or target.startswith("/"):
        return None
    else:
        relative = posixpath.normpath(posixpath.join(posixpath.dirname(page_path), unquote(parts.path)))
    if relative.startswith("../") or relative == "..":
        return None
    path = shelf.out / (relative or "index.html")
    return path / "index.html" if path.is_dir() else path


@pytest.mark.parametrize("page_path", ["index.html", *(f"{slug}/index.html" for slug in ORDER)])
def test_every_link_and_image_resolves_to_a_file_of_the_shelf(shelf, page_path: str) -> None:
    doc = page(shelf, page_path)
    ids = set(doc.xpath("//@id"))
    targets = _targets(doc)
    assert targets
    for target in targets:
        if target.startswith("data:"):
            continue
        if target.startswith("#"):
            assert target[1:] in ids, target
            continue
        path = _resolve(shelf, page_path, target)
        assert path is not None and path.is_file(), f"{page_path}: {target} leads to no file of the shelf"


def test_the_landing_page_is_the_html_edition_with_a_bar_and_link_preview_tags(shelf) -> None:
    for slug in ORDER:
        edition = shelf.files[f"{slug}/{slug}.html"].decode("utf-8")
        landing = shelf.files[f"{slug}/index.html"].decode("utf-8")
        head_end = edition.index("</head>")
        body = re.search(r"<body\b[^>]*>", edition)
        assert landing.startswith(edition[:head_end]) and landing.endswith(edition[body.end():])
        # Well-formed enough for an HTML5 parser to keep the tags where they were written.
        tree = tinyhtml5.parse(landing, namespace_html_elements=False)
        head = tree.find("head")
        meta = {m.get("property") or m.get("name"): m.get("content") for m in head.iter("meta")}
        title = BRIEFS[SLUG_OF[slug]]["title"]
        description = yaml.safe_load((shelf.root / "briefs" / SLUG_OF[slug] / "brief.yaml").read_text())["description"]
        assert meta["og:title"] == meta["twitter:title"] == title
        assert meta["og:description"] == meta["twitter:description"] == description
        assert meta["og:type"] == "article"
        assert meta["og:url"] == f"{BASE_URL}/{slug}/index.html"
        assert meta["og:image"] == meta["twitter:image"] == f"{BASE_URL}/{slug}/card.png"
        assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
        assert meta["og:image:alt"] == f"Cover of {title}"
        assert meta["twitter:card"] == "summary_large_image"
        assert len(tree.findall(".//title")) == 1
        first = tree.find("body")[0]
        assert first.tag == "nav" and first.get("aria-label") == "Downloads"
        hrefs = [a.get("href") for a in first.iter("a")]
        assert hrefs[:5] == ["../index.html", f"{slug}.pdf", f"{slug}.epub", f"{slug}.bib", f"{slug}.json"]
        text = " ".join("".join(first.itertext()).split())
        pages = len(PdfReader(shelf.out / slug / f"{slug}.pdf").pages)
        assert f"PDF ({pages} pages, " in text and "EPUB (" in text


@pytest.mark.parametrize("slug", ORDER)
def test_the_editions_are_those_briefpress_build_writes(shelf, tmp_path: Path, slug: str) -> None:
    """Each brief, the first laid out as the printer starts and the others while the shelf renders the
    next brief and draws the last one's pictures."""
    out = tmp_path / "dist"
    briefpress = Path(sys.executable).with_name("briefpress")
    made = subprocess.run([str(briefpress), "build", str(shelf.root / "briefs" / SLUG_OF[slug]), "--release",
                           "--out", str(out)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    built = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert set(built) == {f"{slug}.{ext}" for ext in (*EDITIONS, "bib", "json")} | {"SHA256SUMS", "manifest.json"}
    for name, data in built.items():
        assert shelf.files[f"{slug}/{name}"] == data, name


def test_each_briefs_checksums_verify(shelf) -> None:
    for slug in ORDER:
        lines = shelf.files[f"{slug}/SHA256SUMS"].decode("ascii").splitlines()
        named = {}
        for line in lines:
            digest, name = line.split("  ", 1)
            named[name] = digest
        assert set(named) == {f"{slug}.{ext}" for ext in (*EDITIONS, "bib", "json")}
        for name, digest in named.items():
            assert hashlib.sha256(shelf.files[f"{slug}/{name}"]).hexdigest() == digest, name


def test_the_sitemap_lists_every_page_with_its_last_change(shelf) -> None:
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = etree.fromstring(shelf.files["sitemap.xml"])
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    urls = [(u.findtext("s:loc", namespaces=ns), u.findtext("s:lastmod", namespaces=ns))
            for u in root.findall("s:url", ns)]
    assert urls == [(f"{BASE_URL}/", "2025-01-20"), (f"{BASE_URL}/beta-water/index.html", "2025-01-20"),
                    (f"{BASE_URL}/gamma-power/index.html", "2024-09-15"),
                    (f"{BASE_URL}/alpha-grain/index.html", "2024-03-01")]
    pages = {name for name in shelf.files if name.endswith("index.html")}
    assert {loc[len(BASE_URL) + 1:] or "index.html" for loc, _ in urls} == pages


def test_feeds_are_written_valid_and_linked(shelf, schemas) -> None:
    for name in ("feed.atom", "opds/root.xml", "opds/briefs.xml"):
        assert errors(schemas["atom"], shelf.files[name]) == [], name
        assert errors(schemas["opds"], shelf.files[name]) == [], name
    acquisition = etree.fromstring(shelf.files["opds/briefs.xml"])
    ids = [e.findtext("{http://www.w3.org/2005/Atom}id") for e in acquisition.iter("{http://www.w3.org/2005/Atom}entry")]
    assert len(ids) == len(ORDER) == len(set(ids))
    links = {link.get("type"): link.get("href") for link in page(shelf, "index.html").xpath("//link[@rel='alternate']")}
    assert links == {"application/atom+xml": "feed.atom",
                     "application/atom+xml;profile=opds-catalog;kind=navigation": "opds/root.xml"}


def test_a_second_run_changes_no_byte(shelf) -> None:
    again = run("shelf", "--config", str(shelf.config), "--out", str(shelf.out))
    assert again.status == 0, again.stderr
    assert snapshot(shelf.out) == shelf.files
    # beside the site, only the briefs' caches (never published)
    assert sorted(p.name for p in shelf.out.parent.iterdir()) == [".site.cache", "briefs", "shelf.yaml", "site"]
