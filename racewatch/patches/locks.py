"""``threading.Lock`` and ``threading.RLock``: release before the next acquire.

Both hand out objects of racewatch's wrapping the real lock (``_thread.lock`` and
``_thread.RLock`` are C types whose methods cannot be patched).  Locks made before
``racewatch.start()`` are plain and add no edges: start racewatch before the program makes
its locks.  The ``_release_save``/``_acquire_restore`` pair of the RLock is what
``Condition.wait`` uses to release and re-acquire its lock, so those edges come from here
too; for a plain Lock, ``Condition`` falls back to ``release()``/``acquire()``.

What a program can see of a tracked lock is what it sees of a plain one (libraries check:
trio asserts ``lock.__class__.__module__ == "_thread"``): the type is named ``lock`` or
``RLock`` in module ``_thread``, ``__class__`` is the real type (so ``isinstance`` against
``_thread.LockType`` and ``_thread.RLock`` holds), ``repr`` is the real lock's with the
tracked lock's address, and pickling, copying and ``dir()`` are the real lock's, errors
included.  ``threading.RLock`` stays a function (threading's own, over a namespace where
its ``_CRLock`` is the tracked type).  ``type(lock) is _thread.LockType`` and
``threading.Lock is _thread.allocate_lock`` cannot hold (README, "What is known to differ").

Signals: CPython runs no Python signal handler inside a C method, so plain ``with lock:``
never leaves a lock held because a handler raised.  The tracked methods keep that promise:
an exception on the acquire side (a handler's, or any other) leaves the lock free, as if
the acquire had not happened; on the release side the real release always happens, and
with the pure-Python core the handlers wait until it has (patches/signals.py).

The methods below are the pure-Python core's; with the compiled core, the tracked types
inherit the same methods in C (racewatch/_core/locks.c: ``LockBase``, ``RLockBase``), where
no handler can run between the real lock's operation and the bookkeeping, and a program
that takes a lock around each dict access pays for them twice per access.
"""

from __future__ import annotations

import _thread
import builtins
import sys
import threading
from types import FunctionType

from ..runtime import forks, objects, stacks
from ..runtime.core import COMPILED
from ..runtime.settings import SETTINGS
from ..runtime.sync import LockInfo, SyncVar, acquire_lock, hold, release_store, unhold
from ..runtime.tracebacks import hide_racewatch_frames
from .context import building_internals, thread_state
from .signals import held, protect_acquire, protect_release, run_held

# What threading.Lock is on this version: the factory function up to 3.12, the type on 3.13.
_plain_lock = _thread.LockType if sys.version_info >= (3, 13) else _thread.allocate_lock
_CRLock = _thread.RLock
_lock_acquire, _lock_release = _thread.LockType.acquire, _thread.LockType.release
_rlock_acquire, _rlock_release = _CRLock.acquire, _CRLock.release


def _on_acquire(lock) -> None:
    ts = thread_state()
    if ts is not None:
        acquire_lock(lock._sync, ts)
        hold(ts, lock._info)


def _on_release(lock) -> None:
    ts = thread_state()
    if ts is not None:
        unhold(ts, lock._info)
        release_store(lock._sync, ts)


# The pure-Python methods.  On the acquire side, ``taken.extend(map(real_acquire, ...))``
# calls the real acquire and keeps what it returned with no bytecode in between, so that
# the frame knows whether it holds the lock: signals.py holds handlers back from then on,
# they run at the end (``while held: run_held()``: on 3.10 a handler can run as a call
# returns), and the ``except`` gives the lock back when one raises.  On the release side,
# handlers are held back from the first instruction, the real release sits in a
# ``finally``, and the held handlers run once the frame is ``settled``.


class _PyLockMethods:
    """A tracked ``threading.Lock``'s methods: the real lock's, plus the edges."""

    __slots__ = ("_lock", "_sync", "_info", "__weakref__")

    def _bind(self, lock, sync, info) -> None:
        self._lock = lock
        self._sync = sync
        self._info = info

    def acquire(self, blocking=True, timeout=-1):
        taken = []
        try:
            taken.extend(map(_lock_acquire, (self._lock,), (blocking,), (timeout,)))
            if taken[0]:
                _on_acquire(self)
            while held:
                run_held()
        except BaseException as exc:
            if taken and taken[0]:
                self.release()
            hide_racewatch_frames(exc)
            raise
        return taken[0]

    def __enter__(self):
        taken = []
        try:
            taken.extend(map(_lock_acquire, (self._lock,)))
            _on_acquire(self)
            while held:
                run_held()
        except BaseException as exc:
            if taken:
                self.release()
            hide_racewatch_frames(exc)
            raise
        return True

    def release(self):
        try:
            try:
                if self._lock.locked():
                    _on_release(self)
            finally:
                _lock_release(self._lock)
        except BaseException as exc:
            hide_racewatch_frames(exc)
            raise
        finally:
            settled = True  # noqa: F841 -- read by signals.py in this frame's locals
            if held:
                run_held()

    def __exit__(self, *exc_info):
        try:
            self.release()
        except BaseException as exc:
            hide_racewatch_frames(exc)
            raise
        finally:
            settled = True  # noqa: F841
            if held:
                run_held()

    def locked(self):
        return self._lock.locked()

    def _at_fork_reinit(self):
        self._lock._at_fork_reinit()
        self._sync = SyncVar(self._sync.label)

    def __repr__(self):
        return _with_own_address(repr(self._lock), self._lock, self)


