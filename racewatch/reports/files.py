"""Writing a report file so that nobody ever reads half of it, and knowing early when it
cannot be written at all."""

from __future__ import annotations

import os

# The report files an option asks for: option name -> what messages call it.
REPORT_FILES = {"json": "the JSON report", "html": "the HTML report", "sarif": "the SARIF file"}


def write_report(name: str, report, path: str, strip_path_prefix: str = "") -> None:
    """Write the report file that option ``name`` ("json", "html", "sarif") asks for."""
    if name == "json":
        from .json_report import write as write_json

        write_json(report, path)
    elif name == "html":
        from .html import write as write_html

        write_html(report, path, strip_path_prefix=strip_path_prefix)
    else:
        from .sarif import write as write_sarif

        write_sarif(report, path)


def unwritable(path: str) -> str | None:
    """Why ``write_atomically`` could not write ``path``, as far as can be told before
    trying (its folders are made as needed), or None.

    The file is written beside itself and renamed into place, so what matters is the
    nearest folder that exists: it must be a folder, and writable.
    """
    target = os.path.abspath(path)
    if os.path.isdir(target):
        return "it is a directory"
    folder = os.path.dirname(target)
    while not os.path.lexists(folder):
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        return f"{_shown(folder, path)} is not a directory"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{_shown(folder, path)} is not writable"
    return None


def _shown(folder: str, path: str) -> str:
    """``folder`` as the user wrote it, when ``path`` was relative."""
    if os.path.isabs(path):
        return folder
    return os.path.relpath(folder)


def failure(exc: BaseException, path: str | None = None) -> str:
    """Why writing ``path`` failed, in words (``No space left on device``).  A file where
    a folder of the path should be makes ``os.makedirs`` say "File exists": that is told
    as what it is."""
    reason = unwritable(path) if path is not None and isinstance(exc, FileExistsError) \
        else None
    if reason is not None:
        return reason
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}"


def write_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file moved into place.

    The temporary file lies beside the target, so ``os.replace`` stays one rename; it is
    made with mode 0o666 less the umask, as ``open()`` would, since a CI job may publish the
    file for others to read.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        # A file name that is not UTF-8 reaches a report as lone surrogates: written as
        # \udcXX, which a JSON reader reads back as the same string.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
