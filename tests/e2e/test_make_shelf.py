"""``make shelf`` on the repository's own brief (no shelf.yaml: the folder brief/ is the shelf)."""

from __future__ import annotations

import hashlib
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from lxml import html as lxml_html
from PIL import Image

from tests.shelf.test_feeds import errors, schemas  # noqa: F401 - schemas: the fixture, RFC 4287 and OPDS 1.2
from tools.paths import BRIEF

SLUG = yaml.safe_load((BRIEF / "brief.yaml").read_text(encoding="utf-8"))["slug"]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_make_shelf_publishes_the_example_brief(e2e_repo_copy, tmp_path, schemas) -> None:  # noqa: F811
    dist = tmp_path / "dist"
    made = e2e_repo_copy.make("shelf", DIST=str(dist))
    assert made.returncode == 0, made.stderr
    assert "warning: no shelf.yaml" in made.stderr
    site = dist / "shelf"
    index = lxml_html.fromstring((site / "index.html").read_bytes())
    assert [a.get("id") for a in index.xpath("//article")] == [SLUG]
    assert index.xpath("//article//h2/a/@href") == [f"{SLUG}/index.html"]
    landing = lxml_html.fromstring((site / SLUG / "index.html").read_bytes())
    assert landing.xpath("//meta[@property='og:image']/@content") == [f"http://127.0.0.1:8000/{SLUG}/card.png"]
    assert landing.xpath("//p[@class='cite-this-brief']"), "the brief's own reference, as its HTML edition has it"
    with Image.open(site / SLUG / "card.png") as card:
        assert card.size == (1200, 630)
    with Image.open(site / SLUG / "cover.png") as cover:
        assert cover.size == (1200, 1600)
    for line in (site / SLUG / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((site / SLUG / name).read_bytes()).hexdigest() == digest

    # The feeds validate; every link of the index and the landing page leads to a file of the shelf.
    for name in ("feed.atom", "opds/root.xml", "opds/briefs.xml"):
        data = (site / name).read_bytes()
        assert errors(schemas["atom"], data) == [] and errors(schemas["opds"], data) == [], name
    for page in ("index.html", f"{SLUG}/index.html"):
        doc = lxml_html.fromstring((site / page).read_bytes())
        for element in doc.iter():
            for attribute in ("href", "src"):
                target = element.get(attribute) if isinstance(element.tag, str) else None
                if target is None or target.startswith(("#", "data:")):
                    continue
                parts = urlsplit(target)
                path = (parts.path[len("/"):] if target.startswith("http://127.0.0.1:8000/") else
                        posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(parts.path))))
                assert not parts.scheme or target.startswith("http://127.0.0.1:8000/"), target
                file = site / path
                if file.is_dir():
                    file = file / "index.html"  # a folder's address: its index, as a static host serves it
                assert file.is_file(), f"{page}: {target}"
    # The editions are those `make` writes, byte for byte; a second run changes no byte.
    built = tmp_path / "built"
    assert e2e_repo_copy.make(DIST=str(built)).returncode == 0
    for fmt in ("pdf", "epub", "html"):
        assert (site / SLUG / f"{SLUG}.{fmt}").read_bytes() == (built / f"{SLUG}.{fmt}").read_bytes(), fmt
    first = _snapshot(site)
    assert e2e_repo_copy.make("shelf", DIST=str(dist)).returncode == 0
    assert _snapshot(site) == first

    compiled = e2e_repo_copy.stamp("compiled-for-shelf-clean")
    cleaned = e2e_repo_copy.make("clean", DIST=str(dist), COMPILED=str(compiled))
    assert cleaned.returncode == 0, cleaned.stderr
    assert not site.exists(), "make clean removes the shelf it made"
    (site / "mine").mkdir(parents=True)
    (site / "mine" / "notes.txt").write_text("mine")
    compiled = e2e_repo_copy.stamp("compiled-for-shelf-clean-2")
    assert e2e_repo_copy.make("clean", DIST=str(dist), COMPILED=str(compiled)).returncode == 0
    assert (site / "mine" / "notes.txt").read_text() == "mine", "a shelf folder it did not make is kept"