class _PyRLockMethods:
    """A tracked ``threading.RLock``'s methods; only the outermost acquire and release are
    edges."""

    __slots__ = ("_lock", "_sync", "_info", "_depth", "__weakref__")

    def _bind(self, lock, sync, info) -> None:
        self._lock = lock
        self._sync = sync
        self._info = info
        self._depth = 0  # changed only by the owner, while it holds the lock

    def acquire(self, blocking=True, timeout=-1):
        taken = []
        counted = False
        try:
            taken.extend(map(_rlock_acquire, (self._lock,), (blocking,), (timeout,)))
            if taken[0]:
                self._depth += 1
                counted = True
                if self._depth == 1:
                    _on_acquire(self)
            while held:
                run_held()
        except BaseException as exc:
            if taken and taken[0]:
                if counted:
                    self.release()
                else:
                    _rlock_release(self._lock)
            hide_racewatch_frames(exc)
            raise
        return taken[0]

    __enter__ = acquire

    def release(self):
        try:
            try:
                if self._lock._is_owned():
                    depth = self._depth
                    self._depth = depth - 1  # before the real release: another thread may take it
                    if depth == 1:
                        _on_release(self)
            finally:
                _rlock_release(self._lock)
        except BaseException as exc:
            hide_racewatch_frames(exc)
            raise
        finally:
            settled = True  # noqa: F841 -- read by signals.py in this frame's locals
            if held:
                run_held()

    def __exit__(self, *exc_info):
        try:
            self.release()
        except BaseException as exc:
            hide_racewatch_frames(exc)
            raise
        finally:
            settled = True  # noqa: F841
            if held:
                run_held()

    def _is_owned(self):
        return self._lock._is_owned()

    def _release_save(self):
        try:
            depth = 0
            if self._lock._is_owned():
                depth, self._depth = self._depth, 0
                _on_release(self)
            return self._lock._release_save(), depth
        finally:
            settled = True  # noqa: F841
            if held:
                run_held()

    def _acquire_restore(self, saved):
        # Uninterruptible, as the C method is: the real one blocks without running handlers.
        try:
            state, depth = saved
            self._lock._acquire_restore(state)
            self._depth = depth
            _on_acquire(self)
        finally:
            settled = True  # noqa: F841
            if held:
                run_held()

    def _at_fork_reinit(self):
        self._lock._at_fork_reinit()
        self._sync = SyncVar(self._sync.label)
        self._depth = 0

    def __repr__(self):
        return _with_own_address(repr(self._lock), self._lock, self)


protect_acquire(_PyLockMethods.acquire, _PyLockMethods.__enter__, _PyRLockMethods.acquire)
protect_release(_PyLockMethods.release, _PyLockMethods.__exit__, _PyRLockMethods.release,
                _PyRLockMethods.__exit__, _PyRLockMethods._release_save,
                _PyRLockMethods._acquire_restore)


def _with_own_address(text: str, real, tracked) -> str:
    """The real lock's repr, naming the tracked lock's address (which ``id()`` gives)."""
    return text.replace(f" at {id(real):#x}>", f" at {id(tracked):#x}>")


if COMPILED is not None:
    _LockMethods, _RLockMethods = COMPILED.LockBase, COMPILED.RLockBase
else:
    _LockMethods, _RLockMethods = _PyLockMethods, _PyRLockMethods


# -- passing for the _thread types -------------------------------------------------------------

# tracked type -> the type it passes for
_STANDS_FOR: dict[type, type] = {}


