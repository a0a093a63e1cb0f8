"""``make shelf`` on the repository's own brief (no shelf.yaml: the folder brief/ is the shelf)."""

from __future__ import annotations

import hashlib

import yaml
from lxml import html as lxml_html
from PIL import Image

from tools.paths import BRIEF

SLUG = yaml.safe_load((BRIEF / "brief.yaml").read_text(encoding="utf-8"))["slug"]


def test_make_shelf_publishes_the_example_brief(e2e_repo_copy, tmp_path) -> None:
    dist = tmp_path / "dist"
    made = e2e_repo_copy.make("shelf", DIST=str(dist))
    assert made.returncode == 0, made.stderr
    assert "warning: no shelf.yaml" in made.stderr
    site = dist / "shelf"
    index = lxml_html.fromstring((site / "index.html").read_bytes())
    assert [a.get("id") for a in index.xpath("//article")] == [SLUG]
    assert index.xpath("//article//h2/a/@href") == [f"{SLUG}/index.html"]
    landing = lxml_html.fromstring((site / SLUG / "index.html").read_bytes())
    assert landing.xpath("//meta[@property='og:image']/@content") == [f"http://127.0.0.1:8000/{SLUG}/cover.png"]
    assert landing.xpath("//p[@class='cite-this-brief']"), "the brief's own reference, as its HTML edition has it"
    with Image.open(site / SLUG / "cover.png") as card:
        assert card.size == (1200, 630)
    for line in (site / SLUG / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((site / SLUG / name).read_bytes()).hexdigest() == digest

    compiled = e2e_repo_copy.stamp("compiled-for-shelf-clean")
    cleaned = e2e_repo_copy.make("clean", DIST=str(dist), COMPILED=str(compiled))
    assert cleaned.returncode == 0, cleaned.stderr
    assert not site.exists(), "make clean removes the shelf it made"
    (site / "mine").mkdir(parents=True)
    (site / "mine" / "notes.txt").write_text("mine")
    compiled = e2e_repo_copy.stamp("compiled-for-shelf-clean-2")
    assert e2e_repo_copy.make("clean", DIST=str(dist), COMPILED=str(compiled)).returncode == 0
    assert (site / "mine" / "notes.txt").read_text() == "mine", "a shelf folder it did not make is kept"
