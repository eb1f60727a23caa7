"""Call stacks: captured as (code, offset) pairs, interned, turned into lines only for reports.

Capturing is on the detector's slow path, so it stays cheap: it reads ``f_code`` and
``f_lasti`` (both O(1)) and never ``f_lineno`` (a line-table scan).  Identical stacks are
interned, keyed on ``id(code)``: hashing a code object costs 0.2-3.8 µs on CPython
3.10-3.13, an id costs nothing, and the interned stack holds its code objects alive, so
an id in the table cannot be reused by another code object while the entry exists.
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
from types import CodeType

from ..reports.model import Frame
from .core import COMPILED

Stack = tuple  # tuple[tuple[CodeType, int], ...], innermost frame first

EMPTY_STACK: Stack = ()

_getframe = sys._getframe
_interned: dict[tuple, Stack] = {}
_INTERN_LIMIT = 200_000

# ids of the globals dicts of racewatch's own modules whose frames are left out of every
# captured stack; the dicts are kept alive here, so that an id cannot be reused.
_own_globals: set[int] = set()
_own_globals_kept: list[dict] = []

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Where racewatch's files, and those of the libraries whose code runs between the program
# and racewatch (``leave_out_library``), begin: their frames are left out of resolved stacks
# and of the tracebacks racewatch cleans.
_own_file_prefixes: tuple[str, ...] = (_PACKAGE_DIR + os.sep,)


# ids of the globals of modules where the program's stack begins (the runner that execs
# the script): a captured stack ends there, leaving out the launcher below it.
_boundary_globals: set[int] = set()


def leave_out_frames_of(module_globals: dict) -> None:
    """Leave the frames of the module owning ``module_globals`` out of captured stacks."""
    _own_globals.add(id(module_globals))
    _own_globals_kept.append(module_globals)


def end_stacks_at_frames_of(module_globals: dict) -> None:
    """Captured stacks end at a frame of this module (which is itself left out)."""
    leave_out_frames_of(module_globals)
    _boundary_globals.add(id(module_globals))


if sys.version_info >= (3, 11):
    def hide_own_frames(exc: BaseException) -> None:
        """Drop racewatch's frames from ``exc``'s traceback before a bare ``raise``, so that
        a program sees the traceback plain Python gives it."""
        own = _own_globals
        kept = []
        tb = exc.__traceback__
        while tb is not None:
            if id(tb.tb_frame.f_globals) not in own:
                kept.append(tb)
            tb = tb.tb_next
        for a, b in zip(kept, kept[1:], strict=False):
            a.tb_next = b
        if kept:
            kept[-1].tb_next = None
        exc.__traceback__ = kept[0] if kept else None
else:
    def hide_own_frames(exc: BaseException) -> None:
        """3.10 re-raises the traceback saved at the ``except``: nothing to do here (one
        racewatch frame shows, as the README says)."""



def leave_out_library(modules) -> None:
    """Leave a library racewatch runs on out of every stack and traceback it shows.

    For a library whose code stands between the program and racewatch: wrapt, whose
    wrappers are Python classes wherever its compiled part is missing (free-threaded
    builds, ``WRAPT_DISABLE_EXTENSIONS``).  ``modules`` are the library's loaded modules:
    their frames are left out of captured stacks, and files under their package's
    directory out of resolved stacks and cleaned tracebacks.
    """
    global _own_file_prefixes
    for module in modules:
        leave_out_frames_of(vars(module))
        file = getattr(module, "__file__", None)
        if file:
            prefix = os.path.dirname(os.path.abspath(file)) + os.sep
            if prefix not in _own_file_prefixes:
                _own_file_prefixes = (*_own_file_prefixes, prefix)


def is_own_file(filename: str) -> bool:
    """True for a source file of racewatch, or of a library it runs on (``leave_out_library``)."""
    return filename.startswith(_own_file_prefixes)


def end_stacks_at_code(code: CodeType) -> None:
    """Captured stacks end at a frame running ``code`` (which is itself left out)."""
    global _end_codes
    _end_codes_kept.append(code)
    _end_codes = _end_codes | {id(code)}


# ids of the code objects whose frames end a stack (kept alive in _end_codes_kept):
# threading's bootstrap of every thread, below which every stack of the thread is the
# same, and which ``resolve`` leaves out.
_end_codes: frozenset[int] = frozenset()
_end_codes_kept: list[CodeType] = []


def capture(depth: int, frame=None) -> Stack:
    """The interned stack of the caller (or of ``frame``), at most ``depth`` frames deep."""
    f = _getframe(1) if frame is None else frame
    own = _own_globals
    boundary = _boundary_globals
    end = _end_codes
    key = []
    n = 0
    while f is not None:
        if id(f.f_code) in end:
            break
        g = id(f.f_globals)
        if g not in own:
            key.append(id(f.f_code))
            key.append(f.f_lasti)
            n += 1
            if n >= depth:
                break
        elif g in boundary:
            break
        f = f.f_back
    tkey = tuple(key)
    stack = _interned.get(tkey)
    if stack is not None:
        return stack
    # Second walk, now keeping the code objects: a miss is rare (once per distinct stack).
    f = _getframe(1) if frame is None else frame
    pairs = []
    while f is not None and len(pairs) < n:
        if id(f.f_globals) not in own:
            pairs.append((f.f_code, f.f_lasti))
        f = f.f_back
    stack = tuple(pairs)
    if len(_interned) >= _INTERN_LIMIT:
        # Records keep their stacks alive on their own; the table only shares them.
        _interned.clear()
    _interned[tkey] = stack
    return stack


# (id(code), offset) -> (code, line); the code is kept to check that the id was not reused.
_line_cache: dict[tuple[int, int], tuple[CodeType, int]] = {}


def line_of(code: CodeType, offset: int) -> int:
    """The source line of the instruction at byte ``offset`` in ``code``."""
    key = (id(code), offset)
    cached = _line_cache.get(key)
    if cached is not None and cached[0] is code:
        return cached[1]
    line = code.co_firstlineno
    for start, end, lineno in code.co_lines():
        if start <= offset < end:
            if lineno is not None:
                line = lineno
            break
    if len(_line_cache) >= _INTERN_LIMIT:
        _line_cache.clear()
    _line_cache[key] = (code, line)
    return line


def function_name(code: CodeType) -> str:
    """The qualified name where the interpreter has one (3.11+), else the plain name."""
    return getattr(code, "co_qualname", code.co_name)


# Modules whose frames at the outer end of a stack are the interpreter's plumbing: the
# bootstrap of every thread, and runpy under ``-m``.
_PLUMBING_FILES = frozenset(os.path.normcase(os.path.abspath(m.__file__))
                            for m in (threading, runpy))


def resolve(stack: Stack) -> list[Frame]:
    """The frames of ``stack``, innermost first, racewatch's own frames left out.

    The frames of threading's bootstrap (``_bootstrap``, ``_bootstrap_inner``, ``run``)
    at the outer end of a thread's stack, runpy's under ``-m`` and pytest's and pluggy's
    under pytest are left out too: every stack has them and they say nothing (a
    thread's report says where it was started instead).
    """
    frames = []
    for code, offset in stack:
        filename = code.co_filename
        # The import system's frames, left out as CPython leaves them out of tracebacks.
        if is_own_file(filename) or filename.startswith("<frozen importlib._"):
            continue
        frames.append(Frame(filename, line_of(code, offset), function_name(code)))
    while len(frames) > 1 and _is_plumbing(frames[-1].file):
        frames.pop()
    return frames


_PLUMBING_DIRS = tuple(f"{os.sep}{name}{os.sep}" for name in ("_pytest", "pluggy"))


def _is_plumbing(filename: str) -> bool:
    return (os.path.normcase(filename) in _PLUMBING_FILES
            or filename.startswith("<frozen runpy")
            or any(d in filename for d in _PLUMBING_DIRS))


def innermost_line(stack: Stack) -> tuple[str, int] | None:
    """(file, line) of the innermost frame outside racewatch, or None."""
    for code, offset in stack:
        if not is_own_file(code.co_filename):
            return code.co_filename, line_of(code, offset)
    return None


if COMPILED is not None:
    # The same capture, walking the frames in C; the compiled core keeps its own set of
    # left-out and boundary modules (and its own intern table).
    capture = COMPILED.capture
    leave_out_frames_of = COMPILED.leave_out_frames_of
    end_stacks_at_frames_of = COMPILED.end_stacks_at_frames_of
    end_stacks_at_code = COMPILED.end_stacks_at_code

leave_out_frames_of(globals())
# Every thread's stack ends at threading's bootstrap (its original function, whatever
# wraps it later): the frames below are the same in each, and resolve() leaves them out.
_bootstrap_inner = threading.Thread.__dict__["_bootstrap_inner"]
while hasattr(_bootstrap_inner, "__wrapped__"):
    _bootstrap_inner = _bootstrap_inner.__wrapped__
end_stacks_at_code(_bootstrap_inner.__code__)
del _bootstrap_inner
# The package's API (racewatch.acquire() and the like) stands between the program and the
# runtime; the package is always imported before this module.
leave_out_frames_of(sys.modules[__package__.rpartition(".")[0]].__dict__)