class _PassesFor(type):
    """The tracked lock types' metaclass.  ``__name__`` is the plain type's (``lock``), while
    the name CPython puts in error messages is the dotted one (``'_thread.lock' object has
    no attribute ...``), as for the C type.  On 3.13 ``threading.Lock`` is a type and
    ``isinstance(lock, threading.Lock)`` holds for any lock: so it does here for locks
    racewatch leaves plain (made before the start, or inside a primitive)."""

    @property
    def __name__(cls):
        return cls.__qualname__

    def __instancecheck__(cls, obj):
        plain = forks.lookup(_STANDS_FOR, cls, ())
        return type.__instancecheck__(cls, obj) or isinstance(obj, plain)

    def __subclasscheck__(cls, sub):
        plain = forks.lookup(_STANDS_FOR, cls, ())
        return type.__subclasscheck__(cls, sub) or issubclass(sub, plain)


class _FromRealLock:
    """An attribute read from the real lock: pickling, copying and ``dir()`` see exactly what
    they see of a plain lock, errors included (``cannot pickle '_thread.lock' object``)."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return getattr(obj._lock, self.name)


def _stand_in_class(self):
    cls = type(self)
    return forks.lookup(_STANDS_FOR, cls, cls)


def _set_class(self, value):
    self._lock.__class__ = value  # what assigning it does to a plain lock (a TypeError)


def _passes_for(cls: type, plain: type) -> type:
    _STANDS_FOR[cls] = plain
    type.__dict__["__name__"].__set__(cls, f"{plain.__module__}.{plain.__qualname__}")
    return cls


class TrackedLock(_LockMethods, metaclass=_PassesFor):
    """A ``threading.Lock`` whose acquires and releases are happens-before edges."""

    __slots__ = ()
    __module__ = "_thread"
    __qualname__ = _thread.LockType.__qualname__
    __doc__ = _thread.LockType.__doc__
    __class__ = property(_stand_in_class, _set_class)
    __reduce_ex__ = _FromRealLock()
    __reduce__ = _FromRealLock()
    __getstate__ = _FromRealLock()
    __dir__ = _FromRealLock()

    def __new__(cls, *args, **kwargs):
        lock = _plain_lock(*args, **kwargs)  # its own errors for arguments
        if building_internals():
            return lock
        self = _LockMethods.__new__(cls)
        info = _lock_info("Lock")
        self._bind(lock, SyncVar(f"Lock#{info.serial}"), info)
        return self


class TrackedRLock(_RLockMethods, metaclass=_PassesFor):
    """A ``threading.RLock``; only the outermost acquire and release are edges."""

    __slots__ = ()
    __module__ = "_thread"
    __qualname__ = _CRLock.__qualname__
    __doc__ = _CRLock.__doc__
    __class__ = property(_stand_in_class, _set_class)
    __reduce_ex__ = _FromRealLock()
    __reduce__ = _FromRealLock()
    __getstate__ = _FromRealLock()
    __dir__ = _FromRealLock()

    def __new__(cls, *args, **kwargs):
        if building_internals():
            return _CRLock(*args, **kwargs)
        self = _RLockMethods.__new__(cls)
        info = _lock_info("RLock")
        self._bind(_CRLock(*args, **kwargs), SyncVar(f"RLock#{info.serial}"), info)
        return self

    def __getattr__(self, name):
        # _recursion_count (3.12+), locked (3.14+) and whatever else the C RLock offers.
        return getattr(self._lock, name)


objects.LOCK_TYPES.update((TrackedLock, TrackedRLock))


_passes_for(TrackedLock, _thread.LockType)
_passes_for(TrackedRLock, _CRLock)

# The real lock's old aliases (up to 3.13 at least), tracked as well.
for _alias, _method in (("acquire_lock", "acquire"), ("release_lock", "release"),
                        ("locked_lock", "locked")):
    if hasattr(_thread.LockType, _alias):
        setattr(TrackedLock, _alias, getattr(_LockMethods, _method))


def _lock_info(kind: str) -> LockInfo:
    return LockInfo(kind, stacks.capture(min(8, SETTINGS.stack_depth)))


def _rlock_factory(original: FunctionType) -> FunctionType:
    """``threading.RLock`` itself (its code, name, docstring, warnings and frame), over a
    namespace where the ``_CRLock`` it calls is the tracked type."""
    code = original.__code__
    namespace = {name: getattr(threading, name) for name in code.co_names
                 if hasattr(threading, name)}
    namespace.update(__name__=threading.__name__, __builtins__=builtins,
                     _CRLock=TrackedRLock)
    factory = FunctionType(code, namespace, original.__name__, original.__defaults__,
                           original.__closure__)
    factory.__qualname__, factory.__doc__ = original.__qualname__, original.__doc__
    factory.__kwdefaults__ = original.__kwdefaults__
    stacks.leave_out_frames_of(namespace)
    return factory


RLock = _rlock_factory(threading.RLock)


def install(patcher) -> None:
    patcher.replace(threading, "Lock", TrackedLock)
    patcher.replace(threading, "RLock", RLock)


stacks.leave_out_frames_of(globals())
