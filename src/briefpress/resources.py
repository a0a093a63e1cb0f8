"""Which files a build may read: the brief's own, the package's templates and styles, and the fonts."""

from __future__ import annotations

import base64
import errno
import hashlib
import mimetypes
import os
import stat
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterator, Mapping
from urllib.parse import unquote, urlsplit

MEDIA_TYPES = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
    ".svg": "image/svg+xml", ".webp": "image/webp", ".css": "text/css",
    ".ttf": "font/ttf", ".otf": "font/otf", ".woff": "font/woff", ".woff2": "font/woff2",
}
FONT_PACKAGES = ("font_source_serif_pro", "font_source_sans_pro")


@dataclass(frozen=True)
class DesignFace:
    """One face of the design's fonts: the file a font package ships for a family, weight and style."""

    family: str
    package: str
    file: str
    weight: int
    style: str  # "normal" or "italic"

    @property
    def path(self) -> Path:
        return font_dir(self.package) / self.file


#: The faces every edition that carries fonts (the PDF, the HTML page) draws from.
DESIGN_FACES = (
    DesignFace("Source Serif Pro", FONT_PACKAGES[0], "SourceSerifPro-Regular.ttf", 400, "normal"),
    DesignFace("Source Serif Pro", FONT_PACKAGES[0], "SourceSerifPro-It.ttf", 400, "italic"),
    DesignFace("Source Serif Pro", FONT_PACKAGES[0], "SourceSerifPro-Semibold.ttf", 600, "normal"),
    DesignFace("Source Serif Pro", FONT_PACKAGES[0], "SourceSerifPro-Bold.ttf", 700, "normal"),
    DesignFace("Source Serif Pro", FONT_PACKAGES[0], "SourceSerifPro-BoldIt.ttf", 700, "italic"),
    DesignFace("Source Sans Pro", FONT_PACKAGES[1], "SourceSansPro-Regular.ttf", 400, "normal"),
    DesignFace("Source Sans Pro", FONT_PACKAGES[1], "SourceSansPro-It.ttf", 400, "italic"),
    DesignFace("Source Sans Pro", FONT_PACKAGES[1], "SourceSansPro-Semibold.ttf", 600, "normal"),
    DesignFace("Source Sans Pro", FONT_PACKAGES[1], "SourceSansPro-Bold.ttf", 700, "normal"),
)


class Refused(Exception):
    """A resource the build will not read."""


#: What a path that is not a regular file is, by the test of its mode.
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))


def real_path(path: Path) -> Path:
    """``path`` with every symbolic link followed (it need not exist); ``Refused`` for a loop of links or a
    folder on the way that cannot be read."""
    if "\0" in str(path):
        raise Refused("is not a path: it holds a NUL character")
    try:
        return path.resolve()
    except RuntimeError:  # Python before 3.13 reports a loop so
        raise Refused("is a symbolic link loop") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused("is a symbolic link loop") from None
        raise Refused(f"cannot be read: {exc.strerror}") from None


def not_regular(path: Path) -> str | None:
    """Why ``path`` (links followed) is not a regular file that can be opened, or None if it is one.

    Only its mode is read: a named pipe or a device is never opened, since opening one may block or act.
    """
    if "\0" in str(path):
        return "is not a path: it holds a NUL character"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "does not exist"
    except OSError as exc:
        return "is a symbolic link loop" if exc.errno == errno.ELOOP else f"cannot be read: {exc.strerror}"
    for test, kind in _KINDS:
        if test(mode):
            return f"is {kind}, not a regular file"
    return None if stat.S_ISREG(mode) else "is not a regular file"


def read_regular(path: Path, roots: tuple[Path, ...]) -> bytes:
    """Read a file that is, links followed, a regular file inside one of ``roots``; ``Refused`` says why not.

    The real path is checked before it is opened, and opened without blocking or following a link that was
    put in its place meanwhile, and checked again once open.
    """
    real = real_path(path)
    if not any(real.is_relative_to(root) for root in roots):
        linked = any(Path(os.path.abspath(path)).is_relative_to(root) for root in roots)
        raise Refused("resolves outside the brief folder (symbolic link); a build reads nothing outside it"
                      if linked else "is outside the brief folder")
    problem = not_regular(real)
    if problem:
        raise Refused(problem)
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise Refused(f"cannot be read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Refused("is not a regular file")
        try:
            return file.read()
        except OSError as exc:
            raise Refused(f"cannot be read: {exc.strerror}") from None


def package_dir(name: str) -> Path:
    """Return the real folder of the package's ``templates``, ``styles`` or ``scaffold`` (package data, read
    through ``importlib.resources``)."""
    return Path(str(resources.files("briefpress") / name)).resolve()


def font_dir(package: str) -> Path:
    """Return the folder of font files shipped by a font package."""
    return Path(str(resources.files(package) / "files")).resolve()


def icon_data_url() -> str:
    """The design's icon (``styles/icon.svg``) as a ``data:`` URL: a page that declares it makes no request for
    one (a browser asks a site for ``/favicon.ico`` otherwise), and the HTML edition stays one file."""
    data = (package_dir("styles") / "icon.svg").read_bytes()
    return f"data:image/svg+xml;base64,{base64.b64encode(data).decode('ascii')}"


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
        try:
            return read_regular(path, tuple(self.roots))
        except Refused as exc:
            raise Refused(f"'{path}' {exc}") from None

    def _generated(self, path: Path) -> bytes | None:
        try:
            relative = path.relative_to(self.root).as_posix()
        except ValueError:
            return None
        return self.assets.get(relative)

    def unchanged(self, reads: Mapping[str, str]) -> bool:
        """Whether every file of ``reads`` (URL: SHA-256, as ``recording_reads`` keeps them) still holds what
        was read: what laid-out work depends on besides its text (a kept PDF, a section's kept layout).
        Reading them again notes them as read, in the records open."""
        for url, digest in reads.items():
            try:
                data, _ = self.read_url(url)
            except Refused:
                return False
            if hashlib.sha256(data).hexdigest() != digest:
                return False
        return True

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
        data = self.read_path(path)
        for reads in _READS.get():
            reads[url] = hashlib.sha256(data).hexdigest()
        return data, media_type(path.name)

    def data_url(self, relative: str) -> str:
        """Return a brief file as a ``data:`` URL (for the self-contained HTML edition)."""
        data = self.read_relative(relative)
        return f"data:{media_type(relative)};base64,{base64.b64encode(data).decode('ascii')}"


#: The records of files read by URL (``ResourcePolicy.read_url``) that are open in this context.
_READS: ContextVar[tuple[dict[str, str], ...]] = ContextVar("briefpress_reads", default=())


@contextmanager
def recording_reads() -> Iterator[dict[str, str]]:
    """Record, while open, every file a ``ResourcePolicy`` reads by URL, with the SHA-256 of what it read
    (what a laid-out document depends on besides its own text: a kept PDF is used only while every file it
    read is unchanged)."""
    reads: dict[str, str] = {}
    token = _READS.set((*_READS.get(), reads))
    try:
        yield reads
    finally:
        _READS.reset(token)


def note_reads(reads: Mapping[str, str]) -> None:
    """Add reads recorded elsewhere (in a process the build forked) to the records open here."""
    for open_reads in _READS.get():
        open_reads.update(reads)
