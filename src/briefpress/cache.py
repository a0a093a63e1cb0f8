"""What a build keeps between runs of deterministic work, in the output folder's ``.briefpress-cache``.

An entry is found by a key that is a digest of every input of the work, this package's version, the code
that does the work (``code``) and the versions of the tools it uses included, so a cached result is the one a cold run gives. An entry is
checked before it is trusted: it names its own key and the digest of its content, so one that is truncated,
damaged, from another version or for another key is a miss, and the work is done again. New entries are
written only when the build that made them succeeds, atomically; the folder is kept under ``LIMIT`` bytes
by removing the entries used longest ago. ``make clean`` removes it; so may anyone, at any time.

Kept here: the formatted citations and bibliography (``render.citeproc``), the HTML edition's font
subsets (``editions.webfonts``), the PDF edition itself (``editions.pdf``) and a long brief's parts
(``editions.keptparts``). The PDF's page map is kept beside them (``editions.pages``).
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from .outputs import Staging

CACHE_FOLDER = ".briefpress-cache"
#: The most the entries may hold together, in bytes.
LIMIT = 64 << 20
_MAGIC = b"briefpress-cache 1\n"


def version(*packages: str) -> str:
    """The installed versions of this package and of ``packages``, for a key."""
    return ",".join(f"{name}={_installed(name)}" for name in ("briefpress", *packages))


@lru_cache(maxsize=None)
def _installed(name: str) -> str:
    """One package's installed version (``?`` if it is not installed), looked up once a process: each lookup
    walks every folder of ``sys.path``, and the modules a process has imported stay the ones it runs."""
    from importlib import metadata  # here: a build that asks the build server looks none up

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


@lru_cache(maxsize=None)
def code(*modules: str) -> str:
    """A digest of the source of ``modules`` (``briefpress.render.citeproc``…): the work they do is kept under
    a key that changes with their code, not only with the package's version."""
    import importlib.util

    digest = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            digest.update(Path(spec.origin).read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=None)
def package_code() -> str:
    """A digest of every file of this package (its modules, templates and styles): the key of work that
    depends on more of it than a few modules (a whole PDF edition)."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def key(*parts: str | bytes) -> str:
    """The digest of ``parts``, each length-prefixed so that no two lists of parts give one key."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


class Cache:
    """The cache of one output folder (or none: every lookup misses, nothing is kept)."""

    def __init__(self, out_dir: Path | None):
        self.folder = out_dir / CACHE_FOLDER if out_dir is not None else None
        self._pending: dict[tuple[str, str], bytes] = {}

    @classmethod
    def at(cls, folder: Path) -> "Cache":
        """The cache kept in ``folder`` itself (not in an output folder's ``.briefpress-cache``)."""
        cache = cls(None)
        cache.folder = folder
        return cache

    def _path(self, kind: str, entry: str) -> Path | None:
        return self.folder / kind / entry if self.folder is not None else None

    def get(self, kind: str, entry: str) -> bytes | None:
        """The content kept under ``entry``, if an entry is there and is whole and its own."""
        if (kind, entry) in self._pending:
            return self._pending[(kind, entry)]
        path = self._path(kind, entry)
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        head = _MAGIC + entry.encode("ascii") + b"\n"
        if not data.startswith(head) or len(data) < len(head) + 65:
            return None
        digest, content = data[len(head): len(head) + 64], data[len(head) + 65:]
        if data[len(head) + 64: len(head) + 65] != b"\n" or hashlib.sha256(content).hexdigest().encode() != digest:
            return None
        try:
            os.utime(path)  # used now: the last to be removed
        except OSError:
            pass
        return content

    def put(self, kind: str, entry: str, content: bytes) -> None:
        """Keep ``content`` under ``entry`` once the build succeeds (``flush``)."""
        self._pending[(kind, entry)] = content

    def flush(self) -> None:
        """Write the new entries, then remove the oldest while the folder holds more than ``LIMIT``. A cache
        that cannot be written is no error: the next build does the work again."""
        pending, self._pending = self._pending, {}
        if self.folder is None or not pending:
            return
        try:
            for (kind, entry), content in pending.items():
                path = self.folder / kind / entry
                path.parent.mkdir(parents=True, exist_ok=True)
                staging = Staging()
                try:
                    staging.add(path).write_bytes(_MAGIC + entry.encode("ascii") + b"\n"
                                                  + hashlib.sha256(content).hexdigest().encode() + b"\n" + content)
                    staging.commit()
                finally:
                    staging.discard()
            self._prune()
        except (OSError, ValueError):
            pass

    def _prune(self) -> None:
        assert self.folder is not None
        entries = []
        for kind in self.folder.iterdir():
            if kind.is_dir():
                entries += [(p.stat().st_mtime_ns, p.stat().st_size, p) for p in kind.iterdir() if p.is_file()]
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= LIMIT:
                break
            path.unlink(missing_ok=True)
            total -= size
