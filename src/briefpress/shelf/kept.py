"""A shelf's briefs kept whole between its builds: a brief whose folder has not changed is not built again.

A shelf rebuilds every brief it lists, and a desk edits one at a time. Each brief's editions and release files
are kept in the brief's own cache (beside the site, ``model.cache_folder``) under a key of everything a build
of it depends on: every file of its folder (names, link targets and contents), where the folder is, every
file of this package, the versions of every package it runs on, ``--strict`` and ``SOURCE_DATE_EPOCH``. A
build reads only the brief's files, the package's and its fonts, so the same key gives the same bytes; a
brief kept so is copied, and the warnings its build reported are reported again. As for the other kept work,
the system's Pango, HarfBuzz and fontconfig are not in the key. A folder too large to digest quickly (more
than ``MOST_FILES`` files or ``MOST_BYTES`` bytes) is simply built.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Sequence

from ..cache import Cache, key, package_code
from ..errors import Diagnostic
from ..model import Metadata
from ..outputs import Output
from . import covers

KIND = "brief"
COVERS = "covers"
MOST_FILES = 10_000
MOST_BYTES = 512 << 20


def entry(folder: Path, strict: bool) -> str | None:
    """The key of a build of the brief in ``folder``; ``None`` if the folder is not to be digested."""
    digest = folder_digest(folder)
    if digest is None:
        return None
    return key(KIND, digest, os.path.abspath(folder), package_code(), dependencies(), str(strict),
               os.environ.get("SOURCE_DATE_EPOCH", ""))


def folder_digest(folder: Path) -> str | None:
    """A digest of every entry under ``folder``: each file's path and content, each link's target (and the
    content of a file it leads to), and the kind of anything else, which is never opened (a FIFO would
    block). Links to folders are not followed. ``None`` past ``MOST_FILES`` or ``MOST_BYTES``."""
    digest = hashlib.sha256()
    count = size = 0
    for top, folders, files in os.walk(folder):
        folders.sort()
        base = Path(top)
        for name in sorted(files + [f for f in folders if os.path.islink(base / f)]):
            path = base / name
            count += 1
            if count > MOST_FILES:
                return None
            digest.update(b"\0" + path.relative_to(folder).as_posix().encode("utf-8", "surrogateescape") + b"\0")
            try:
                if os.path.islink(path):
                    digest.update(b"link " + os.readlink(path).encode("utf-8", "surrogateescape") + b"\0")
                mode = os.stat(path).st_mode
            except OSError as exc:
                digest.update(f"unreadable {exc.errno}".encode("ascii"))
                continue
            if not stat.S_ISREG(mode):
                digest.update(f"kind {stat.S_IFMT(mode)}".encode("ascii"))
                continue
            try:
                data = path.read_bytes()
            except OSError as exc:
                digest.update(f"unreadable {exc.errno}".encode("ascii"))
                continue
            size += len(data)
            if size > MOST_BYTES:
                return None
            digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


@lru_cache(maxsize=None)
def dependencies() -> str:
    """The versions of every package briefpress runs on (its requirements, and theirs), for a key."""
    seen: dict[str, str] = {}
    todo = ["briefpress"]
    while todo:
        name = todo.pop()
        canonical = re.sub(r"[-_.]+", "-", name).lower()
        if canonical in seen:
            continue
        try:
            seen[canonical] = metadata.version(name)
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            seen[canonical] = "?"
            continue
        todo += [re.split(r"[\s;<>=!~\[(]", r, maxsplit=1)[0] for r in requires if "extra ==" not in r]
    return ",".join(f"{name}={found}" for name, found in sorted(seen.items()))


def load(cache: Cache, entry: str, target: Path) -> tuple[list[Output], list[Diagnostic]] | None:
    """Write a kept build's files into ``target``; return its outputs and diagnostics, or ``None``."""
    content = cache.get(KIND, entry)
    if content is None:
        return None
    head, _, body = content.partition(b"\n")
    try:
        header = json.loads(head)
        files = [(str(name), int(length)) for name, length in header["files"]]
        outputs = [(str(name), str(fmt), int(units)) for name, fmt, units in header["outputs"]]
        items = [Diagnostic.from_json(item) for item in header["diagnostics"]]
    except (ValueError, TypeError, KeyError):
        return None
    if sum(length for _, length in files) != len(body) or any("/" in n or n.startswith(".") for n, _ in files):
        return None
    target.mkdir(parents=True, exist_ok=True)
    offset = 0
    for name, length in files:
        (target / name).write_bytes(body[offset:offset + length])
        offset += length
    sizes = dict(files)
    return [Output(target / name, fmt, units, sizes[name], 0.0) for name, fmt, units in outputs], items


def keep(cache: Cache, entry: str, outputs: Sequence[Output], names: Sequence[str], target: Path,
         items: Sequence[Diagnostic]) -> None:
    """Keep a build's files (``names`` in ``target``: its editions and release files) under ``entry``."""
    data = [(name, (target / name).read_bytes()) for name in names]
    header = {"files": [[name, len(content)] for name, content in data],
              "outputs": [[o.path.name, o.fmt, o.units] for o in outputs],
              "diagnostics": [d.to_json() for d in items]}
    cache.put(KIND, entry, json.dumps(header).encode("utf-8") + b"\n" + b"".join(content for _, content in data))
    cache.flush()


def drawn_covers(cache: Cache, meta: Metadata, epub: Path, formats: tuple[str, ...]) -> covers.Covers:
    """A brief's three pictures (``covers.draw``), kept under a key of what they are drawn from: the cover
    its EPUB declares, its metadata and formats, and this package. Drawing them takes about half a second a
    brief, and a shelf draws every brief's each time it is built; an edit to a section changes the EPUB, not
    its cover, and draws nothing again."""
    media_type, data = covers.epub_cover(epub)
    entry = key(COVERS, media_type, hashlib.sha256(data).hexdigest(), repr(meta), ",".join(formats),
                package_code(), dependencies())
    content = cache.get(COVERS, entry)
    if content is not None:
        head, _, body = content.partition(b"\n")
        try:
            lengths = [int(n) for n in head.split(b" ")]
        except ValueError:
            lengths = []
        if len(lengths) == 3 and sum(lengths) == len(body):
            cover, thumbnail = body[:lengths[0]], body[lengths[0]:lengths[0] + lengths[1]]
            return covers.Covers(cover=cover, thumbnail=thumbnail, card=body[lengths[0] + lengths[1]:])
    drawn = covers.draw(meta, epub, formats)
    parts = (drawn.cover, drawn.thumbnail, drawn.card)
    cache.put(COVERS, entry, " ".join(str(len(p)) for p in parts).encode("ascii") + b"\n" + b"".join(parts))
    cache.flush()
    return drawn
