"""The shelf's pictures of a brief that brings its own cover image: drawn from that image, as its EPUB
carries it, the same bytes each time."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from briefpress.build import build
from briefpress.errors import Diagnostics
from briefpress.load import load_brief
from briefpress.shelf import covers
from tools.paths import ROOT

OWN_DESIGN = ROOT / "tests" / "briefs" / "own-design"


def test_a_briefs_own_cover_image_is_the_one_drawn(tmp_path: Path) -> None:
    [epub] = build(OWN_DESIGN, ("epub",), tmp_path, Diagnostics())
    media_type, data = covers.epub_cover(epub.path)
    assert media_type == "image/svg+xml" and data == (OWN_DESIGN / "images" / "cover.svg").read_bytes()
    meta = load_brief(OWN_DESIGN, Diagnostics()).metadata
    drawn = covers.draw(meta, epub.path, ("epub",))
    assert drawn == covers.draw(meta, epub.path, ("epub",))
    own = (0x7a, 0x1f, 0x3d)  # the own cover's background
    with Image.open(io.BytesIO(drawn.card)) as card:
        assert card.size == (1200, 630)
        assert card.convert("RGB").getpixel((10, 10)) == own
        assert card.convert("RGB").getpixel((252, 120)) == own  # the cover, on the left
    with Image.open(io.BytesIO(drawn.cover)) as cover:
        # The cover at full size, in its own shape: the middle of it again, where its text is.
        assert cover.size == (1200, 1600)
        pixels = cover.convert("RGB")
        assert pixels.getpixel((3, 3)) == own
        assert [high for _, high in pixels.crop((0, 720, 1200, 880)).getextrema()] == [255, 255, 255]
    with Image.open(io.BytesIO(drawn.thumbnail)) as thumb:
        # 1600×2560 is taller than 3:4: the middle of it, where its text is, fills the thumbnail.
        assert thumb.size == (300, 400)
        pixels = thumb.convert("RGB")
        assert pixels.getpixel((3, 3)) == own
        assert [high for _, high in pixels.crop((0, 180, 300, 220)).getextrema()] == [255, 255, 255]
