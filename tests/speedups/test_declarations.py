"""WeasyPrint's C declarations precompiled (``briefpress.speedups.declarations``): used where kept, the same
PDF as the plain import, and an entry that is missing, truncated, unreadable, for other declarations or of
a form cffi no longer writes never trusted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from briefpress.speedups import declarations
from tools.paths import BRIEF

# In a new process (WeasyPrint is imported once per process): the package's kept folder pointed at argv[1],
# WeasyPrint imported as the printer imports it, then the real brief laid out into argv[2]; it says which
# FFI WeasyPrint got and whether pycparser (which only the plain import needs) was loaded. argv[3], if given,
# is Python run first, to break something.
IMPORTING = """
import sys
from pathlib import Path
from briefpress import kept
kept.FOLDER = Path(sys.argv[1])
if len(sys.argv) > 3:
    exec(sys.argv[3])
from briefpress.speedups.printer import import_fast
import_fast()
import weasyprint.text.ffi
print(type(weasyprint.text.ffi.ffi).__name__, "pycparser" in sys.modules)
from briefpress.build import prepare
from briefpress.editions.pdf import print_job
from briefpress.editions.typeset import typeset
from briefpress.errors import Diagnostics
diags = Diagnostics()
typeset(print_job(prepare(Path(sys.argv[4] if len(sys.argv) > 4 else "brief"), diags)), Path(sys.argv[2]), diags)
assert not diags.items, [d.format() for d in diags.items]
"""


def _import(folder: Path, pdf: Path, breaking: str = "", writing: bool = False,
            speedups: str = "") -> tuple[str, bool]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONDONTWRITEBYTECODE",
                                                                         "BRIEFPRESS_SPEEDUPS")}
    if not writing:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["BRIEFPRESS_SPEEDUPS"] = speedups
    run = subprocess.run([sys.executable, "-c", IMPORTING, str(folder), str(pdf), breaking, str(BRIEF)],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    name, pycparser = run.stdout.split()
    return name, pycparser == "True"


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("weasyprint-ffi-*.marshal"))


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The brief's PDF with WeasyPrint imported the plain way (the speed-up off)."""
    folder = tmp_path_factory.mktemp("plain")
    pdf = folder / "plain.pdf"
    name, pycparser = _import(folder, pdf, writing=True, speedups="no-ffi")
    assert name == "FFI" and pycparser and not _entries(folder), "off: the plain import, nothing kept"
    return pdf.read_bytes()


def test_kept_where_allowed_then_used_for_the_same_pdf(tmp_path: Path, plain: bytes) -> None:
    name, pycparser = _import(tmp_path, tmp_path / "first.pdf")
    assert pycparser and not _entries(tmp_path), "PYTHONDONTWRITEBYTECODE: nothing kept"
    name, pycparser = _import(tmp_path, tmp_path / "writing.pdf", writing=True)
    assert name == "Recording" and pycparser, "recorded while imported the plain way"
    assert len(_entries(tmp_path)) == 1
    name, pycparser = _import(tmp_path, tmp_path / "kept.pdf")
    assert name == "_Declared" and not pycparser, "the precompiled declarations, without pycparser"
    for made in ("first.pdf", "writing.pdf", "kept.pdf"):
        assert (tmp_path / made).read_bytes() == plain, made


BROKEN = {
    "truncated": lambda data: data[: len(data) // 2],
    "unreadable": lambda data: b"not marshal data at all",
    "not code": lambda data: __import__("marshal").dumps({"ffi": 1}),
    "empty": lambda data: b"",
}


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_a_broken_entry_is_not_trusted_and_is_replaced(tmp_path: Path, plain: bytes, broken: str) -> None:
    _import(tmp_path, tmp_path / "first.pdf", writing=True)
    [entry] = _entries(tmp_path)
    good = entry.read_bytes()
    entry.write_bytes(BROKEN[broken](good))
    name, pycparser = _import(tmp_path, tmp_path / "broken.pdf", writing=True)
    assert name == "Recording" and pycparser, "imported the plain way"
    assert (tmp_path / "broken.pdf").read_bytes() == plain
    assert entry.read_bytes() == good, "kept again, as it should be"


def test_an_entry_for_other_declarations_is_not_trusted(tmp_path: Path, plain: bytes) -> None:
    """An entry swapped for one made from other declarations: its ``cdef`` refuses WeasyPrint's, and the
    import is made again the plain way."""
    _import(tmp_path, tmp_path / "first.pdf", writing=True)
    [entry] = _entries(tmp_path)
    key = entry.name.removeprefix("weasyprint-ffi-").removesuffix(".marshal")
    making = (f"from briefpress.speedups import declarations; "
              f"assert declarations.prepare('typedef int hb_bool_t; int g_type_init(void);', {key!r})")
    name, pycparser = _import(tmp_path, tmp_path / "swapped.pdf", breaking=making)
    assert name == "Recording" and pycparser
    assert (tmp_path / "swapped.pdf").read_bytes() == plain


def test_without_the_backend_class_it_names_the_plain_import_is_made(tmp_path: Path, plain: bytes) -> None:
    """The precompiled module subclasses ``_cffi_backend.FFI`` (the class cffi's own out-of-line modules
    make): without it, the import is made the plain way."""
    _import(tmp_path, tmp_path / "first.pdf", writing=True)
    name, pycparser = _import(tmp_path, tmp_path / "nameless.pdf", breaking="import _cffi_backend; del _cffi_backend.FFI")
    assert name == "Recording" and pycparser
    assert (tmp_path / "nameless.pdf").read_bytes() == plain


def test_a_module_of_another_form_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """cffi writes the ``FFI`` as ``ffi = _cffi_backend.FFI(…)``: a module written otherwise is not kept."""
    monkeypatch.setattr(declarations.kept, "FOLDER", tmp_path)
    assert declarations.prepare("int g_type_init(void);", "k" * 32)
    assert _entries(tmp_path)
    for entry in _entries(tmp_path):
        entry.unlink()
    monkeypatch.setattr(declarations, "_MADE", "\nffi = _cffi_backend.Other(")
    assert not declarations.prepare("int g_type_init(void);", "k" * 32)
    assert not _entries(tmp_path)


def test_the_key_follows_weasyprints_declaring_module_and_cffi(monkeypatch: pytest.MonkeyPatch) -> None:
    import cffi

    key = declarations._key()
    assert key is not None and len(key) == 32
    monkeypatch.setattr(cffi, "__version__", cffi.__version__ + ".other")
    assert declarations._key() not in (None, key)
