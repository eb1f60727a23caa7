"""Tracebacks as plain Python would show them: without racewatch's frames.

The tracked types hide their own frame on 3.11+ (``tracked._hide_frame``); what is left
(3.10, the import hook's loader, the patched primitives) is taken out here, for the
exceptions a program does not catch, before they reach ``sys.excepthook`` or
``threading.excepthook``.  When racewatch's loader was on the way, the import system's
frames are taken out too, as CPython itself trims them from an import's traceback.
"""

from __future__ import annotations

import sys
import threading

from .stacks import is_own_file

_IMPORTLIB = "<frozen importlib._bootstrap"


def without_racewatch_frames(tb):
    """``tb`` relinked without racewatch's frames (the traceback objects are reused)."""
    frames = []
    saw_racewatch = False
    t = tb
    while t is not None:
        if is_own_file(t.tb_frame.f_code.co_filename):
            saw_racewatch = True
        else:
            frames.append(t)
        t = t.tb_next
    if not saw_racewatch:
        return tb
    frames = [t for t in frames if not t.tb_frame.f_code.co_filename.startswith(_IMPORTLIB)]
    for a, b in zip(frames, frames[1:], strict=False):
        a.tb_next = b
    if frames:
        frames[-1].tb_next = None
        return frames[0]
    return None


if sys.version_info >= (3, 11):
    def hide_racewatch_frames(exc: BaseException) -> None:
        """Take racewatch's frames out of ``exc``'s traceback before a bare ``raise``: the
        exception leaves a patched method as it leaves the C method it stands for."""
        exc.__traceback__ = without_racewatch_frames(exc.__traceback__)
else:
    def hide_racewatch_frames(exc: BaseException) -> None:
        """3.10 re-raises the traceback saved at the ``except``: nothing to do here."""


def clean(exc: BaseException | None, seen=None) -> None:
    """Clean ``exc``'s traceback and those of the exceptions chained to it."""
    seen = set() if seen is None else seen
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc.__traceback__ = without_racewatch_frames(exc.__traceback__)
        if exc.__cause__ is not None:
            clean(exc.__cause__, seen)
        exc = exc.__context__


class ExceptHooks:
    """Installs cleaning wrappers around the current excepthooks, and takes them off."""

    def __init__(self):
        self._saved = None

    def install(self) -> None:
        if self._saved is not None:
            return
        previous_sys, previous_threading = sys.excepthook, threading.excepthook

        def sys_hook(exc_type, exc, tb):
            clean(exc)
            previous_sys(exc_type, exc, exc.__traceback__ if exc is not None else tb)

        def threading_hook(args):
            exc = args.exc_value
            if exc is not None:
                clean(exc)
                args = threading.ExceptHookArgs(
                    (args.exc_type, exc, exc.__traceback__, args.thread))
            previous_threading(args)

        self._saved = (previous_sys, previous_threading, sys_hook, threading_hook)
        sys.excepthook = sys_hook
        threading.excepthook = threading_hook

    def uninstall(self) -> None:
        if self._saved is None:
            return
        previous_sys, previous_threading, sys_hook, threading_hook = self._saved
        # Put back only what is still ours: the program may have set its own since.
        if sys.excepthook is sys_hook:
            sys.excepthook = previous_sys
        if threading.excepthook is threading_hook:
            threading.excepthook = previous_threading
        self._saved = None
