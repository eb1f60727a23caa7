"""The cache of rewritten modules, beside the standard one in ``__pycache__``.

A second run does not pay for rewriting a module again.  The file name carries the
interpreter's cache tag, the optimization level (``-O`` strips asserts: its code must
never be used without it, nor the other way round), racewatch's version, the rewrite's
version and the kinds the ``watch`` option leaves the rewrite, so neither an upgrade nor
a plain ``python`` run nor another ``watch`` can pick up the wrong
code.  The file is validated by a hash of the source, as a PEP 552 "checked" pyc is:
an edit is seen whatever the clock says (a save within the same second, of the same
length, included).  Files are written to a temporary name and moved into place with
``os.replace``, so a reader never sees half a file.

The script given to ``racewatch run`` is not cached, as Python does not cache it:
compiling it on every run keeps its ``SyntaxWarning``\\ s on every run too.
"""

from __future__ import annotations

import importlib.util
import marshal
import os
import sys
from types import CodeType

from .. import __version__
from .transform import REWRITTEN_KINDS, TRANSFORM_VERSION, watched_kinds

_MAGIC = importlib.util.MAGIC_NUMBER
_FLAGS = (0b11).to_bytes(4, "little")  # hash-based, check the source (PEP 552)


def _tag() -> str:
    optimize = sys.flags.optimize
    level = f".opt-{optimize}" if optimize else ""
    kinds = watched_kinds()
    watch = "" if kinds == REWRITTEN_KINDS else "-" + "-".join(kinds)
    return (f"{sys.implementation.cache_tag}{level}.racewatch-{__version__}-"
            f"{TRANSFORM_VERSION}{watch}")


def cache_path(source_path: str) -> str:
    directory, filename = os.path.split(source_path)
    stem = filename.rpartition(".")[0] or filename
    return os.path.join(directory, "__pycache__", f"{stem}.{_tag()}.pyc")


def _header(source: bytes) -> bytes:
    return _MAGIC + _FLAGS + importlib.util.source_hash(source)


def read(source_path: str, source: bytes) -> CodeType | None:
    """The cached code for ``source_path`` if it is there and was made from ``source``."""
    try:
        with open(cache_path(source_path), "rb") as f:
            data = f.read()
    except OSError:
        return None
    if data[:16] != _header(source):
        return None
    try:
        code = marshal.loads(data[16:])
    except (EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def write(source_path: str, source: bytes, code: CodeType) -> None:
    """Store ``code``; any failure (read-only tree, full disk) just means no cache."""
    if sys.dont_write_bytecode:
        return
    path = cache_path(source_path)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(_header(source) + marshal.dumps(code))
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
