"""Which core runs the detector: the compiled one (``racewatch._core``) or the pure-Python one.

Decided once, at import, by the ``RACEWATCH_CORE`` environment variable:

* ``c``: the compiled core; a clear error when it is not built (an install without a C
  compiler has none);
* ``python``: the pure-Python core, the reference the compiled one mirrors;
* unset or ``auto``: the compiled core when it can be imported, else the pure-Python one.

With the compiled core, settings.py, threads.py, stacks.py, shadow.py and tracked.py bind
their public names to its types and functions as they finish importing, so the rest of
racewatch (patches, races, session, reports) works with either, unchanged.  The pair is
interchangeable as coverage.py's collectors are: one interface, two implementations, the
test suite run against both.
"""

from __future__ import annotations

import os
from types import ModuleType

from ..config import OptionError

ENV = "RACEWATCH_CORE"
CHOICES = ("auto", "c", "python")


class CoreError(OptionError):
    """``RACEWATCH_CORE`` names no core, or one that cannot be loaded here."""


def choice(environ=os.environ) -> str:
    """The core asked for: "auto", "c" or "python"."""
    raw = environ.get(ENV, "")
    value = raw.strip().lower() or "auto"
    if value not in CHOICES:
        raise CoreError(f"{ENV}={raw!r}: expected c, python or auto")
    return value


def load(wanted: str) -> ModuleType | None:
    """The compiled core's module, or None for the pure-Python core."""
    if wanted == "python":
        return None
    try:
        from .. import _core

        if not hasattr(_core, "SETTINGS"):
            # The directory of its C sources, imported as a namespace package: not built.
            raise ImportError("racewatch._core is not built")
    except ImportError as exc:
        if wanted == "c":
            raise CoreError(f"{ENV}=c, but the compiled core (racewatch._core) cannot be "
                            f"loaded: {exc}. Install racewatch where a C compiler and the "
                            f"Python headers are available, or set {ENV}=python") from None
        return None
    return _core


COMPILED = load(choice())
NAME = "c" if COMPILED is not None else "python"
