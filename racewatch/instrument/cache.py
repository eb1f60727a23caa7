"""The cache of rewritten code, beside the standard one in ``__pycache__``.

A second run does not pay for rewriting again.  The file name carries the interpreter's
cache tag, racewatch's version and the rewrite's version, so neither an upgrade nor a
plain ``python`` run can pick up the wrong code.  The header is the standard pyc header
(magic number, flags, source mtime and size).  Files are written to a temporary name and
moved into place with ``os.replace``, so a reader never sees half a file.
"""

from __future__ import annotations

import importlib.util
import marshal
import os
import sys
from types import CodeType

from .. import __version__
from .transform import TRANSFORM_VERSION

_MAGIC = importlib.util.MAGIC_NUMBER
_TAG = f"{sys.implementation.cache_tag}.racewatch-{__version__}-{TRANSFORM_VERSION}"


def cache_path(source_path: str) -> str:
    directory, filename = os.path.split(source_path)
    stem = filename.rpartition(".")[0] or filename
    return os.path.join(directory, "__pycache__", f"{stem}.{_TAG}.pyc")


def _header(st: os.stat_result) -> bytes:
    return (_MAGIC + (0).to_bytes(4, "little")
            + (int(st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
            + (st.st_size & 0xFFFFFFFF).to_bytes(4, "little"))


def read(source_path: str, st: os.stat_result) -> CodeType | None:
    """The cached code for ``source_path`` if it is there and matches the source."""
    try:
        with open(cache_path(source_path), "rb") as f:
            data = f.read()
    except OSError:
        return None
    header = _header(st)
    if data[:16] != header:
        return None
    try:
        code = marshal.loads(data[16:])
    except (EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def write(source_path: str, st: os.stat_result, code: CodeType) -> None:
    """Store ``code``; any failure (read-only tree, full disk) just means no cache."""
    if sys.dont_write_bytecode:
        return
    path = cache_path(source_path)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(_header(st) + marshal.dumps(code))
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
