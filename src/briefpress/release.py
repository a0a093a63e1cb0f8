"""Release: checksums and a manifest of the built files, so readers can verify what they received, and the brief's
own reference as BibTeX and CSL-JSON, for reference managers."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Mapping, Sequence

from . import __version__
from .bibtex import to_bibtex
from .model import Metadata
from .outputs import UNITS, Output
from .references import brief_item

#: The files a release adds beside the editions, whatever the brief.
NAMES = ("SHA256SUMS", "manifest.json")
#: The brief's own reference, as ``<slug>.bib`` and ``<slug>.json``.
CITATION_SUFFIXES = (".bib", ".json")


def release_names(slug: str) -> tuple[str, ...]:
    """Every file a release of the brief ``slug`` adds beside its editions."""
    return (*(f"{slug}{suffix}" for suffix in CITATION_SUFFIXES), *NAMES)


def citation_files(meta: Metadata) -> dict[str, str]:
    """The brief's own reference: ``<slug>.bib`` (BibLaTeX) and ``<slug>.json`` (CSL-JSON, a list of one item)."""
    item = brief_item(meta)
    return {f"{meta.slug}.bib": to_bibtex(item),
            f"{meta.slug}.json": json.dumps([item], ensure_ascii=False, indent=2) + "\n"}


def sha256(path: Path) -> str:
    """Return the SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def release_files(meta: Metadata, outputs: Sequence[Output], staged: Mapping[Path, Path]) -> dict[str, str]:
    """The text of every release file, by name: the brief's reference (``<slug>.bib``, ``<slug>.json``), then
    ``SHA256SUMS`` (for ``sha256sum -c``) and ``manifest.json`` over ``outputs`` and the reference files.
    The outputs' bytes are in ``staged`` (by each output's path) until they are renamed into place."""
    files = []
    for output in sorted(outputs, key=lambda o: o.path.name):
        source = staged.get(output.path, output.path)
        files.append({"file": output.path.name, "format": output.fmt, "size": source.stat().st_size,
                      UNITS[output.fmt]: output.units, "sha256": sha256(source)})
    cited = citation_files(meta)
    for name, text in cited.items():
        data = text.encode("utf-8")
        files.append({"file": name, "format": "bibtex" if name.endswith(".bib") else "csl-json",
                      "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    sums = "".join(f"{f['sha256']}  {f['file']}\n" for f in files)
    manifest = json.dumps({
        "title": meta.title, "identifier": meta.identifier, "date": meta.last_modified.isoformat(),
        "version": __version__, "files": files,
    }, ensure_ascii=False, indent=2) + "\n"
    return {**cited, **dict(zip(NAMES, (sums, manifest)))}
