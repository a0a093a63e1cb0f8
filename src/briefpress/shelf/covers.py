"""Each brief's pictures on the shelf, drawn from the cover its EPUB edition carries (the brief's own cover
image, else the cover its design draws from ``cover.svg.j2``): ``cover.png``, the cover in a book's shape at
full size, which e-book apps show from the OPDS catalogue; ``cover-thumb.png``, the same smaller, for the index
and the catalogue's thumbnail; and ``card.png``, the 1200×630 card that link previews show, and only they.

SVG is drawn by resvg (``resvg-py``: a Rust renderer in one wheel, without system libraries), with only the
package's fonts (``serif`` is Source Serif Pro, ``sans-serif`` Source Sans Pro) and never the machine's, so
the same brief gives the same pixels anywhere; Pillow scales and writes the PNGs, with no metadata (no time,
no text chunks), so the same pixels give the same bytes.
"""

from __future__ import annotations

import base64
import io
import posixpath
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from PIL import Image, ImageOps

from ..model import Metadata
from ..resources import FONT_PACKAGES, font_dir
from .pages import CARD_SIZE, COVER_SIZE, FORMAT_NAMES, THUMB_SIZE, render

#: The cover as the card embeds it: the design's 3:4, large enough for the card's 384×512.
CARD_COVER_SIZE = (600, 800)
_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_OPF = "{http://www.idpf.org/2007/opf}"


class CoverError(Exception):
    """The cover could not be read or drawn."""


@dataclass(frozen=True)
class Covers:
    """One brief's three PNGs."""

    cover: bytes  # COVER_SIZE, portrait
    thumbnail: bytes  # THUMB_SIZE, portrait
    card: bytes  # CARD_SIZE, landscape: for link previews only


def epub_cover(epub: Path) -> tuple[str, bytes]:
    """The cover image an EPUB declares (``properties="cover-image"``): its media type and bytes."""
    try:
        with zipfile.ZipFile(epub) as book:
            container = etree.fromstring(book.read("META-INF/container.xml"))
            opf_path = container.find(f".//{_CONTAINER}rootfile").get("full-path")
            opf = etree.fromstring(book.read(opf_path))
            for item in opf.iter(f"{_OPF}item"):
                if "cover-image" in (item.get("properties") or "").split():
                    href = posixpath.normpath(posixpath.join(posixpath.dirname(opf_path), item.get("href")))
                    return item.get("media-type"), book.read(href)
    except (OSError, KeyError, AttributeError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise CoverError(f"the EPUB edition's cover cannot be read: {exc}") from exc
    raise CoverError("the EPUB edition declares no cover image")


def svg_to_png(svg: str, width: int | None = None) -> bytes:
    """Draw an SVG with resvg, with the package's fonts only."""
    import resvg_py

    try:
        return bytes(resvg_py.svg_to_bytes(
            svg_string=svg, width=width, skip_system_fonts=True,
            font_dirs=[str(font_dir(package)) for package in FONT_PACKAGES],
            font_family="Source Sans Pro", serif_family="Source Serif Pro", sans_serif_family="Source Sans Pro"))
    except (ValueError, RuntimeError) as exc:
        raise CoverError(f"the cover cannot be drawn: {exc}") from exc


def cover_image(media_type: str, data: bytes) -> Image.Image:
    """The cover as an RGB picture of ``COVER_SIZE`` (cropped to the design's 3:4 from the middle, if another
    shape)."""
    if media_type == "image/svg+xml":
        data = svg_to_png(data.decode("utf-8"), COVER_SIZE[0])
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            picture = _flat(image)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise CoverError(f"the cover image cannot be read: {exc}") from exc
    return ImageOps.fit(picture, COVER_SIZE, Image.Resampling.LANCZOS)


def _flat(image: Image.Image) -> Image.Image:
    """The picture in RGB, on white where it is transparent."""
    rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, "#ffffff")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


def png(image: Image.Image) -> bytes:
    """PNG bytes with no metadata: the same pixels give the same bytes."""
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _ink(background: tuple[int, int, int]) -> str:
    """White on a dark background, near-black on a light one (by relative luminance)."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    luminance = 0.2126 * channel(background[0]) + 0.7152 * channel(background[1]) + 0.0722 * channel(background[2])
    return "#ffffff" if luminance < 0.4 else "#1a202c"


def _lines(text: str, width: int, most: int) -> list[str]:
    """``text`` wrapped at ``width`` characters, at most ``most`` lines, the last cut with an ellipsis."""
    lines = textwrap.wrap(text, width)
    if most < 1:
        return []
    if len(lines) > most:
        rest = " ".join(lines[most - 1:])
        lines = lines[:most - 1] + [textwrap.shorten(rest, width, placeholder=" …")]
    return lines


def card_svg(meta: Metadata, cover: Image.Image, formats: tuple[str, ...]) -> str:
    """The card: the cover as a book on its own background colour, beside the title, subtitle and date."""
    pixel = cover.getpixel((2, 2))
    assert isinstance(pixel, tuple)
    background = (int(pixel[0]), int(pixel[1]), int(pixel[2]))
    title_lines = _lines(meta.title, 22, 4)
    # Below the title, as many lines of the subtitle as fit above the date's rule (at most three).
    room = (480 - (208 + 64 * len(title_lines))) // 40 + 1
    subtitle_lines = _lines(meta.subtitle, 36, min(3, room)) if meta.subtitle else []
    small = cover.resize(CARD_COVER_SIZE, Image.Resampling.LANCZOS)
    href = "data:image/png;base64," + base64.b64encode(png(small)).decode("ascii")
    return render("card.svg.j2", meta=meta, cover=href, background="#%02x%02x%02x" % background,
                  ink=_ink(background), title_lines=title_lines, subtitle_lines=subtitle_lines,
                  formats=" · ".join(FORMAT_NAMES[f] for f in formats))


def draw(meta: Metadata, epub: Path, formats: tuple[str, ...]) -> Covers:
    """The three pictures of a brief, from its EPUB edition's cover."""
    cover = cover_image(*epub_cover(epub))
    with Image.open(io.BytesIO(svg_to_png(card_svg(meta, cover, formats)))) as card:
        card.load()
        card_image = _flat(card)
    if card_image.size != CARD_SIZE:
        raise CoverError(f"the card was drawn at {card_image.size}, not {CARD_SIZE}")
    thumbnail = cover.resize(THUMB_SIZE, Image.Resampling.LANCZOS)
    return Covers(cover=png(cover), thumbnail=png(thumbnail), card=png(card_image))
