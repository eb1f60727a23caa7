"""``threading.Lock`` and ``threading.RLock``: release before the next acquire.

Both are replaced by classes wrapping the real lock (``_thread.lock`` and ``_thread.RLock``
are C types whose methods cannot be patched).  Locks made before ``racewatch.start()``
are plain and add no edges: start racewatch before the program makes its locks.  The
``_release_save``/``_acquire_restore`` pair of the RLock is what ``Condition.wait`` uses
to release and re-acquire its lock, so those edges come from here too; for a plain Lock,
``Condition`` falls back to ``release()``/``acquire()``.

The methods below are the pure-Python core's; with the compiled core, ``Lock`` and
``RLock`` inherit the same methods in C (racewatch/_core/locks.c: ``LockBase``,
``RLockBase``), since a program that takes a lock around each dict access pays for them
twice per access.
"""

from __future__ import annotations

import _thread
import threading

from ..runtime import stacks
from ..runtime.core import COMPILED
from ..runtime.settings import SETTINGS
from ..runtime.sync import LockInfo, SyncVar, acquire, hold, release_store, unhold
from ..runtime.tracked import _hide_frame
from .context import building_internals, thread_state

_allocate_lock = _thread.allocate_lock
_CRLock = _thread.RLock


def _on_acquire(lock) -> None:
    ts = thread_state()
    if ts is not None:
        acquire(lock._sync, ts)
        hold(ts, lock._info)


def _on_release(lock) -> None:
    ts = thread_state()
    if ts is not None:
        unhold(ts, lock._info)
        release_store(lock._sync, ts)


class _PyLockMethods:
    """A tracked ``threading.Lock``'s methods: the real lock's, plus the edges."""

    __slots__ = ("_lock", "_sync", "_info", "__weakref__")

    def _bind(self, lock, sync, info) -> None:
        self._lock = lock
        self._sync = sync
        self._info = info

    def acquire(self, blocking=True, timeout=-1):
        try:
            ok = self._lock.acquire(blocking, timeout)
        except BaseException as exc:
            _hide_frame(exc)
            raise
        if ok:
            _on_acquire(self)
        return ok

    def __enter__(self):
        self._lock.acquire()
        _on_acquire(self)
        return True

    def release(self):
        if self._lock.locked():
            _on_release(self)
        try:
            self._lock.release()
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __exit__(self, *exc_info):
        self.release()

    def locked(self):
        return self._lock.locked()

    def _at_fork_reinit(self):
        self._lock._at_fork_reinit()
        self._sync = SyncVar(self._sync.label)

    def __repr__(self):
        return repr(self._lock)


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
        try:
            ok = self._lock.acquire(blocking, timeout)
        except BaseException as exc:
            _hide_frame(exc)
            raise
        if ok:
            self._depth += 1
            if self._depth == 1:
                _on_acquire(self)
        return ok

    __enter__ = acquire

    def release(self):
        if self._lock._is_owned():
            if self._depth == 1:
                _on_release(self)
            self._depth -= 1
        try:
            self._lock.release()
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __exit__(self, *exc_info):
        self.release()

    def _is_owned(self):
        return self._lock._is_owned()

    def _release_save(self):
        if self._lock._is_owned():
            depth = self._depth
            self._depth = 0
            _on_release(self)
        else:
            depth = 0
        return self._lock._release_save(), depth

    def _acquire_restore(self, saved):
        state, depth = saved
        self._lock._acquire_restore(state)
        self._depth = depth
        _on_acquire(self)

    def _at_fork_reinit(self):
        self._lock._at_fork_reinit()
        self._sync = SyncVar(self._sync.label)
        self._depth = 0

    def __repr__(self):
        return repr(self._lock)


if COMPILED is not None:
    _LockMethods, _RLockMethods = COMPILED.LockBase, COMPILED.RLockBase
else:
    _LockMethods, _RLockMethods = _PyLockMethods, _PyRLockMethods


def _lock_info(kind: str) -> LockInfo:
    return LockInfo(kind, stacks.capture(min(8, SETTINGS.stack_depth)))


class Lock(_LockMethods):
    """A ``threading.Lock`` whose acquires and releases are happens-before edges."""

    __slots__ = ()

    def __new__(cls):
        if building_internals():
            return _allocate_lock()
        self = _LockMethods.__new__(cls)
        info = _lock_info("Lock")
        self._bind(_allocate_lock(), SyncVar(f"Lock#{info.serial}"), info)
        return self


class RLock(_RLockMethods):
    """A ``threading.RLock``; only the outermost acquire and release are edges."""

    __slots__ = ()

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


def install(patcher) -> None:
    patcher.replace(threading, "Lock", Lock)
    patcher.replace(threading, "RLock", RLock)


stacks.leave_out_frames_of(globals())
