"""Module globals that the module's own functions rebind (``global x`` somewhere in it):
each name a location of the module (a shadow of kind "module").

The rewrite knows which names they are.  It starts the module with
``track_globals(names)``, wraps each read of such a name in ``gread("x", x)`` (which
returns the value Python's own lookup found: a missing name raises NameError as before),
and follows each statement that binds one with ``gwrite("x")`` (``gdelete`` for ``del``,
``gupdate`` for ``x += ...``: a read, then a write; ``gstore("x", v)`` inside a walrus).
A write is checked once it is done, in the same epoch as the store itself: nothing
between the two can synchronize.  Globals never rebound after import (functions,
classes, constants) cost nothing: their names are not rewritten.

Other modules read and write ``module.x``: for that, a module with tracked names becomes
an instance of ``TrackedModule``, a subclass of the module type (``__class__`` assignment,
which Python allows for modules), whose attribute access checks those names.

The functions find the module by their caller's globals.
"""

from __future__ import annotations

import _thread
import sys
import types

from . import shadow, stacks, unset
from .core import COMPILED
from .settings import SETTINGS, WATCH_GLOBAL
from .shadow import Shadow

_getframe = sys._getframe
CREATION_STACK_DEPTH = 8

# id(globals dict) -> (globals dict, Shadow, frozenset of tracked names)
_modules: dict[int, tuple] = {}
_lock = _thread.RLock()


def track_globals(names) -> None:
    """At the top of an instrumented module: watch these of its globals."""
    track_globals_of(_getframe(1).f_globals, names)


def track_globals_of(g: dict, names) -> None:
    """The module whose dict is ``g`` is instrumented, and these of its globals watched."""
    names = frozenset(names)
    name = g.get("__name__")
    sh = Shadow("module", stacks.capture(min(CREATION_STACK_DEPTH, SETTINGS.stack_depth)),
                name if isinstance(name, str) else "?")
    with _lock:
        entry = _modules.get(id(g))
        if entry is not None and entry[0] is g:
            names = entry[2] | names
            sh = entry[1]
        _modules[id(g)] = (g, sh, names)
    module = sys.modules.get(name) if isinstance(name, str) and names else None
    if module is not None and getattr(module, "__dict__", None) is g \
            and type(module) is types.ModuleType:
        try:
            module.__class__ = TrackedModule
        except TypeError:  # a module type that will not have it: module.x goes unchecked
            pass


def instrumented(g) -> bool:
    """Whether ``g`` are the globals of an instrumented module."""
    entry = _modules.get(id(g))
    return entry is not None and entry[0] is g


def _check(g: dict, name: str, op: str, write: bool, found_unset: bool = False) -> None:
    if not SETTINGS.watch & WATCH_GLOBAL:
        return
    ts = shadow.enter_thread()   # first: a lone thread checks nothing, whatever the module
    if ts is None:
        return
    entry = _modules.get(id(g))
    if entry is None or entry[0] is not g:
        return
    sh = shadow.fresh(entry[1])
    if write:
        shadow.write(ts, sh, g, name, op)
    else:
        shadow.read(ts, sh, name, op)
        if found_unset:  # the evidence of a lazy initialization (see racewatch.runtime.unset)
            unset.saw_unset(sh, name)


def gread(name: str, value):
    """A read of global ``name`` (its ``value`` already found by Python): returns it."""
    _check(_getframe(1).f_globals, name, "load", False, value is None)
    return value


def gwrite(name: str) -> None:
    """The statement before bound global ``name``."""
    _check(_getframe(1).f_globals, name, "store", True)


def gdelete(name: str) -> None:
    _check(_getframe(1).f_globals, name, "delete", True)


def gupdate(name: str) -> None:
    """``x += ...`` on global ``name``: a read and a write; a read only when ``x`` is a
    tracked container, whose in-place operator (``seen |= new``) changes it and returns it
    (the name is bound to the object it had)."""
    g = _getframe(1).f_globals
    _check(g, name, "load", False)
    if type(g.get(name)) not in _tracked_types():
        _check(g, name, "store", True)


def _tracked_types():
    from .tracked import PUBLIC_TYPE  # tracked imports this module

    return PUBLIC_TYPE


def gstore(name: str, value):
    """``(x := value)`` on global ``name``: checked, then ``value`` goes on to the store."""
    _check(_getframe(1).f_globals, name, "store", True)
    return value


class TrackedModule(types.ModuleType):
    """A module whose tracked globals are checked when other modules use ``module.x``."""

    __slots__ = ()

    def __getattribute__(self, name):
        value = types.ModuleType.__getattribute__(self, name)
        if type(name) is str and SETTINGS.enabled and instrumented(_getframe(1).f_globals):
            g = types.ModuleType.__getattribute__(self, "__dict__")
            entry = _modules.get(id(g))
            if entry is not None and name in entry[2]:
                _check(g, name, "load", False)
        return value

    def __setattr__(self, name, value):
        types.ModuleType.__setattr__(self, name, value)
        _after_set(self, name, "store")

    def __delattr__(self, name):
        types.ModuleType.__delattr__(self, name)
        _after_set(self, name, "delete")


def _after_set(module, name, op: str) -> None:
    if type(name) is str and SETTINGS.enabled and instrumented(_getframe(2).f_globals):
        g = types.ModuleType.__getattribute__(module, "__dict__")
        entry = _modules.get(id(g))
        if entry is not None and name in entry[2]:
            _check(g, name, op, True)


TrackedModule.__name__ = TrackedModule.__qualname__ = "module"
TrackedModule.__module__ = "builtins"


def forget_modules() -> None:
    """``racewatch.stop()``: no module's globals are watched any more."""
    with _lock:
        _modules.clear()


def reinit_after_fork() -> None:
    global _lock
    _lock = _thread.RLock()


if COMPILED is not None:
    # The same in C (racewatch/_core/globals.c): a read costs a call and a lookup.
    track_globals, track_globals_of = COMPILED.track_globals, COMPILED.track_globals_of
    gread, gwrite, gdelete = COMPILED.gread, COMPILED.gwrite, COMPILED.gdelete
    gupdate, gstore = COMPILED.gupdate, COMPILED.gstore
    TrackedModule = COMPILED.TrackedModule
    forget_modules = COMPILED.forget_modules

stacks.leave_out_frames_of(globals())
