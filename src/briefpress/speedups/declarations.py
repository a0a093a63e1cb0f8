"""WeasyPrint's C declarations, parsed once: the printer imports WeasyPrint with them precompiled.

WeasyPrint declares the C types and functions it calls in Pango, HarfBuzz and fontconfig to cffi as C source
(``ffi.cdef``) each time it is imported, and cffi parses that source with pycparser: 70 to 85 ms, with
pycparser's own import. Each C type WeasyPrint names later (``ffi.new("PangoRectangle *")``) is parsed the
same way the first time. cffi's documented out-of-line ABI mode (``FFI.set_source(name, None)``, then
``FFI.emit_python_code``) writes the same declarations as one call of cffi's C backend, which loads in
5 ms and reads type names in C.

So WeasyPrint's declarations are recorded as it makes its ``FFI`` (``cffi.FFI`` is, meanwhile, a subclass
that records what ``cdef`` is given), turned into that module, compiled, and kept in the package's
``__pycache__`` under ``kept``'s rule (``make venv`` asks for it). An import with the entry kept hands
WeasyPrint, when it asks ``cffi.FFI`` for its ``FFI``, the precompiled one instead, whose ``cdef`` checks
that it is given the very source it was made from. The entry's name is a digest of WeasyPrint's module
that declares them, cffi's version and Python's bytecode version; an entry that is unreadable, from
another version or for other declarations fails the import, which is then made again the plain way.
Loading a library is the same call either way, except that the precompiled ``dlopen`` tries each name
WeasyPrint gives as it is, never through ``ctypes.util.find_library``: the Linux soname, which each of
WeasyPrint's lists holds, loads directly.

The layout is the same: the same C functions are called with the same values (the same bytes: tested).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import marshal
import sys
import tempfile
import types
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import kept
from ..editions.typeset import forget_weasyprint, import_weasyprint
from .switches import on

#: The module cffi writes the declarations as, and the line of it that makes the ``FFI``.
MODULE = "_briefpress_weasyprint_ffi"
_MADE = "\nffi = _cffi_backend.FFI("
#: Changes whenever what is kept changes form.
FORMAT = b"1"


def import_with(importer: Callable[[], object], write: bool | None = None) -> None:
    """Import WeasyPrint through ``importer``, with its declarations precompiled where they are kept (and
    the ``ffi`` speed-up is on); otherwise the plain way, keeping them for next time where ``kept`` may
    (``write``: as ``kept.may_write`` takes it)."""
    if "weasyprint" in sys.modules or not on("ffi"):
        importer()
        return
    key = _key()
    code = _load(key) if key else None
    if code is not None:
        try:
            with _handing(code):
                importer()
            return
        except Exception:  # not the declarations it was made from, or unreadable: made again the plain way
            forget_weasyprint()
    recorded: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    with _recording(recorded):
        importer()
    if key and kept.may_write(write) and len(recorded) == 1 and not recorded[0][1] and not recorded[0][2]:
        prepare(recorded[0][0], key)


def prepare(source: str, key: str) -> bool:
    """Keep ``source`` (the declarations WeasyPrint gave ``cdef``) precompiled under ``key``; False if cffi
    wrote a module of a form not known here, and nothing is kept."""
    import cffi

    builder = cffi.FFI()
    builder.cdef(source)
    builder.set_source(MODULE, None)
    with tempfile.TemporaryDirectory(prefix="briefpress-ffi-") as folder:
        written = Path(folder, f"{MODULE}.py")
        with redirect_stdout(io.StringIO()):  # cffi says what it writes
            builder.emit_python_code(str(written))
        text = written.read_text(encoding="utf-8")
    if text.count(_MADE) != 1 or "\nimport _cffi_backend\n" not in text:
        return False
    text = text.replace(_MADE, f'''
import hashlib as _hashlib


class _Declared(_cffi_backend.FFI):
    """WeasyPrint's declarations, parsed already: ``cdef`` only checks that it is given them."""

    def cdef(self, csource, override=False, packed=False, pack=None):
        if (override or packed or pack is not None
                or _hashlib.sha256(csource.encode("utf-8")).hexdigest() != {_digest(source)!r}):
            raise ValueError("not the declarations these were precompiled from")

ffi = _Declared(''')
    data = marshal.dumps(compile(text, f"<{MODULE}>", "exec"))
    kept.keep(_entry(key), lambda file: file.write(data))
    return True


def _digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def _key() -> str | None:
    """The digest of WeasyPrint's module that declares its C functions, cffi's version and Python's bytecode
    version; None if WeasyPrint or cffi cannot be found."""
    try:
        import cffi

        spec = importlib.util.find_spec("weasyprint")
        if spec is None or spec.origin is None:
            return None
        declaring = (Path(spec.origin).parent / "text" / "ffi.py").read_bytes()
    except (ImportError, OSError, ValueError):
        return None
    digest = hashlib.sha256(FORMAT)
    for part in (declaring, cffi.__version__.encode(), importlib.util.MAGIC_NUMBER):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()[:32]


def _entry(key: str) -> Path:
    return kept.FOLDER / f"weasyprint-ffi-{key}.marshal"


def _load(key: str) -> Any:
    """The kept entry's code, or None (none kept, or unreadable)."""
    try:
        code = marshal.loads(_entry(key).read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, types.CodeType) else None


@contextmanager
def _handing(code: Any) -> Iterator[None]:
    """Meanwhile, the first ``cffi.FFI()`` made is the precompiled ``FFI`` that ``code`` makes."""
    import cffi

    plain = cffi.FFI

    def precompiled(*args: Any, **kwargs: Any) -> Any:
        cffi.FFI = plain  # one FFI only: WeasyPrint's
        if args or kwargs:
            raise ValueError("an FFI with a backend of its own")
        namespace: dict[str, Any] = {"__name__": MODULE}
        exec(code, namespace)
        return namespace["ffi"]

    cffi.FFI = precompiled  # type: ignore[misc]
    try:
        yield
    finally:
        cffi.FFI = plain  # type: ignore[misc]


@contextmanager
def _recording(recorded: list[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> Iterator[None]:
    """Meanwhile, each ``cffi.FFI`` made records into ``recorded`` what its ``cdef`` is given."""
    import cffi

    plain = cffi.FFI

    class Recording(plain):  # type: ignore[misc, valid-type]
        def cdef(self, csource: str, *args: Any, **kwargs: Any) -> None:
            recorded.append((csource, args, kwargs))
            super().cdef(csource, *args, **kwargs)

    cffi.FFI = Recording  # type: ignore[misc]
    try:
        yield
    finally:
        cffi.FFI = plain  # type: ignore[misc]


def ensure() -> bool:
    """Import WeasyPrint so that its declarations are kept precompiled, as ``make venv`` asks; whether
    they are."""
    key = _key()
    if key is None:
        return False
    if _load(key) is None:
        import_with(import_weasyprint, write=True)
    return _load(key) is not None
