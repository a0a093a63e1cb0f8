"""Which files a build may read: the brief's own, the package's templates and styles, and the fonts."""

from __future__ import annotations

import base64
import mimetypes
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Mapping
from urllib.parse import unquote, urlsplit

MEDIA_TYPES = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
    ".svg": "image/svg+xml", ".webp": "image/webp", ".css": "text/css",
    ".ttf": "font/ttf", ".otf": "font/otf", ".woff": "font/woff", ".woff2": "font/woff2",
}
FONT_PACKAGES = ("font_source_serif_pro", "font_source_sans_pro")


class Refused(Exception):
    """A resource the build will not read."""


def package_dir(name: str) -> Path:
    """Return the real folder of the package's ``templates``, ``styles`` or ``scaffold`` (package data, read
    through ``importlib.resources``)."""
    return Path(str(resources.files("briefpress") / name)).resolve()


def font_dir(package: str) -> Path:
    """Return the folder of font files shipped by a font package."""
    return Path(str(resources.files(package) / "files")).resolve()


def media_type(name: str) -> str:
    """Return the media type for a file name."""
    suffix = Path(name).suffix.lower()
    return MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


@dataclass
class ResourcePolicy:
    """Serves only files inside the allowed folders, and the files made during the build."""

    root: Path
    #: Files made during the build (charts), by path relative to the brief folder.
    assets: Mapping[str, bytes]

    def __post_init__(self) -> None:
        self.roots = [self.root, package_dir("templates"), package_dir("styles"),
                      *(font_dir(p) for p in FONT_PACKAGES)]
        self.refused: list[tuple[str, str]] = []

    def read_relative(self, relative: str) -> bytes:
        """Read a file given by its path relative to the brief folder (images, charts)."""
        if relative in self.assets:
            return self.assets[relative]
        return self.read_path(self.root / relative)

    def read_path(self, path: Path) -> bytes:
        """Read a file if its real path lies in an allowed folder."""
        generated = self._generated(path)
        if generated is not None:
            return generated
        real = path.resolve()
        if not any(real.is_relative_to(root) for root in self.roots):
            raise Refused(f"'{path}' is outside the brief folder")
        if not real.is_file():
            raise Refused(f"'{path}' does not exist")
        return real.read_bytes()

    def _generated(self, path: Path) -> bytes | None:
        try:
            relative = path.relative_to(self.root).as_posix()
        except ValueError:
            return None
        return self.assets.get(relative)

    def read_url(self, url: str) -> tuple[bytes, str]:
        """Read a ``file:`` or ``data:`` URL; refuse every other scheme. Return bytes and media type."""
        try:
            return self._read_url(url)
        except Refused as exc:
            self.refused.append((url, str(exc)))
            raise
        except (OSError, ValueError) as exc:  # a NUL in a path, bad base64: refused all the same
            self.refused.append((url, f"'{url}': {exc}"))
            raise Refused(f"'{url}': {exc}") from exc

    def _read_url(self, url: str) -> tuple[bytes, str]:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            header, _, payload = url[5:].partition(",")
            mime = header.split(";")[0] or "text/plain"
            data = base64.b64decode(payload) if header.endswith(";base64") else unquote(payload).encode("utf-8")
            return data, mime
        if scheme != "file" or parts.netloc not in ("", "localhost"):
            raise Refused(f"'{url}': only files inside the brief folder may be used (no network, no other schemes)")
        path = Path(unquote(parts.path))
        return self.read_path(path), media_type(path.name)

    def data_url(self, relative: str) -> str:
        """Return a brief file as a ``data:`` URL (for the self-contained HTML edition)."""
        data = self.read_relative(relative)
        return f"data:{media_type(relative)};base64,{base64.b64encode(data).decode('ascii')}"
