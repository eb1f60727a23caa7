"""Signal handlers wait while a tracked lock changes hands (the pure-Python core only).

CPython runs a Python signal handler between two bytecodes, never inside a C function, and
a lock's methods are C: whatever a handler raises, plain ``with lock:`` either does not
take the lock or releases it on the way out.  The pure-Python core's lock methods are
bytecode, where a handler may run at any call, at a function's first instruction, and (on
3.10) as an ``except`` or ``finally`` clause begins.  A handler that raised there would
leave the lock held for good.  So in the *critical* part of a protected method's frame,
every Python-level handler is held back, and the method runs the held ones itself
(``run_held``) where plain Python would have run them:

* the release side (``protect_release``): from the method's first instruction until the
  real lock is released and the frame's ``settled`` local is set; the held handlers run
  then, right after the release, as after the C method's return;
* the acquire side (``protect_acquire``): from the moment the real acquire returned (the
  frame's ``taken`` list is no longer empty) to the end.  The blocking acquire itself stays
  interruptible, as the C one is (a handler that raises there leaves the lock free); the
  handlers held after it run before the method returns, and if one raises, the method
  gives the lock back before the exception leaves it (patches/locks.py).

Handlers are wrapped as the program installs them (``_signal.signal``, which
``signal.signal`` calls), and at start for those installed before (SIGINT's
``default_int_handler``); ``signal.getsignal`` and ``signal.signal`` hand back the program's
own handler.  With the compiled core the lock methods are C, and nothing here is installed.
"""

from __future__ import annotations

import _signal
import os
import sys
import threading
from types import CodeType

from ..runtime import forks, stacks
from ..runtime.core import COMPILED
from ..runtime.tracebacks import hide_racewatch_frames

_OWN_FILES = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_original_signal = _signal.signal
_original_getsignal = _signal.getsignal

# Handlers held back, oldest first, as (handler, signum).  Only the main thread runs Python
# signal handlers, so one list serves.
held: list = []
_RELEASE, _ACQUIRE = 1, 2
_protected: dict[CodeType, int] = {}


def protect_release(*functions) -> None:
    """Critical from the first instruction until the frame sets ``settled`` (once the real
    lock is released); each then calls ``run_held``."""
    _protected.update(dict.fromkeys((f.__code__ for f in functions), _RELEASE))


def protect_acquire(*functions) -> None:
    """Critical from the moment the frame's ``taken`` list is filled (by the real acquire)
    to its end; each calls ``run_held`` before it returns."""
    _protected.update(dict.fromkeys((f.__code__ for f in functions), _ACQUIRE))


# Walking the stack must stay cheap when signals come faster than their handlers run: each
# walk stops at the first frame of a handler being placed or run (``_Held.__call__``) and
# takes its answer, instead of walking again every frame the signals before left there.


def _critical(frame) -> bool:
    """True inside the critical part of a protected frame (only racewatch's own frames can
    lie between it and ``frame``)."""
    while frame is not None:
        code = frame.f_code
        if code is _HANDLER_CODE:
            placed = frame.f_locals.get("critical")
            if placed is not None:
                return placed
        else:
            kind = forks.lookup(_protected, code)
            if kind is _RELEASE:
                if "settled" not in frame.f_locals:
                    return True
            elif kind is _ACQUIRE:
                if frame.f_locals.get("taken"):
                    return True
            elif not code.co_filename.startswith(_OWN_FILES):
                return False
        frame = frame.f_back
    return False


def _program_frame(frame):
    """The innermost frame of the program's own: what a handler that CPython ran after the
    C method returned would have been handed."""
    while frame is not None and frame.f_code.co_filename.startswith(_OWN_FILES):
        if frame.f_code is _HANDLER_CODE:
            return frame.f_back
        frame = frame.f_back
    return frame


def run_held(frame=None) -> None:
    """Run the handlers held back, oldest first, handing each the program's frame; the
    first that raises ends the call (the rest wait for the next chance, as CPython leaves
    them for its next check)."""
    try:
        frame = _program_frame(sys._getframe(1) if frame is None else frame)
        while held:
            try:
                handler, signum = held.pop(0)
            except IndexError:  # a handler that ran in between emptied the list
                break
            handler(signum, frame)
    except BaseException as exc:
        hide_racewatch_frames(exc)
        raise


_deciding = False


class _Held:
    """A program's signal handler, held back while a tracked lock changes hands."""

    __slots__ = ("handler",)

    def __init__(self, handler):
        self.handler = handler

    def __call__(self, signum, frame):
        global _deciding
        if _deciding:
            # A signal while another is being placed: it waits for that one's decision.
            # Without this, signals that came faster than the decision would nest ever
            # deeper, each walking every frame the others left on the stack.
            held.append((self.handler, signum))
            return None
        _deciding = True
        try:
            critical = _critical(frame)
        finally:
            _deciding = False
        if critical:
            held.append((self.handler, signum))
            return None
        try:
            self.handler(signum, frame)
            if held:
                run_held(frame)  # those that came while this one was being placed
        except BaseException as exc:
            hide_racewatch_frames(exc)
            raise


_HANDLER_CODE = _Held.__call__.__code__


def _own(handler):
    return handler.handler if isinstance(handler, _Held) else handler


def signal(signalnum, handler, /):
    try:
        return _own(_original_signal(signalnum,
                                     _Held(handler) if callable(handler) else handler))
    except BaseException as exc:
        hide_racewatch_frames(exc)
        raise


def getsignal(signalnum, /):
    try:
        return _own(_original_getsignal(signalnum))
    except BaseException as exc:
        hide_racewatch_frames(exc)
        raise


signal.__doc__, getsignal.__doc__ = _original_signal.__doc__, _original_getsignal.__doc__


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _rewrap_installed(wrap: bool) -> None:
    """Wrap every Python-level handler now installed (``wrap``), or put back the program's
    own; only the main thread may install handlers."""
    if not _in_main_thread():
        return
    for signum in _signal.valid_signals():
        try:
            handler = _original_getsignal(signum)
        except (OSError, ValueError):
            continue
        if wrap and callable(handler) and not isinstance(handler, _Held):
            _original_signal(signum, _Held(handler))
        elif not wrap and isinstance(handler, _Held):
            _original_signal(signum, handler.handler)


def install(patcher) -> None:
    if COMPILED is not None:
        return
    patcher.replace(_signal, "signal", signal)
    patcher.replace(_signal, "getsignal", getsignal)
    _rewrap_installed(True)
    patcher.on_undo(lambda: _rewrap_installed(False))


stacks.leave_out_frames_of(globals())
