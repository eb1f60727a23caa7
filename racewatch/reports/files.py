"""Writing a report file so that nobody ever reads half of it."""

from __future__ import annotations

import os


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
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
